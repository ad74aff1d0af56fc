package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The stack is synthesized once for the whole package (synthesis costs
// seconds); every test reads the same template.

// testConfig differs from cdk.json on purpose, so a test that finds these
// values proves they come from the props.
var testConfig = Config{
	JWTIssuer:        "https://issuer.test.example/realms/kyc",
	JWTAudience:      []string{"kyc-portal", "kyc-staff"},
	UploadOrigins:    []string{"https://portal.test.example", "https://staff.test.example"},
	KYCProducts:      []string{"kyc-vps", "kyc-dedicated"},
	OtherProducts:    []string{"shared-hosting", "domain"},
	Regions:          Regions{"sg": "Asia/Singapore", "hk": "Asia/Hong_Kong"},
	BillingMode:      "whmcs",
	BillingURL:       "https://billing.test.example/includes/api.php",
	MailFrom:         "kyc@mail.test.example",
	PortalURL:        "https://portal.test.example",
	ReviewSLAHours:   12,
	AlarmEmail:       "ops@test.example",
	APIThrottleRate:  20,
	APIThrottleBurst: 40,
	MaxUploadBytes:   5 << 20,
	MetricsNamespace: "KycGateTest",
	Tickets:          "whmcs",
	TicketDeptID:     "3",
	Retention:        Retention{UnsubmittedDays: 5, RejectedDays: 30, AfterExpiryDays: 60},

	WHMCSAdmin:         "kyc-gate-api",
	ProvisioningDeptID: "4",
}

var (
	tmpRoot string

	synthOnce sync.Once
	synthed   *synthResult
	synthErr  error
)

type synthResult struct {
	stack     *KycStack
	template  assertions.Template
	resources map[string]map[string]any // logical id → resource
	outputs   map[string]any
	findings  []string
	outdir    string
}

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "kyc-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if synthed != nil {
		jsii.Close()
	}
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// synth builds the stack once, from dummy function builds in a temp dir and
// the feature flags of ../../cdk.json, with the nag packs the app uses.
func synth(tb testing.TB) *synthResult {
	tb.Helper()
	synthOnce.Do(func() { synthed, synthErr = doSynth() })
	if synthErr != nil {
		tb.Fatalf("synth: %v", synthErr)
	}
	return synthed
}

func doSynth() (res *synthResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	fnDir := filepath.Join(tmpRoot, "lambda")
	for _, name := range contract.Functions {
		if err := os.MkdirAll(filepath.Join(fnDir, name), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(fnDir, name, "bootstrap"), []byte("#!/bin/sh\n# "+name+"\n"), 0o755); err != nil {
			return nil, err
		}
	}
	if err := checkFunctionsDir(fnDir); err != nil {
		return nil, err
	}
	ctx, err := cdkJSONContext("../../cdk.json")
	if err != nil {
		return nil, err
	}
	for k, v := range cliDefaultContext {
		ctx[k] = v
	}
	outdir := filepath.Join(tmpRoot, "cdk.out")
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir), AnalyticsReporting: jsii.Bool(false)})
	s := newKycStack(app, StackName, &KycStackProps{Config: testConfig, FunctionsDir: fnDir})
	addNagPacks(app)
	asm := app.Synth(nil)
	findings, err := synthFindings(*asm.Directory(), *s.Stack.ArtifactId())
	if err != nil {
		return nil, err
	}

	tpl := assertions.Template_FromStack(s.Stack, nil)
	raw := *tpl.ToJSON()
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var parsed struct {
		Resources map[string]map[string]any `json:"Resources"`
		Outputs   map[string]any            `json:"Outputs"`
	}
	if err := json.Unmarshal(b, &parsed); err != nil {
		return nil, err
	}
	return &synthResult{
		stack: s, template: tpl, resources: parsed.Resources, outputs: parsed.Outputs,
		findings: findings, outdir: outdir,
	}, nil
}

// --- helpers ---------------------------------------------------------------

