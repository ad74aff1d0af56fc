package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testResolver resolves against a fixed set of physical resources.
func testResolver() *resolver {
	res := map[string]physical{
		"Bucket": {Ref: "p-bucket", Attrs: map[string]string{"Arn": "arn:aws:s3:::p-bucket"}},
		"Queue":  {Ref: "http://q/123/p-queue", Attrs: map[string]string{"Arn": "arn:aws:sqs:us-east-1:123456789012:p-queue", "QueueName": "p-queue"}},
		"Key":    {Ref: "key-1", Attrs: map[string]string{"Arn": "arn:aws:kms:us-east-1:123456789012:key/key-1"}},
	}
	return &resolver{
		pseudo: map[string]any{"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "p"},
		params: map[string]parameter{
			"BootstrapVersion": {Type: "AWS::SSM::Parameter::Value<String>", Default: "/cdk-bootstrap/hnb659fds/version"},
			"Stage":            {Type: "String", Default: "dev"},
			"Zones":            {Type: "CommaDelimitedList", Default: "a, b"},
			"NoDefault":        {Type: "String"},
		},
		overrides: map[string]string{"Stage": "local"},
		conditions: map[string]any{
			"IsLocal":   map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "local"}},
			"IsProd":    map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "prod"}},
			"LocalOnly": map[string]any{"Fn::And": []any{map[string]any{"Condition": "IsLocal"}, map[string]any{"Fn::Not": []any{map[string]any{"Condition": "IsProd"}}}}},
			"Either":    map[string]any{"Fn::Or": []any{map[string]any{"Condition": "IsProd"}, map[string]any{"Condition": "IsLocal"}}},
			"Loop":      map[string]any{"Fn::Not": []any{map[string]any{"Condition": "Loop"}}},
		},
		mappings: map[string]map[string]map[string]any{"Sizes": {"local": {"Memory": json.Number("256")}}},
		resource: func(id string) (physical, error) {
			if p, ok := res[id]; ok {
				return p, nil
			}
			if id == "Role" {
				return physical{}, fmt.Errorf("Role (AWS::IAM::Role) is not on the emulator: IAM")
			}
			return physical{}, fmt.Errorf("%s is neither a resource nor a parameter of the template", id)
		},
	}
}