// match runs an assertions call, turning its jsii panic into a test error.
func match(tb testing.TB, what string, f func()) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			tb.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func (r *synthResult) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, res := range r.resources {
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

func (r *synthResult) resource(tb testing.TB, id string) map[string]any {
	tb.Helper()
	res, ok := r.resources[id]
	if !ok {
		tb.Fatalf("no resource %s in the template", id)
	}
	return res
}

func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

// path walks maps and lists: path(v, "A", "B", 0, "C").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func ref(id string) map[string]any    { return map[string]any{"Ref": id} }
func getAtt(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }

func jsonEq(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func strs(v any) []string {
	var out []string
	for _, e := range asList(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// statements returns every policy statement of IAM policies and inline role
// policies, labelled by resource.
func (r *synthResult) iamStatements() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	add := func(label string, doc any) {
		for _, st := range asList(path(doc, "Statement")) {
			if m, ok := st.(map[string]any); ok {
				out[label] = append(out[label], m)
			}
		}
	}
	for id, res := range r.resources {
		switch res["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			add(id, props(res)["PolicyDocument"])
		case "AWS::IAM::Role":
			for i, p := range asList(props(res)["Policies"]) {
				add(fmt.Sprintf("%s/Policies/%d", id, i), path(p, "PolicyDocument"))
			}
		}
	}
	return out
}

// policiesOfRole returns the statements of every AWS::IAM::Policy attached to a role.
func (r *synthResult) policiesOfRole(roleID string) []map[string]any {
	var out []map[string]any
	for _, res := range r.ofType("AWS::IAM::Policy") {
		for _, role := range asList(props(res)["Roles"]) {
			if jsonEq(role, ref(roleID)) {
				for _, st := range asList(path(props(res), "PolicyDocument", "Statement")) {
					out = append(out, st.(map[string]any))
				}
			}
		}
	}
	return out
}

func (r *synthResult) functionID(tb testing.TB, name string) string {
	tb.Helper()
	return logicalID(r.stack.Functions.Fn[name])
}

func (r *synthResult) queueID(q awssqs.IQueue) string { return logicalID(q) }

// --- keys ----------------------------------------------------------------------

func TestDataKeyRotatesAndIsRetained(t *testing.T) {
	r := synth(t)
	key := r.resource(t, logicalID(r.stack.Keys.Data))
	if path(key, "Properties", "EnableKeyRotation") != true {
		t.Errorf("data key: EnableKeyRotation = %v, want true", path(key, "Properties", "EnableKeyRotation"))
	}
	if key["DeletionPolicy"] != "Retain" || key["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("data key: DeletionPolicy/UpdateReplacePolicy = %v/%v, want Retain", key["DeletionPolicy"], key["UpdateReplacePolicy"])
	}
	for id, k := range r.ofType("AWS::KMS::Key") {
		if path(k, "Properties", "KeySpec") == nil && path(k, "Properties", "EnableKeyRotation") != true {
			t.Errorf("%s: symmetric key without rotation", id)
		}
	}
}

func TestMacKeyIsHMAC256AndRetained(t *testing.T) {
	r := synth(t)
	key := r.resource(t, logicalID(r.stack.Keys.Mac))
	p := props(key)
	if p["KeySpec"] != "HMAC_256" || p["KeyUsage"] != "GENERATE_VERIFY_MAC" {
		t.Errorf("mac key: KeySpec/KeyUsage = %v/%v, want HMAC_256/GENERATE_VERIFY_MAC", p["KeySpec"], p["KeyUsage"])
	}
	if key["DeletionPolicy"] != "Retain" {
		t.Errorf("mac key: DeletionPolicy = %v, want Retain", key["DeletionPolicy"])
	}
}

// A service principal in the data key's policy could use the key for another
// account's resources unless the statement is conditioned.
func TestKeyPolicyServiceStatementsAreConditioned(t *testing.T) {
	r := synth(t)
	services := map[string]bool{}
	for id, key := range r.ofType("AWS::KMS::Key") {
		for _, st := range asList(path(key, "Properties", "KeyPolicy", "Statement")) {
			svc := path(st, "Principal", "Service")
			if svc == nil {
				continue
			}
			for _, s := range strs(svc) {
				services[s] = true
			}
			if path(st, "Condition") == nil {
				t.Errorf("%s: statement for service %v has no condition: %v", id, svc, st)
			}
		}
	}
	for _, want := range []string{"s3.amazonaws.com", "events.amazonaws.com", "cloudwatch.amazonaws.com", "sns.amazonaws.com"} {
		if !services[want] {
			t.Errorf("data key policy does not let %s use the key (its encrypted queue/topic would refuse it)", want)
		}
	}
}

// --- documents -------------------------------------------------------------------

func TestDocumentsBucketEncryptsWithTheCMKAndBucketKey(t *testing.T) {
	r := synth(t)
	b := props(r.resource(t, logicalID(r.stack.Documents.Bucket)))
	rule := path(b, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
	if path(rule, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" {
		t.Errorf("SSEAlgorithm = %v, want aws:kms", path(rule, "ServerSideEncryptionByDefault", "SSEAlgorithm"))
	}
	if want := getAtt(logicalID(r.stack.Keys.Data)); !jsonEq(path(rule, "ServerSideEncryptionByDefault", "KMSMasterKeyID"), want) {
		t.Errorf("KMSMasterKeyID = %v, want the data key %v", path(rule, "ServerSideEncryptionByDefault", "KMSMasterKeyID"), want)
	}
	if path(rule, "BucketKeyEnabled") != true {
		t.Errorf("BucketKeyEnabled = %v, want true", path(rule, "BucketKeyEnabled"))
	}
	if r.resource(t, logicalID(r.stack.Documents.Bucket))["DeletionPolicy"] != "Retain" {
		t.Error("documents bucket is not retained")
	}
}

func TestDocumentsBucketPolicyDeniesNoTLSAndNonKMSUploads(t *testing.T) {
	r := synth(t)
	bucketID := logicalID(r.stack.Documents.Bucket)
	keyArn := getAtt(logicalID(r.stack.Keys.Data))
	var tls, sse, keyID bool
	for _, pol := range r.ofType("AWS::S3::BucketPolicy") {
		if !jsonEq(props(pol)["Bucket"], ref(bucketID)) {
			continue
		}
		for _, st := range asList(path(props(pol), "PolicyDocument", "Statement")) {
			if path(st, "Effect") != "Deny" || !jsonEq(path(st, "Principal"), map[string]any{"AWS": "*"}) {
				continue
			}
			actions := strs(path(st, "Action"))
			if slices.Contains(actions, "s3:*") && path(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
				tls = true
			}
			if slices.Contains(actions, "s3:PutObject") {
				if path(st, "Condition", "StringNotEquals", "s3:x-amz-server-side-encryption") == "aws:kms" {
					sse = true
				}
				if jsonEq(path(st, "Condition", "StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id"), keyArn) {
					keyID = true
				}
			}
		}
	}
	if !tls {
		t.Error("documents bucket policy: no Deny s3:* when aws:SecureTransport is false")
	}
	if !sse {
		t.Error("documents bucket policy: no Deny s3:PutObject when x-amz-server-side-encryption is not aws:kms")
	}
	if !keyID {
		t.Error("documents bucket policy: no Deny s3:PutObject when the SSE-KMS key id is not the data key")
	}
	// The denies cover every object of the bucket: uploads under docs/ and
	// the validator's reviewed copies under reviewed/ alike.
	for _, pol := range r.ofType("AWS::S3::BucketPolicy") {
		if !jsonEq(props(pol)["Bucket"], ref(bucketID)) {
			continue
		}
		for _, st := range asList(path(props(pol), "PolicyDocument", "Statement")) {
			if path(st, "Effect") != "Deny" || !slices.Contains(strs(path(st, "Action")), "s3:PutObject") {
				continue
			}
			if got := objectResources(bucketID, path(st, "Resource")); !slices.Equal(got, []string{"*"}) {
				t.Errorf("documents bucket policy: SSE-KMS deny on %v, want every object (*)", got)
			}
		}
	}
}

// objectResources renders a statement's resources of bucketID's objects as
// their key patterns ("docs/*"), and anything else as "other".
func objectResources(bucketID string, res any) []string {
	var out []string
	for _, r := range asList(res) {
		parts := asList(path(r, "Fn::Join", 1))
		if len(parts) == 2 && jsonEq(parts[0], getAtt(bucketID)) {
			if s, ok := parts[1].(string); ok && strings.HasPrefix(s, "/") {
				out = append(out, s[1:])
				continue
			}
		}
		out = append(out, "other")
	}
	slices.Sort(out)
	return out
}

// TestFunctionObjectPermissionsByPrefix: each function may do to the
// documents bucket exactly what its code does, under the prefix it does it:
// uploads under docs/, the validator's reviewed copies under reviewed/
// (written by the validator only, read by the admin API only, tagged on
// submission, purged by the sweep).
func TestFunctionObjectPermissionsByPrefix(t *testing.T) {
	r := synth(t)
	bucketID := logicalID(r.stack.Documents.Bucket)
	get, tag, del := []string{"s3:GetObject", "s3:GetObjectVersion"}, []string{"s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
		[]string{"s3:DeleteObject", "s3:DeleteObjectVersion"}
	sorted := func(lists ...[]string) string {
		all := slices.Concat(lists...)
		slices.Sort(all)
		return strings.Join(slices.Compact(all), " ")
	}
	want := map[string]map[string]string{
		contract.FunctionCustomerAPI: {"docs/*": sorted(get, tag, []string{"s3:PutObject"}), "reviewed/*": sorted(tag)},
		contract.FunctionAdminAPI:    {"docs/*": sorted(get), "reviewed/*": sorted(get)},
		contract.FunctionValidator: {"docs/*": sorted(get, del), "reviewed/*": sorted([]string{"s3:PutObject", "s3:PutObjectTagging"}),
			"list:docs/*": "s3:ListBucketVersions"},
		contract.FunctionSweep: {"docs/*": sorted(del), "reviewed/*": sorted(del), "list:docs/* reviewed/*": "s3:ListBucketVersions"},
	}
	for _, name := range contract.Functions {
		got := map[string]string{}
		for _, st := range r.policiesOfRole(logicalID(r.stack.Functions.Role[name])) {
			actions := strs(st["Action"])
			if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "s3:") }) {
				continue
			}
			if jsonEq(st["Resource"], getAtt(bucketID)) {
				got["list:"+strings.Join(strs(path(st, "Condition", "StringLike", "s3:prefix")), " ")] = sorted(actions)
				continue
			}
			for _, prefix := range objectResources(bucketID, st["Resource"]) {
				got[prefix] = sorted(strings.Fields(got[prefix]), actions)
			}
		}
		if !reflect.DeepEqual(got, want[name]) && !(len(got) == 0 && want[name] == nil) {
			t.Errorf("%s: object permissions\n got %v\nwant %v", name, got, want[name])
		}
	}
}

func TestBucketsBlockAllPublicAccess(t *testing.T) {
	r := synth(t)
	buckets := r.ofType("AWS::S3::Bucket")
	if len(buckets) != 2 {
		t.Errorf("%d buckets, want 2 (documents, access logs)", len(buckets))
	}
	for id, b := range buckets {
		pab := path(b, "Properties", "PublicAccessBlockConfiguration")
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if path(pab, k) != true {
				t.Errorf("%s: PublicAccessBlockConfiguration.%s = %v, want true", id, k, path(pab, k))
			}
		}
	}
	match(t, "TLS-only policy on the access log bucket", func() {
		r.template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"Bucket": ref(logicalID(r.stack.Documents.Logs)),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
}

func TestDocumentsBucketVersioningLifecycleAndAccessLogs(t *testing.T) {
	r := synth(t)
	b := props(r.resource(t, logicalID(r.stack.Documents.Bucket)))
	if path(b, "VersioningConfiguration", "Status") != "Enabled" {
		t.Errorf("versioning = %v, want Enabled", path(b, "VersioningConfiguration", "Status"))
	}
	var abort, noncurrent, unsubmitted bool
	for _, rule := range asList(path(b, "LifecycleConfiguration", "Rules")) {
		if path(rule, "Status") != "Enabled" {
			continue
		}
		// Every rule covers the whole bucket: reviewed/ as well as docs/.
		if prefix := path(rule, "Prefix"); prefix != nil {
			t.Errorf("lifecycle rule %v is limited to prefix %v", path(rule, "Id"), prefix)
		}
		if path(rule, "AbortIncompleteMultipartUpload", "DaysAfterInitiation") == 1.0 {
			abort = true
		}
		if path(rule, "NoncurrentVersionExpiration", "NoncurrentDays") == 1.0 {
			noncurrent = true
		}
		if path(rule, "ExpirationInDays") == float64(testConfig.Retention.UnsubmittedDays) && jsonEq(path(rule, "TagFilters"), []any{map[string]any{"Key": contract.TagState, "Value": contract.StateUnsubmitted}}) {
			unsubmitted = true
		}
	}
	if !abort || !noncurrent || !unsubmitted {
		t.Errorf("lifecycle: abort multipart after 1 day=%v, noncurrent versions expire after 1 day=%v, %s=%s expire after the configured days=%v; want all",
			abort, noncurrent, contract.TagState, contract.StateUnsubmitted, unsubmitted)
	}
	if !jsonEq(path(b, "LoggingConfiguration", "DestinationBucketName"), ref(logicalID(r.stack.Documents.Logs))) {
		t.Errorf("server access logs go to %v, want the log bucket", path(b, "LoggingConfiguration"))
	}
	logs := props(r.resource(t, logicalID(r.stack.Documents.Logs)))
	if alg := path(logs, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"); alg != "AES256" {
		t.Errorf("log bucket SSEAlgorithm = %v, want AES256 (access-log targets cannot use SSE-KMS)", alg)
	}
	if len(asList(path(logs, "LifecycleConfiguration", "Rules"))) == 0 {
		t.Error("log bucket has no lifecycle rule")
	}
}

// Uploads from the configured portal origins (POST), and the gate's own
// pages (POST uploads, GET the review links a console script reads).
func TestDocumentsCORSAllowsUploadOriginsAndTheGatesPagesOnly(t *testing.T) {
	r := synth(t)
	rules := asList(path(props(r.resource(t, logicalID(r.stack.Documents.Bucket))), "CorsConfiguration", "CorsRules"))
	if len(rules) != 2 {
		t.Fatalf("%d CORS rules, want 2", len(rules))
	}
	if got := strs(path(rules[0], "AllowedOrigins")); !slices.Equal(got, testConfig.UploadOrigins) {
		t.Errorf("AllowedOrigins = %v, want %v", got, testConfig.UploadOrigins)
	}
	if got := strs(path(rules[0], "AllowedMethods")); !slices.Equal(got, []string{"POST"}) {
		t.Errorf("AllowedMethods = %v, want [POST]", got)
	}
	api := map[string]any{"Fn::GetAtt": []any{logicalID(r.stack.API.Api), "ApiEndpoint"}}
	if got := asList(path(rules[1], "AllowedOrigins")); len(got) != 1 || !jsonEq(got[0], api) {
		t.Errorf("the pages' CORS origins = %v, want the API's endpoint only", got)
	}
	if got := strs(path(rules[1], "AllowedMethods")); !slices.Equal(got, []string{"POST", "GET"}) {
		t.Errorf("the pages' AllowedMethods = %v, want [POST GET]", got)
	}
}

func TestUploadsNotifyTheValidatorQueue(t *testing.T) {
	r := synth(t)
	match(t, "S3 ObjectCreated under docs/ → validator queue", func() {
		r.template.HasResourceProperties(jsii.String("Custom::S3BucketNotifications"), map[string]any{
			"BucketName": ref(logicalID(r.stack.Documents.Bucket)),
			"NotificationConfiguration": map[string]any{"QueueConfigurations": []any{map[string]any{
				"Events":   []any{"s3:ObjectCreated:*"},
				"Filter":   map[string]any{"Key": map[string]any{"FilterRules": []any{map[string]any{"Name": "prefix", "Value": contract.DocumentsPrefix}}}},
				"QueueArn": getAtt(r.queueID(r.stack.Queues.Work[contract.FunctionValidator].Queue)),
			}}},
		})
	})
	match(t, "validator queue policy admits S3 for this bucket only", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Principal": map[string]any{"Service": "s3.amazonaws.com"},
				"Action":    "sqs:SendMessage",
				"Condition": assertions.Match_ObjectLike(&map[string]any{
					"ArnLike": map[string]any{"aws:SourceArn": getAtt(logicalID(r.stack.Documents.Bucket))},
				}),
			})})},
		})
	})
}