// mustJSON decodes a test value written as JSON, numbers kept exact.
func mustJSON(t *testing.T, s string) any {
	t.Helper()
	tpl, err := parseTemplate([]byte(`{"Resources":{"X":{"Type":"T","Properties":{"v":` + s + `}}}}`))
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return tpl.Resources["X"].Properties["v"]
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // JSON of the resolved value
	}{
		{"Ref to a bucket is its name", `{"Ref":"Bucket"}`, `"p-bucket"`},
		{"Ref to a queue is its URL", `{"Ref":"Queue"}`, `"http://q/123/p-queue"`},
		{"Ref to a pseudo parameter", `{"Ref":"AWS::AccountId"}`, `"123456789012"`},
		{"Ref to a parameter takes its override", `{"Ref":"Stage"}`, `"local"`},
		{"Ref to a parameter takes its Default", `{"Ref":"BootstrapVersion"}`, `"/cdk-bootstrap/hnb659fds/version"`},
		{"Ref to a list parameter is a list", `{"Ref":"Zones"}`, `["a","b"]`},
		{"GetAtt list form", `{"Fn::GetAtt":["Queue","Arn"]}`, `"arn:aws:sqs:us-east-1:123456789012:p-queue"`},
		{"GetAtt string form", `{"Fn::GetAtt":"Queue.QueueName"}`, `"p-queue"`},
		{"Join", `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}`, `"arn:aws:iam::123456789012:root"`},
		{"Join of numbers", `{"Fn::Join":["-",[1,true,"x"]]}`, `"1-true-x"`},
		{"Join over a Split", `{"Fn::Join":["/",{"Fn::Split":[",","a,b,c"]}]}`, `"a/b/c"`},
		{"Sub with pseudo parameters", `{"Fn::Sub":"cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}`, `"cdk-hnb659fds-assets-123456789012-us-east-1"`},
		{"Sub with a resource and an attribute", `{"Fn::Sub":"${Bucket}/${Queue.Arn}"}`, `"p-bucket/arn:aws:sqs:us-east-1:123456789012:p-queue"`},
		{"Sub with variables", `{"Fn::Sub":["${Name}-${AWS::StackName}",{"Name":{"Ref":"Bucket"}}]}`, `"p-bucket-p"`},
		{"Sub keeps ${!literal}", `{"Fn::Sub":"${!Literal} and ${Stage}"}`, `"${Literal} and local"`},
		{"Select", `{"Fn::Select":[1,["a","b","c"]]}`, `"b"`},
		{"Select with a string index over a Split", `{"Fn::Select":["2",{"Fn::Split":[":",{"Fn::GetAtt":["Queue","Arn"]}]}]}`, `"sqs"`},
		{"If true", `{"Fn::If":["IsLocal","yes","no"]}`, `"yes"`},
		{"If false", `{"Fn::If":["IsProd","yes","no"]}`, `"no"`},
		{"If with And, Not and Condition", `{"Fn::If":["LocalOnly",1,2]}`, `1`},
		{"If with Or", `{"Fn::If":["Either","y","n"]}`, `"y"`},
		{"NoValue drops a key", `{"a":{"Fn::If":["IsProd","x",{"Ref":"AWS::NoValue"}]},"b":"kept"}`, `{"b":"kept"}`},
		{"NoValue drops a list element", `["a",{"Ref":"AWS::NoValue"},"c"]`, `["a","c"]`},
		{"FindInMap", `{"Fn::FindInMap":["Sizes",{"Ref":"Stage"},"Memory"]}`, `256`},
		{"Base64", `{"Fn::Base64":"hi"}`, `"aGk="`},
		{"nested objects resolve everywhere", `{"Statement":[{"Resource":[{"Fn::GetAtt":["Bucket","Arn"]},{"Fn::Join":["",[{"Fn::GetAtt":["Bucket","Arn"]},"/*"]]}]}]}`, `{"Statement":[{"Resource":["arn:aws:s3:::p-bucket","arn:aws:s3:::p-bucket/*"]}]}`},
		{"an object with two keys is not an intrinsic", `{"Ref":"Bucket","Other":1}`, `{"Other":1,"Ref":"Bucket"}`},
		{"ToJsonString", `{"Fn::ToJsonString":{"k":{"Ref":"Key"}}}`, `"{\"k\":\"key-1\"}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testResolver().resolve(mustJSON(t, tt.in), "Properties.v")
			if err != nil {
				t.Fatalf("resolve %s: %v", tt.in, err)
			}
			b, _ := json.Marshal(got)
			var g, w any
			json.Unmarshal(b, &g)
			json.Unmarshal([]byte(tt.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("resolve %s = %s, want %s", tt.in, b, tt.want)
			}
		})
	}
}

// Errors name the path of the failing value and say why it failed.
func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"unknown resource", `{"a":[{"Ref":"Missing"}]}`, []string{"Properties.v.a[0].Ref", "Missing is neither a resource nor a parameter"}},
		{"resource not on the emulator", `{"Fn::GetAtt":["Role","Arn"]}`, []string{"Properties.v.Fn::GetAtt", "Role (AWS::IAM::Role) is not on the emulator"}},
		{"unknown attribute", `{"Fn::GetAtt":["Bucket","WebsiteURL"]}`, []string{"Bucket has no attribute WebsiteURL", "has: Arn"}},
		{"Sub naming an unknown resource", `{"Fn::Sub":"x-${Nope}"}`, []string{"Properties.v.Fn::Sub", "${Nope}", "Nope is neither"}},
		{"parameter without default", `{"Ref":"NoDefault"}`, []string{"parameter NoDefault has no Default"}},
		{"unsupported pseudo parameter", `{"Ref":"AWS::Foo"}`, []string{"pseudo parameter AWS::Foo"}},
		{"Select out of range", `{"Fn::Select":[3,["a"]]}`, []string{"index 3 out of range"}},
		{"Join of an object", `{"Fn::Join":["",[{"a":1}]]}`, []string{"Properties.v.Fn::Join[1][0]", "want a string"}},
		{"unknown condition", `{"Fn::If":["Nope",1,2]}`, []string{"no condition Nope"}},
		{"condition cycle", `{"Fn::If":["Loop",1,2]}`, []string{"condition Loop refers to itself"}},
		{"import", `{"Fn::ImportValue":"x"}`, []string{"cross-stack imports"}},
		{"unsupported function", `{"Fn::Transform":{}}`, []string{"Fn::Transform: unsupported intrinsic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testResolver().resolve(mustJSON(t, tt.in), "Properties.v")
			if err == nil {
				t.Fatalf("resolve %s: no error", tt.in)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReferences(t *testing.T) {
	v := mustJSON(t, `{"a":{"Ref":"Bucket"},"b":[{"Fn::GetAtt":["Queue","Arn"]},{"Fn::GetAtt":"Key.Arn"}],
		"c":{"Fn::Sub":["${Table}-${Var}-${AWS::Region}-${!Lit}-${Topic.TopicName}",{"Var":{"Ref":"Param"}}]},"d":{"Ref":"AWS::AccountId"}}`)
	got := map[string]bool{}
	references(v, got)
	want := map[string]bool{"Bucket": true, "Queue": true, "Key": true, "Table": true, "Param": true, "Topic": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("references = %v, want %v", got, want)
	}
}

func TestOrder(t *testing.T) {
	t.Run("dependencies first, ties by id", func(t *testing.T) {
		got, err := order([]string{"Rule", "Bus", "Queue", "DLQ", "Policy"}, map[string][]string{
			"Rule":   {"Bus", "Queue", "Role"}, // Role is not in the set: ignored
			"Queue":  {"DLQ"},
			"Policy": {"Queue", "Rule"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"Bus", "DLQ", "Queue", "Rule", "Policy"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	})
	t.Run("a cycle is an error naming its members", func(t *testing.T) {
		_, err := order([]string{"A", "B", "C"}, map[string][]string{"A": {"B"}, "B": {"A"}})
		if err == nil || !strings.Contains(err.Error(), "A, B") || strings.Contains(err.Error(), "C") {
			t.Fatalf("err = %v, want a cycle among A, B", err)
		}
	})
}