// --- table -------------------------------------------------------------------------

func TestTableEncryptionPITRTTLAndIndexes(t *testing.T) {
	r := synth(t)
	res := r.resource(t, logicalID(r.stack.Table.Table))
	p := props(res)
	if path(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
		t.Error("point-in-time recovery is off")
	}
	if path(p, "SSESpecification", "SSEEnabled") != true || path(p, "SSESpecification", "SSEType") != "KMS" ||
		!jsonEq(path(p, "SSESpecification", "KMSMasterKeyId"), getAtt(logicalID(r.stack.Keys.Data))) {
		t.Errorf("SSESpecification = %v, want KMS with the data key", path(p, "SSESpecification"))
	}
	if path(p, "TimeToLiveSpecification", "AttributeName") != contract.AttrTTL || path(p, "TimeToLiveSpecification", "Enabled") != true {
		t.Errorf("TTL = %v, want %s enabled", path(p, "TimeToLiveSpecification"), contract.AttrTTL)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" || p["DeletionProtectionEnabled"] != true || res["DeletionPolicy"] != "Retain" {
		t.Errorf("BillingMode/DeletionProtectionEnabled/DeletionPolicy = %v/%v/%v", p["BillingMode"], p["DeletionProtectionEnabled"], res["DeletionPolicy"])
	}
	wantKeys := []any{
		map[string]any{"AttributeName": contract.AttrPK, "KeyType": "HASH"},
		map[string]any{"AttributeName": contract.AttrSK, "KeyType": "RANGE"},
	}
	if !jsonEq(p["KeySchema"], wantKeys) {
		t.Errorf("KeySchema = %v", p["KeySchema"])
	}
	indexes := map[string]any{}
	for _, gsi := range asList(p["GlobalSecondaryIndexes"]) {
		indexes[path(gsi, "IndexName").(string)] = gsi
	}
	for name, k := range map[string][2]string{
		contract.IndexDue:       {contract.AttrDuePK, contract.AttrDueSK},
		contract.IndexQueue:     {contract.AttrQPK, contract.AttrQSK},
		contract.IndexDocNumber: {contract.AttrDocHash, contract.AttrDocHashSK},
	} {
		gsi, ok := indexes[name]
		if !ok {
			t.Errorf("no GSI %q", name)
			continue
		}
		want := []any{map[string]any{"AttributeName": k[0], "KeyType": "HASH"}, map[string]any{"AttributeName": k[1], "KeyType": "RANGE"}}
		if !jsonEq(path(gsi, "KeySchema"), want) || path(gsi, "Projection", "ProjectionType") != "ALL" {
			t.Errorf("GSI %s = %v, want keys %v projection ALL", name, gsi, k)
		}
	}
	types := map[string]string{}
	for _, a := range asList(p["AttributeDefinitions"]) {
		types[path(a, "AttributeName").(string)] = path(a, "AttributeType").(string)
	}
	for _, a := range []string{contract.AttrPK, contract.AttrSK, contract.AttrDuePK, contract.AttrDueSK, contract.AttrQPK, contract.AttrQSK,
		contract.AttrDocHash, contract.AttrDocHashSK} {
		if types[a] != "S" {
			t.Errorf("attribute %s type = %q, want S", a, types[a])
		}
	}
}

// --- IAM -----------------------------------------------------------------------------

func TestIAMStatementsHaveNoWildcardActionsAndNoScan(t *testing.T) {
	r := synth(t)
	all := r.iamStatements()
	if len(all) == 0 {
		t.Fatal("no IAM policies found")
	}
	for label, sts := range all {
		for _, st := range sts {
			for _, a := range strs(st["Action"]) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s: wildcard action %q", label, a)
				}
				if strings.EqualFold(a, "dynamodb:Scan") {
					t.Errorf("%s: grants dynamodb:Scan", label)
				}
			}
			if st["NotAction"] != nil {
				t.Errorf("%s: NotAction %v", label, st["NotAction"])
			}
		}
	}
	// No other policy of the template (bucket, queue, key) mentions Scan either.
	b, _ := json.Marshal(r.resources)
	if strings.Contains(string(b), "dynamodb:Scan") {
		t.Error("the template grants dynamodb:Scan somewhere")
	}
}

func TestRolesHaveNoManagedPolicies(t *testing.T) {
	r := synth(t)
	for id, role := range r.ofType("AWS::IAM::Role") {
		if arns, ok := props(role)["ManagedPolicyArns"]; ok {
			t.Errorf("%s: ManagedPolicyArns = %v, want none", id, arns)
		}
	}
}

func TestFunctionPermissionsAreLeastPrivilege(t *testing.T) {
	r := synth(t)
	tableArn := getAtt(logicalID(r.stack.Table.Table))
	// actions granted on the table itself, per function
	want := map[string][]string{
		contract.FunctionCustomerAPI:    {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		contract.FunctionAdminAPI:       {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		contract.FunctionBillingIntake:  {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		contract.FunctionValidator:      {"dynamodb:GetItem", "dynamodb:PutItem"},
		contract.FunctionSweep:          {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		contract.FunctionBillingAdapter: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
		contract.FunctionNotifier:       {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	}
	// Functions confined to key prefixes: each table statement's actions,
	// keyed by its LeadingKeys prefix.
	leading := map[string]map[string][]string{
		contract.FunctionBillingAdapter: {"CMD#*": {"dynamodb:GetItem", "dynamodb:UpdateItem"}, "CUST#*": {"dynamodb:GetItem"}},
		contract.FunctionValidator:      {"CUST#*": {"dynamodb:GetItem", "dynamodb:PutItem"}, "AUDIT#*": {"dynamodb:PutItem"}},
		contract.FunctionNotifier: {"CUST#*": {"dynamodb:GetItem"}, "NOTIFY#*": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
			"TICKET#*": {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}},
	}
	for _, name := range contract.Functions {
		roleID := logicalID(r.stack.Functions.Role[name])
		var got []string
		for _, st := range r.policiesOfRole(roleID) {
			if jsonEq(st["Resource"], tableArn) || (slices.ContainsFunc(asList(st["Resource"]), func(v any) bool { return jsonEq(v, tableArn) })) {
				got = append(got, strs(st["Action"])...)
				if prefixes, ok := leading[name]; ok {
					cond := strs(path(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
					actions := strs(st["Action"])
					sort.Strings(actions)
					if len(cond) != 1 || !slices.Equal(actions, prefixes[cond[0]]) {
						t.Errorf("%s: table statement %v has LeadingKeys %v; want one of %v", name, actions, cond, prefixes)
					}
				}
			}
			for _, a := range strs(st["Action"]) {
				if strings.HasPrefix(a, "dynamodb:Batch") {
					t.Errorf("%s: grants %s", name, a)
				}
			}
		}
		sort.Strings(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s: table actions = %v, want %v", name, got, want[name])
		}
	}
}

// Each function queries exactly the indexes its code reads, each by its own
// ARN: the sweep the due index and the queue, the admin API those and the
// document-number index (the same document on other accounts), the billing
// intake the queue (the signed review-queue read, docs/architecture.md).
func TestIndexQueriesByFunction(t *testing.T) {
	r := synth(t)
	tableID := logicalID(r.stack.Table.Table)
	want := map[string][]string{
		contract.FunctionAdminAPI:      {contract.IndexDocNumber, contract.IndexDue, contract.IndexQueue},
		contract.FunctionSweep:         {contract.IndexDue, contract.IndexQueue},
		contract.FunctionBillingIntake: {contract.IndexQueue},
	}
	for _, name := range contract.Functions {
		var got []string
		for _, st := range r.policiesOfRole(logicalID(r.stack.Functions.Role[name])) {
			if !slices.Contains(strs(st["Action"]), "dynamodb:Query") {
				continue
			}
			for _, res := range asList(st["Resource"]) {
				parts := asList(path(res, "Fn::Join", 1))
				if len(parts) == 2 && jsonEq(parts[0], getAtt(tableID)) {
					got = append(got, strings.TrimPrefix(parts[1].(string), "/index/"))
				}
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s queries the indexes %v, want %v", name, got, want[name])
		}
	}
}

// --- functions ------------------------------------------------------------------------

func TestEveryFunctionIsArmAL2023TracedAndTagged(t *testing.T) {
	r := synth(t)
	tagged := map[string]string{}
	for id, fn := range r.ofType("AWS::Lambda::Function") {
		for _, tag := range asList(path(fn, "Properties", "Tags")) {
			if path(tag, "Key") == contract.TagFunction {
				tagged[path(tag, "Value").(string)] = id
			}
		}
	}
	for _, name := range contract.Functions {
		id, ok := tagged[name]
		if !ok {
			t.Errorf("no function tagged %s=%s", contract.TagFunction, name)
			continue
		}
		if id != r.functionID(t, name) {
			t.Errorf("tag %s=%s is on %s, want %s", contract.TagFunction, name, id, r.functionID(t, name))
		}
		p := props(r.resources[id])
		if p["Runtime"] != "provided.al2023" || !jsonEq(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
			t.Errorf("%s: Runtime/Architectures/Handler = %v/%v/%v", name, p["Runtime"], p["Architectures"], p["Handler"])
		}
		if path(p, "TracingConfig", "Mode") != "Active" {
			t.Errorf("%s: tracing = %v, want Active", name, path(p, "TracingConfig"))
		}
		wantMemory := memoryMB
		if name == contract.FunctionValidator {
			wantMemory = 512 // decodes images of up to 40 MP (shared/filecheck)
		}
		if p["MemorySize"] != float64(wantMemory) || p["Timeout"] != float64(functionTimeoutSeconds(name)) {
			t.Errorf("%s: MemorySize/Timeout = %v/%v", name, p["MemorySize"], p["Timeout"])
		}
		// Its own log group with a retention of at least three months.
		lg := path(p, "LoggingConfig", "LogGroup")
		lgID, _ := path(lg, "Ref").(string)
		days, _ := path(r.resources[lgID], "Properties", "RetentionInDays").(float64)
		if days < 90 {
			t.Errorf("%s: log group %v retention %v days, want >= 90", name, lg, days)
		}
		// Its role is its own and writes only to that log group.
		roleID, _ := path(p, "Role", "Fn::GetAtt", 0).(string)
		if roleID != logicalID(r.stack.Functions.Role[name]) {
			t.Errorf("%s: role %v is not its own", name, roleID)
		}
		for _, st := range r.policiesOfRole(roleID) {
			if slices.Contains(strs(st["Action"]), "logs:PutLogEvents") && !jsonEq(st["Resource"], getAtt(lgID)) {
				t.Errorf("%s: logs permission on %v, want its log group only", name, st["Resource"])
			}
		}
	}
	if want := len(contract.Functions) + 1; len(r.ofType("AWS::Lambda::Function")) != want {
		t.Errorf("%d functions, want %d (one per contract.Functions entry + CDK's S3 notifications handler)", len(r.ofType("AWS::Lambda::Function")), want)
	}
}

// resourceEnv are the variables that name a resource; their values must be
// CloudFormation references, so no name is written twice.
var resourceEnv = map[string]bool{
	contract.EnvTable: true, contract.EnvBucket: true, contract.EnvKeyID: true, contract.EnvMacKeyID: true,
	contract.EnvEventBus: true, contract.EnvWebhookSecretARN: true, contract.EnvBillingSecretARN: true,
	contract.EnvSessionSecretARN: true, contract.EnvPublicURL: true, contract.EnvSigninAudience: true,
	contract.EnvOIDCIssuer: true, contract.EnvOIDCClientID: true,
	contract.EnvBillingQueueURL: true,
}

func TestFunctionEnvironmentReferencesResources(t *testing.T) {
	r := synth(t)
	want := map[string][]string{
		contract.FunctionCustomerAPI: {contract.EnvTable, contract.EnvBucket, contract.EnvKeyID, contract.EnvEventBus, contract.EnvKYCProducts, contract.EnvMaxUploadBytes, contract.EnvRetention,
			contract.EnvPublicURL, contract.EnvSessionSecretARN, contract.EnvSigninIssuer, contract.EnvSigninAudience},
		contract.FunctionAdminAPI: {contract.EnvTable, contract.EnvBucket, contract.EnvKeyID, contract.EnvMacKeyID, contract.EnvEventBus, contract.EnvRetention,
			contract.EnvPublicURL, contract.EnvSessionSecretARN, contract.EnvOIDCIssuer, contract.EnvOIDCClientID, contract.EnvReviewSLA},
		contract.FunctionBillingIntake: {contract.EnvTable, contract.EnvEventBus, contract.EnvKYCProducts, contract.EnvOtherProducts, contract.EnvRegions, contract.EnvKeyID, contract.EnvWebhookSecretARN},
		contract.FunctionValidator:     {contract.EnvTable, contract.EnvBucket, contract.EnvKeyID, contract.EnvMaxUploadBytes, contract.EnvMetricsNamespace},
		contract.FunctionSweep:         {contract.EnvTable, contract.EnvBucket, contract.EnvEventBus, contract.EnvReviewSLA, contract.EnvMetricsNamespace, contract.EnvRetention},
		contract.FunctionBillingAdapter: {contract.EnvTable, contract.EnvBillingMode, contract.EnvBillingURL, contract.EnvBillingSecretARN,
			contract.EnvBillingQueueURL, contract.EnvProvisioningDeptID, contract.EnvMailFrom, contract.EnvWHMCSAdmin},
		contract.FunctionNotifier: {contract.EnvTable, contract.EnvKeyID, contract.EnvMailFrom, contract.EnvPortalURL, contract.EnvBillingURL,
			contract.EnvBillingSecretARN, contract.EnvTicketMode, contract.EnvTicketDeptID, contract.EnvWHMCSAdmin},
	}
	for _, name := range contract.Functions {
		env, _ := path(r.resources[r.functionID(t, name)], "Properties", "Environment", "Variables").(map[string]any)
		var keys []string
		for k, v := range env {
			keys = append(keys, k)
			if !resourceEnv[k] {
				if _, ok := v.(string); !ok {
					t.Errorf("%s: %s = %v, want a literal setting", name, k, v)
				}
				continue
			}
			m, ok := v.(map[string]any)
			if !ok || len(m) != 1 {
				t.Errorf("%s: %s = %v is a literal, want a Ref/Fn::GetAtt/Fn::Join token", name, k, v)
				continue
			}
			for fn := range m {
				if fn != "Ref" && fn != "Fn::GetAtt" && fn != "Fn::Join" {
					t.Errorf("%s: %s = %v, want Ref/Fn::GetAtt/Fn::Join", name, k, v)
				}
			}
		}
		sort.Strings(keys)
		w := slices.Clone(want[name])
		sort.Strings(w)
		if !slices.Equal(keys, w) {
			t.Errorf("%s: environment %v, want %v", name, keys, w)
		}
	}
	sweepEnv := path(r.resources[r.functionID(t, contract.FunctionSweep)], "Properties", "Environment", "Variables")
	if got := path(sweepEnv, contract.EnvReviewSLA); got != "12h" {
		t.Errorf("sweep %s = %v, want 12h (reviewSlaHours of the props)", contract.EnvReviewSLA, got)
	}
	intakeEnv := path(r.resources[r.functionID(t, contract.FunctionBillingIntake)], "Properties", "Environment", "Variables")
	if got := path(intakeEnv, contract.EnvKYCProducts); got != "kyc-vps,kyc-dedicated" {
		t.Errorf("billing-intake %s = %v", contract.EnvKYCProducts, got)
	}
	if got := path(intakeEnv, contract.EnvOtherProducts); got != "shared-hosting,domain" {
		t.Errorf("billing-intake %s = %v", contract.EnvOtherProducts, got)
	}
	if got := path(intakeEnv, contract.EnvRegions); got != "hk=Asia/Hong_Kong,sg=Asia/Singapore" {
		t.Errorf("billing-intake %s = %v", contract.EnvRegions, got)
	}
}

// The billing adapter may send to its own queue only (a command waiting for
// payment goes back, delayed), and reads the queue's URL from a reference.
func TestBillingAdapterRequeuesToItsOwnQueueOnly(t *testing.T) {
	r := synth(t)
	own := getAtt(r.queueID(r.stack.Queues.Work[contract.FunctionBillingAdapter].Queue))
	granted := false
	for _, name := range contract.Functions {
		for _, st := range r.policiesOfRole(logicalID(r.stack.Functions.Role[name])) {
			if !slices.Contains(strs(st["Action"]), "sqs:SendMessage") {
				continue
			}
			if name == contract.FunctionSweep { // its DLQ, for asynchronous invocations
				continue
			}
			// (CDK merges it with the event source's statement on the same queue.)
			if name != contract.FunctionBillingAdapter || !jsonEq(st["Resource"], own) {
				t.Errorf("%s: %v on %v; only billing-adapter may send, to its own queue", name, st["Action"], st["Resource"])
			}
			granted = true
		}
	}
	if !granted {
		t.Error("billing-adapter may not send to its queue: a command waiting for payment cannot be deferred")
	}
	env := path(r.resources[r.functionID(t, contract.FunctionBillingAdapter)], "Properties", "Environment", "Variables")
	if got := path(env, contract.EnvBillingQueueURL); !jsonEq(got, ref(r.queueID(r.stack.Queues.Work[contract.FunctionBillingAdapter].Queue))) {
		t.Errorf("%s = %v, want a Ref of its queue", contract.EnvBillingQueueURL, got)
	}
	if got := path(env, contract.EnvProvisioningDeptID); got != "4" {
		t.Errorf("%s = %v", contract.EnvProvisioningDeptID, got)
	}
}

func TestSQSConsumersReportBatchItemFailures(t *testing.T) {
	r := synth(t)
	esms := r.ofType("AWS::Lambda::EventSourceMapping")
	if len(esms) != len(sqsFedFunctions) {
		t.Errorf("%d event source mappings, want %d", len(esms), len(sqsFedFunctions))
	}
	for _, name := range sqsFedFunctions {
		wq := r.stack.Queues.Work[name]
		var found map[string]any
		for _, esm := range esms {
			if jsonEq(path(esm, "Properties", "FunctionName"), ref(r.functionID(t, name))) {
				found = props(esm)
			}
		}
		if found == nil {
			t.Errorf("%s: no event source mapping", name)
			continue
		}
		if !jsonEq(found["EventSourceArn"], getAtt(r.queueID(wq.Queue))) {
			t.Errorf("%s: consumes %v, want its own queue", name, found["EventSourceArn"])
		}
		if !jsonEq(found["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) || found["BatchSize"] != 10.0 {
			t.Errorf("%s: FunctionResponseTypes/BatchSize = %v/%v", name, found["FunctionResponseTypes"], found["BatchSize"])
		}
		wantConc := any(nil)
		if name == contract.FunctionBillingAdapter {
			wantConc = 2.0
		}
		if got := path(found, "ScalingConfig", "MaximumConcurrency"); got != wantConc {
			t.Errorf("%s: MaximumConcurrency = %v, want %v", name, got, wantConc)
		}
		q := props(r.resource(t, r.queueID(wq.Queue)))
		if path(q, "RedrivePolicy", "maxReceiveCount") != 5.0 || !jsonEq(path(q, "RedrivePolicy", "deadLetterTargetArn"), getAtt(r.queueID(wq.DLQ))) {
			t.Errorf("%s queue: RedrivePolicy = %v", name, q["RedrivePolicy"])
		}
		if vt, _ := q["VisibilityTimeout"].(float64); vt < float64(6*functionTimeoutSeconds(name)) {
			t.Errorf("%s queue: VisibilityTimeout %v < 6 × %d s", name, vt, functionTimeoutSeconds(name))
		}
	}
}

func TestEveryQueueIsEncryptedTLSOnlyAndRedrivenOrADLQ(t *testing.T) {
	r := synth(t)
	b, _ := json.Marshal(r.resources)
	all := string(b)
	queues := r.ofType("AWS::SQS::Queue")
	for id, q := range queues {
		p := props(q)
		if !jsonEq(p["KmsMasterKeyId"], getAtt(logicalID(r.stack.Keys.Data))) {
			t.Errorf("%s: KmsMasterKeyId = %v, want the data key", id, p["KmsMasterKeyId"])
		}
		if p["RedrivePolicy"] == nil {
			// A DLQ: some redrive policy, rule target, function, schedule or
			// subscription names it as its dead-letter target.
			asDLQ := []string{
				`"deadLetterTargetArn":{"Fn::GetAtt":["` + id + `","Arn"]}`,
				`"DeadLetterConfig":{"Arn":{"Fn::GetAtt":["` + id + `","Arn"]}}`,
				`"DeadLetterConfig":{"TargetArn":{"Fn::GetAtt":["` + id + `","Arn"]}}`,
			}
			if !slices.ContainsFunc(asDLQ, func(s string) bool { return strings.Contains(all, s) }) {
				t.Errorf("%s: no redrive policy and not used as a DLQ", id)
			}
		}
	}
	// TLS only: each queue's policy denies insecure transport.
	tls := map[string]bool{}
	for _, pol := range r.ofType("AWS::SQS::QueuePolicy") {
		deny := false
		for _, st := range asList(path(props(pol), "PolicyDocument", "Statement")) {
			if path(st, "Effect") == "Deny" && path(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
				deny = true
			}
		}
		for _, q := range asList(props(pol)["Queues"]) {
			if deny {
				tls[path(q, "Ref").(string)] = true
			}
		}
	}
	for id := range queues {
		if !tls[id] {
			t.Errorf("%s: no TLS-only queue policy", id)
		}
	}
}

// --- bus, schedule ----------------------------------------------------------------------

func TestBusRulesDeliverToTheRightQueuesWithDLQAndRetries(t *testing.T) {
	r := synth(t)
	for _, route := range busRoutes {
		rule := r.resource(t, logicalID(r.stack.Bus.Rules[route.function]))
		p := props(rule)
		if !jsonEq(p["EventBusName"], ref(logicalID(r.stack.Bus.Bus))) {
			t.Errorf("rule %s is on %v, want the custom bus", route.id, p["EventBusName"])
		}
		var types []any
		for _, dt := range route.detailTypes {
			types = append(types, string(dt))
		}
		if !jsonEq(path(p, "EventPattern", "source"), []any{route.source}) || !jsonEq(path(p, "EventPattern", "detail-type"), types) {
			t.Errorf("rule %s pattern = %v", route.id, p["EventPattern"])
		}
		targets := asList(p["Targets"])
		if len(targets) != 1 {
			t.Fatalf("rule %s has %d targets", route.id, len(targets))
		}
		tg := targets[0]
		if !jsonEq(path(tg, "Arn"), getAtt(r.queueID(r.stack.Queues.Work[route.function].Queue))) {
			t.Errorf("rule %s targets %v, want the %s queue", route.id, path(tg, "Arn"), route.function)
		}
		if path(tg, "DeadLetterConfig", "Arn") == nil || path(tg, "RetryPolicy", "MaximumRetryAttempts") == nil {
			t.Errorf("rule %s target has no DLQ or retry policy: %v", route.id, tg)
		}
	}
	// Exactly the shared lists of shared/kyc, nothing typed twice.
	for fn, want := range map[string][]kyc.EventType{
		contract.FunctionBillingIntake:  kyc.BillingEvents,
		contract.FunctionBillingAdapter: kyc.ServiceCommands,
		contract.FunctionNotifier:       kyc.CustomerNotices,
	} {
		got := strs(path(r.resource(t, logicalID(r.stack.Bus.Rules[fn])), "Properties", "EventPattern", "detail-type"))
		if len(got) != len(want) {
			t.Errorf("rule to %s: detail-types %v, want %v", fn, got, want)
		}
		for i := range got {
			if i < len(want) && got[i] != string(want[i]) {
				t.Errorf("rule to %s: detail-types %v, want %v", fn, got, want)
			}
		}
	}
}

func TestSweepScheduleRetriesDeadLettersAndSendsAScheduledEvent(t *testing.T) {
	r := synth(t)
	sched := props(r.resource(t, logicalID(r.stack.Schedule.Schedule)))
	if sched["ScheduleExpression"] != "rate(5 minutes)" || path(sched, "FlexibleTimeWindow", "Mode") != "OFF" {
		t.Errorf("ScheduleExpression/FlexibleTimeWindow = %v/%v", sched["ScheduleExpression"], sched["FlexibleTimeWindow"])
	}
	target := sched["Target"]
	if !jsonEq(path(target, "Arn"), getAtt(r.functionID(t, contract.FunctionSweep))) {
		t.Errorf("target = %v, want the sweep", path(target, "Arn"))
	}
	if path(target, "RetryPolicy", "MaximumRetryAttempts") != 3.0 || path(target, "RetryPolicy", "MaximumEventAgeInSeconds") != 300.0 {
		t.Errorf("RetryPolicy = %v", path(target, "RetryPolicy"))
	}
	if !jsonEq(path(target, "DeadLetterConfig", "Arn"), getAtt(logicalID(r.stack.Schedule.DLQ))) {
		t.Errorf("DeadLetterConfig = %v", path(target, "DeadLetterConfig"))
	}
	// Input: resolve the join with stand-ins for the account and region.
	parts := asList(path(target, "Input", "Fn::Join", 1))
	var b strings.Builder
	for _, p := range parts {
		switch {
		case jsonEq(p, ref("AWS::AccountId")):
			b.WriteString("111122223333")
		case jsonEq(p, ref("AWS::Region")):
			b.WriteString("eu-test-1")
		default:
			s, ok := p.(string)
			if !ok {
				t.Fatalf("unexpected part %v in Input", p)
			}
			b.WriteString(s)
		}
	}
	want := `{"version":"0","id":"<aws.scheduler.execution-id>","detail-type":"Scheduled Event","source":"aws.scheduler","account":"111122223333","time":"<aws.scheduler.scheduled-time>","region":"eu-test-1","resources":["<aws.scheduler.schedule-arn>"],"detail":{}}`
	if b.String() != want {
		t.Errorf("Input =\n%s\nwant\n%s", b.String(), want)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(b.String()), &ev); err != nil {
		t.Errorf("Input is not JSON: %v", err)
	}
	// The schedule's role may invoke the sweep and dead-letter, nothing else.
	roleID, _ := path(target, "RoleArn", "Fn::GetAtt", 0).(string)
	var actions []string
	for _, st := range r.policiesOfRole(roleID) {
		actions = append(actions, strs(st["Action"])...)
		if slices.Contains(strs(st["Action"]), "lambda:InvokeFunction") && !jsonEq(st["Resource"], getAtt(r.functionID(t, contract.FunctionSweep))) {
			t.Errorf("scheduler may invoke %v, want the sweep only", st["Resource"])
		}
	}
	sort.Strings(actions)
	if want := []string{"kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction", "sqs:SendMessage"}; !slices.Equal(actions, want) {
		t.Errorf("scheduler role actions = %v, want %v", actions, want)
	}
	// The sweep itself keeps failed asynchronous invocations.
	if !jsonEq(path(r.resources[r.functionID(t, contract.FunctionSweep)], "Properties", "DeadLetterConfig", "TargetArn"), getAtt(logicalID(r.stack.Functions.SweepDLQ))) {
		t.Error("the sweep function has no DLQ")
	}
}

// --- API ------------------------------------------------------------------------------------

func TestOneRoutePerContractRouteWithItsAuthorization(t *testing.T) {
	r := synth(t)
	routes := r.ofType("AWS::ApiGatewayV2::Route")
	if len(routes) != len(contract.Routes) {
		t.Errorf("%d routes, want %d (contract.Routes)", len(routes), len(contract.Routes))
	}
	byKey := map[string]map[string]any{}
	for _, rt := range routes {
		byKey[props(rt)["RouteKey"].(string)] = props(rt)
	}
	integrationOf := map[string]string{} // integration id → function id
	for id, in := range r.ofType("AWS::ApiGatewayV2::Integration") {
		fnID, _ := path(props(in), "IntegrationUri", "Fn::GetAtt", 0).(string)
		integrationOf[id] = fnID
		if props(in)["PayloadFormatVersion"] != "2.0" || props(in)["IntegrationType"] != "AWS_PROXY" {
			t.Errorf("integration %s: PayloadFormatVersion/IntegrationType = %v/%v", id, props(in)["PayloadFormatVersion"], props(in)["IntegrationType"])
		}
	}
	var authID string
	for id := range r.ofType("AWS::ApiGatewayV2::Authorizer") {
		authID = id
	}
	for _, want := range contract.Routes {
		p, ok := byKey[want.Pattern]
		if !ok {
			t.Errorf("no route %q", want.Pattern)
			continue
		}
		switch want.Auth {
		case contract.AuthJWT:
			if p["AuthorizationType"] != "JWT" || !jsonEq(p["AuthorizerId"], ref(authID)) {
				t.Errorf("%s: AuthorizationType/AuthorizerId = %v/%v, want JWT/the JWT authorizer", want.Pattern, p["AuthorizationType"], p["AuthorizerId"])
			}
		case contract.AuthNone, contract.AuthPage:
			if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
				t.Errorf("%s: AuthorizationType/AuthorizerId = %v/%v, want NONE/none", want.Pattern, p["AuthorizationType"], p["AuthorizerId"])
			}
		}
		target, _ := p["Target"].(map[string]any)
		integ, _ := path(target, "Fn::Join", 1, 1, "Ref").(string)
		if got := integrationOf[integ]; got != r.functionID(t, want.Function) {
			t.Errorf("%s: integrates %q, want function %s (%s)", want.Pattern, got, want.Function, r.functionID(t, want.Function))
		}
	}
}

func TestJWTAuthorizerUsesIssuerAndAudienceFromProps(t *testing.T) {
	r := synth(t)
	match(t, "JWT authorizer", func() {
		r.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType": "JWT",
			"IdentitySource": []any{"$request.header.Authorization"},
			"JwtConfiguration": map[string]any{
				"Issuer":   testConfig.JWTIssuer,
				"Audience": []any{testConfig.JWTAudience[0], testConfig.JWTAudience[1]},
			},
		})
	})
}

func TestStageLogsJSONAndThrottles(t *testing.T) {
	r := synth(t)
	stages := r.ofType("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages, want 1", len(stages))
	}
	for _, st := range stages {
		p := props(st)
		if p["StageName"] != "$default" || p["AutoDeploy"] != true {
			t.Errorf("StageName/AutoDeploy = %v/%v", p["StageName"], p["AutoDeploy"])
		}
		if path(p, "DefaultRouteSettings", "ThrottlingRateLimit") != testConfig.APIThrottleRate ||
			path(p, "DefaultRouteSettings", "ThrottlingBurstLimit") != float64(testConfig.APIThrottleBurst) {
			t.Errorf("DefaultRouteSettings = %v, want rate %v burst %v", p["DefaultRouteSettings"], testConfig.APIThrottleRate, testConfig.APIThrottleBurst)
		}
		if !jsonEq(path(p, "AccessLogSettings", "DestinationArn"), getAtt(logicalID(r.stack.API.AccessLogs))) {
			t.Errorf("access logs go to %v", path(p, "AccessLogSettings", "DestinationArn"))
		}
		var f map[string]string
		if err := json.Unmarshal([]byte(path(p, "AccessLogSettings", "Format").(string)), &f); err != nil || f["requestId"] != "$context.requestId" {
			t.Errorf("access log format is not the JSON format: %v (%v)", path(p, "AccessLogSettings", "Format"), err)
		}
	}
	match(t, "CORS for the upload origins", func() {
		r.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
			"CorsConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"AllowOrigins": []any{testConfig.UploadOrigins[0], testConfig.UploadOrigins[1]},
			}),
		})
	})
}

// --- alarms, outputs ------------------------------------------------------------------------

func TestAlarmsCoverEveryDLQEveryFunctionAndTheReviewSLA(t *testing.T) {
	r := synth(t)
	alarms := r.ofType("AWS::CloudWatch::Alarm")
	topic := ref(logicalID(r.stack.Alarms.Topic))
	watched := map[string]bool{}
	errorsOf := map[string]bool{}
	var sla map[string]any
	for id, a := range alarms {
		p := props(a)
		if !jsonEq(p["AlarmActions"], []any{topic}) {
			t.Errorf("%s: AlarmActions = %v, want the alarm topic", id, p["AlarmActions"])
		}
		switch p["MetricName"] {
		case "ApproximateNumberOfMessagesVisible":
			if p["Threshold"] != 0.0 || p["ComparisonOperator"] != "GreaterThanThreshold" {
				t.Errorf("%s: %v %v", id, p["ComparisonOperator"], p["Threshold"])
			}
			for _, d := range asList(p["Dimensions"]) {
				watched[fmt.Sprint(path(d, "Value", "Fn::GetAtt", 0))] = true
			}
		case "Errors":
			for _, d := range asList(p["Dimensions"]) {
				errorsOf[fmt.Sprint(path(d, "Value", "Ref"))] = true
			}
		case contract.MetricOldestPendingReview:
			sla = p
		}
	}
	if len(r.stack.Queues.DLQs) < 10 {
		t.Errorf("%d DLQs registered, want at least 10 (4 redrive, 3 rules, the scan results' rule, scheduler, sweep)", len(r.stack.Queues.DLQs))
	}
	for _, dlq := range r.stack.Queues.DLQs {
		if !watched[logicalID(dlq)] {
			t.Errorf("no alarm on DLQ %s", *dlq.Node().Path())
		}
	}
	for _, id := range []string{logicalID(r.stack.Schedule.DLQ), logicalID(r.stack.Functions.SweepDLQ)} {
		if !watched[id] {
			t.Errorf("no alarm on %s", id)
		}
	}
	for _, name := range contract.Functions {
		if !errorsOf[r.functionID(t, name)] {
			t.Errorf("no Errors alarm for %s", name)
		}
	}
	if sla == nil {
		t.Fatal("no review SLA alarm")
	}
	if sla["Namespace"] != testConfig.MetricsNamespace || sla["Threshold"] != float64(testConfig.ReviewSLAHours*3600) ||
		sla["TreatMissingData"] != "notBreaching" || sla["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("SLA alarm = %v", sla)
	}
	match(t, "encrypted, TLS-only topic with the e-mail subscription", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": getAtt(logicalID(r.stack.Keys.Data))})
		r.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": testConfig.AlarmEmail, "RedrivePolicy": assertions.Match_AnyValue(),
		})
		r.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
		r.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Allow", "Action": "sns:Publish", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Condition": assertions.Match_ObjectLike(&map[string]any{"ArnLike": assertions.Match_AnyValue()}),
			})})},
		})
	})
}

func TestOutputs(t *testing.T) {
	r := synth(t)
	for _, o := range []string{"ApiUrl", "DocumentsBucketName", "TableName", "EventBusName"} {
		if _, ok := r.outputs[o]; !ok {
			t.Errorf("no output %s", o)
		}
	}
	if !jsonEq(path(r.outputs, "TableName", "Value"), ref(logicalID(r.stack.Table.Table))) {
		t.Errorf("TableName output = %v", path(r.outputs, "TableName", "Value"))
	}
}

// --- cdk-nag ----------------------------------------------------------------------------------

func TestCdkNagLeavesNoUnsuppressedFinding(t *testing.T) {
	r := synth(t)
	for _, f := range r.findings {
		t.Error(f)
	}
	// The packs did run: both wrote their report, with suppressed rows.
	for _, pack := range []string{"AwsSolutions", "Serverless"} {
		matches, _ := filepath.Glob(filepath.Join(r.outdir, pack+"-*NagReport.csv"))
		if len(matches) != 1 {
			t.Errorf("%s pack report not found in %s", pack, r.outdir)
			continue
		}
		b, err := os.ReadFile(matches[0])
		if err != nil || !strings.Contains(string(b), `"Suppressed"`) || strings.Contains(string(b), `"Non-Compliant"`) {
			t.Errorf("%s report: suppressed rows present=%v, non-compliant rows present=%v (%v)",
				pack, strings.Contains(string(b), `"Suppressed"`), strings.Contains(string(b), `"Non-Compliant"`), err)
		}
	}
}

// The gate itself: a stack with a finding makes synthFindings report it.
func TestSynthFindingsReportsUnsuppressedNagFindings(t *testing.T) {
	synth(t) // share the jsii runtime start-up with the main synthesis
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(tmpRoot, "bad.out")), AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awssqs.NewQueue(stack, jsii.String("Plain"), &awssqs.QueueProps{Encryption: awssqs.QueueEncryption_UNENCRYPTED})
	addNagPacks(app)
	asm := app.Synth(nil)
	findings, err := synthFindings(*asm.Directory(), *stack.ArtifactId())
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(findings, "\n")
	for _, id := range []string{"AwsSolutions-SQS3", "AwsSolutions-SQS4", "Serverless-SQSRedrivePolicy"} {
		if !strings.Contains(joined, id) {
			t.Errorf("findings do not mention %s:\n%s", id, joined)
		}
	}
}
