package stack

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
)

func TestMain(m *testing.M) { emulator.Main(m) }

// Logical ids of the fixture (testdata/fixture.template.json, written by hand
// in the shape of `cdk synth` output).
const (
	fxKey           = "KeysDocumentsKey2C70E12B"
	fxMacKey        = "KeysMacKey348A629F"
	fxBucket        = "DocumentsBucketC5879B8D"
	fxTable         = "DataTable0D4FC4A7"
	fxBus           = "BusEventBus04E027E4"
	fxValidatorQ    = "ValidatorQueue79261C24"
	fxValidatorDLQ  = "ValidatorDeadLetterQueue9EADBB85"
	fxIntakeQ       = "IntakeQueue39C4D7FD"
	fxNotifierQ     = "NotifierQueue6D65166D"
	fxBillingSecret = "BillingSecret62321016"
	fxWebhookSecret = "WebhookSecret509BCF06"
	fxHandler       = "BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691"
)

func fixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixture.template.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// deploy deploys a template under a fresh prefix and destroys it when the
// test ends.
func deploy(tb testing.TB, cfg aws.Config, template []byte) *Stack {
	tb.Helper()
	st, err := Deploy(context.Background(), cfg, template, Options{Prefix: emulator.UniqueName(tb, "stack")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Destroy(context.Background()); err != nil {
			tb.Errorf("destroy: %v", err)
		}
	})
	return st
}

// drain receives every message now in a queue (S3's test event left out).
func drain(tb testing.TB, c *sqs.Client, url string) []string {
	tb.Helper()
	var bodies []string
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			tb.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				tb.Fatal(err)
			}
			if !strings.Contains(aws.ToString(m.Body), `"s3:TestEvent"`) {
				bodies = append(bodies, aws.ToString(m.Body))
			}
		}
	}
}

func TestDeployFixture(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	st := deploy(t, cfg, fixture(t))
	arn := func(id string) string { return st.Resources[id].Attrs["Arn"] }
	sq := sqs.NewFromConfig(cfg)

	t.Run("the table has the keys, the GSIs, SSE with the stack's key, TTL and PITR", func(t *testing.T) {
		c := dynamodb.NewFromConfig(cfg)
		name := st.PhysicalID(fxTable)
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			t.Fatal(err)
		}
		tbl := out.Table
		if got := keySchema(tbl.KeySchema); got != "pk HASH, sk RANGE" {
			t.Errorf("key schema %s", got)
		}
		gsis := map[string]string{}
		for _, g := range tbl.GlobalSecondaryIndexes {
			gsis[aws.ToString(g.IndexName)] = keySchema(g.KeySchema) + " / " + string(g.Projection.ProjectionType) + " " + strings.Join(g.Projection.NonKeyAttributes, ",")
		}
		want := map[string]string{
			contract.IndexDue:   "duePk HASH, dueSk RANGE / ALL ",
			contract.IndexQueue: "queuePk HASH, queueSk RANGE / INCLUDE customerId,submittedAt",
		}
		if !reflect.DeepEqual(gsis, want) {
			t.Errorf("GSIs %v, want %v", gsis, want)
		}
		if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
			t.Errorf("billing mode %+v", tbl.BillingModeSummary)
		}
		if sse := tbl.SSEDescription; sse == nil || sse.SSEType != ddbtypes.SSETypeKms || aws.ToString(sse.KMSMasterKeyArn) != arn(fxKey) {
			t.Errorf("SSE %+v, want KMS with %s", sse, arn(fxKey))
		}
		ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
		if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != contract.AttrTTL || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
			t.Errorf("TTL %+v, %v", ttl, err)
		}
		pitr, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &name})
		if err != nil || pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			t.Errorf("PITR %+v, %v", pitr, err)
		}
	})

	t.Run("the bucket is encrypted with aws:kms and the deployed key, versioned, with lifecycle and CORS", func(t *testing.T) {
		c := awsenv.S3(cfg)
		bucket := aws.String(st.PhysicalID(fxBucket))
		enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		rule := enc.ServerSideEncryptionConfiguration.Rules[0]
		if def := rule.ApplyServerSideEncryptionByDefault; def.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms || aws.ToString(def.KMSMasterKeyID) != arn(fxKey) || !aws.ToBool(rule.BucketKeyEnabled) {
			t.Errorf("encryption %+v (bucket key %v), want aws:kms with %s and a bucket key", def, aws.ToBool(rule.BucketKeyEnabled), arn(fxKey))
		}
		ver, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
		if err != nil || ver.Status != s3types.BucketVersioningStatusEnabled {
			t.Errorf("versioning %v, %v", ver.Status, err)
		}
		lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		var unsubmitted *s3types.LifecycleRule
		for i := range lc.Rules {
			if aws.ToString(lc.Rules[i].ID) == "expire-unsubmitted" {
				unsubmitted = &lc.Rules[i]
			}
		}
		if unsubmitted == nil || unsubmitted.Filter == nil || unsubmitted.Filter.And == nil ||
			aws.ToString(unsubmitted.Filter.And.Prefix) != contract.DocumentsPrefix || len(unsubmitted.Filter.And.Tags) != 1 ||
			aws.ToString(unsubmitted.Filter.And.Tags[0].Key) != contract.TagState || aws.ToInt32(unsubmitted.Expiration.Days) != 7 {
			t.Errorf("lifecycle rules %+v: want expire-unsubmitted on docs/ with tag %s after 7 days", lc.Rules, contract.TagState)
		}
		cors, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: bucket})
		if err != nil || len(cors.CORSRules) != 1 || cors.CORSRules[0].AllowedMethods[0] != "POST" || aws.ToInt32(cors.CORSRules[0].MaxAgeSeconds) != 300 {
			t.Errorf("CORS %+v, %v", cors, err)
		}
	})

	t.Run("an object created under the notification prefix arrives in the validator queue", func(t *testing.T) {
		c := awsenv.S3(cfg)
		bucket := st.PhysicalID(fxBucket)
		queue := st.PhysicalID(fxValidatorQ)
		drain(t, sq, queue)
		for _, key := range []string{"elsewhere/x", "docs/c-1/d-1"} {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader("%PDF-1.7")}); err != nil {
				t.Fatal(err)
			}
		}
		msgs := drain(t, sq, queue)
		if len(msgs) != 1 {
			t.Fatalf("validator queue got %d messages, want 1 (docs/ only): %q", len(msgs), msgs)
		}
		var ev struct {
			Records []struct {
				EventName string
				S3        struct {
					Bucket struct{ Name string }
					Object struct{ Key string }
				} `json:"s3"`
			}
		}
		if err := json.Unmarshal([]byte(msgs[0]), &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("not an S3 event: %s (%v)", msgs[0], err)
		}
		r := ev.Records[0]
		// Keys in S3 events are URL-encoded (moto also encodes "/" as %2F).
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil || !strings.HasPrefix(r.EventName, "ObjectCreated:") || r.S3.Bucket.Name != bucket || key != "docs/c-1/d-1" {
			t.Fatalf("event %+v", r)
		}
	})

	t.Run("events on the bus reach the queue of the rule they match, and only that one", func(t *testing.T) {
		c := eventbridge.NewFromConfig(cfg)
		bus := st.PhysicalID(fxBus)
		intake, notifier := st.PhysicalID(fxIntakeQ), st.PhysicalID(fxNotifierQ)
		drain(t, sq, intake)
		drain(t, sq, notifier)
		put := func(source, detailType string) {
			out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				EventBusName: &bus, Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(`{"orderId":"o-1"}`),
			}}})
			if err != nil || out.FailedEntryCount != 0 {
				t.Fatalf("PutEvents: %v %+v", err, out)
			}
		}
		put(contract.SourceBilling, "OrderPlaced")
		put(contract.SourceBilling, "SomethingElse") // matches no rule
		put(contract.SourceKYC, "KycVerified")       // the notices rule
		got := drain(t, sq, intake)
		if len(got) != 1 || !strings.Contains(got[0], `"detail-type": "OrderPlaced"`) && !strings.Contains(got[0], `"detail-type":"OrderPlaced"`) {
			t.Errorf("intake queue got %q, want the OrderPlaced event only", got)
		}
		got = drain(t, sq, notifier)
		if len(got) != 1 || !strings.Contains(got[0], "KycVerified") {
			t.Errorf("notifier queue got %q, want the KycVerified event only", got)
		}
	})

	t.Run("the queue's redrive policy points to its DLQ, and the emulator redrives", func(t *testing.T) {
		queue, dlq := st.PhysicalID(fxValidatorQ), st.PhysicalID(fxValidatorDLQ)
		out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queue, AttributeNames: []sqstypes.QueueAttributeName{"RedrivePolicy", "VisibilityTimeout"}})
		if err != nil {
			t.Fatal(err)
		}
		var rp struct {
			DeadLetterTargetArn string
			MaxReceiveCount     json.Number
		}
		if err := json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &rp); err != nil || rp.DeadLetterTargetArn != arn(fxValidatorDLQ) || rp.MaxReceiveCount != "5" {
			t.Fatalf("redrive policy %q (%v), want %s after 5", out.Attributes["RedrivePolicy"], err, arn(fxValidatorDLQ))
		}
		if out.Attributes["VisibilityTimeout"] != "60" {
			t.Errorf("visibility timeout %s, want 60", out.Attributes["VisibilityTimeout"])
		}
		drain(t, sq, queue)
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("poison")}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ { // received 5 times and never deleted: moved on the 6th receive
			out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages { // make it visible again at once
				if _, err := sq.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := drain(t, sq, dlq); len(got) != 1 || got[0] != "poison" {
			t.Fatalf("DLQ holds %q, want the poison message", got)
		}
	})

	t.Run("the MAC key is an HMAC key that generates MACs", func(t *testing.T) {
		c := kms.NewFromConfig(cfg)
		id := st.PhysicalID(fxMacKey)
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
		if err != nil || out.KeyMetadata.KeySpec != kmstypes.KeySpecHmac256 || out.KeyMetadata.KeyUsage != kmstypes.KeyUsageTypeGenerateVerifyMac {
			t.Fatalf("key %+v, %v", out, err)
		}
		if _, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(arn(fxMacKey)), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256, Message: []byte("P1234567")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("generated secrets follow their templates", func(t *testing.T) {
		c := secretsmanager.NewFromConfig(cfg)
		get := func(id string) string {
			out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(st.PhysicalID(id))})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.SecretString)
		}
		var billing map[string]string
		if err := json.Unmarshal([]byte(get(fxBillingSecret)), &billing); err != nil || billing["identifier"] != "kyc-gate" || len(billing["secret"]) != 32 {
			t.Errorf("billing secret %v (%v)", billing, err)
		}
		if s := get(fxWebhookSecret); len(s) != 48 || strings.ContainsAny(s, punctuation) {
			t.Errorf("webhook secret %q: want 48 characters without punctuation", s)
		}
	})

	t.Run("the functions' environment names the created resources", func(t *testing.T) {
		want := map[string]string{
			contract.EnvTable:    st.PhysicalID(fxTable),
			contract.EnvBucket:   st.PhysicalID(fxBucket),
			contract.EnvKeyID:    arn(fxKey),
			contract.EnvMacKeyID: arn(fxMacKey),
			contract.EnvEventBus: st.PhysicalID(fxBus),
		}
		fn := st.Functions[contract.FunctionCustomerAPI]
		if fn == nil {
			t.Fatalf("no %s in %v", contract.FunctionCustomerAPI, st.FunctionNames())
		}
		for k, v := range want {
			if fn.Env[k] != v || v == "" {
				t.Errorf("%s=%q, want %q", k, fn.Env[k], v)
			}
		}
		if fn.Env[contract.EnvKYCProducts] != "kyc-vps" || fn.Timeout != 10*time.Second || fn.MemoryMB != 256 {
			t.Errorf("customer-api: products %q, timeout %s, memory %d", fn.Env[contract.EnvKYCProducts], fn.Timeout, fn.MemoryMB)
		}
		// The names work against the emulator.
		if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(fn.Env[contract.EnvTable])}); err != nil {
			t.Errorf("%s: %v", contract.EnvTable, err)
		}
		if _, err := awsenv.S3(cfg).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(fn.Env[contract.EnvBucket])}); err != nil {
			t.Errorf("%s: %v", contract.EnvBucket, err)
		}
		intake := st.Functions[contract.FunctionBillingIntake]
		if _, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(intake.Env[contract.EnvWebhookSecretARN])}); err != nil {
			t.Errorf("%s=%q: %v", contract.EnvWebhookSecretARN, intake.Env[contract.EnvWebhookSecretARN], err)
		}
		if got := st.Functions[contract.FunctionNotifier].Env[contract.EnvMailFrom]; got != "kyc@kyc.example.com" {
			t.Errorf("%s=%q (Fn::Join over the SES identity)", contract.EnvMailFrom, got)
		}
		if got := st.Functions[contract.FunctionSweep].Env[contract.EnvMetricsNamespace]; got != "KycGate/"+st.Prefix {
			t.Errorf("%s=%q (Fn::Sub over AWS::StackName)", contract.EnvMetricsNamespace, got)
		}
	})

	t.Run("queue triggers, the schedule, routes and the authorizer are read", func(t *testing.T) {
		v := st.Functions[contract.FunctionValidator]
		if len(v.Queues) != 1 || v.Queues[0].URL != st.PhysicalID(fxValidatorQ) || v.Queues[0].ARN != arn(fxValidatorQ) || v.Queues[0].BatchSize != 5 || !v.Queues[0].ReportBatchItemFailures {
			t.Errorf("validator triggers %+v", v.Queues)
		}
		s := st.Functions[contract.FunctionSweep].Schedule
		if s == nil || s.Every != 15*time.Minute || s.Expression != "rate(15 minutes)" || s.Input != `{"source":"kyc.sweep"}` || !strings.HasPrefix(s.ARN, "arn:aws:scheduler:us-east-1:") {
			t.Errorf("sweep schedule %+v", s)
		}
		routes := map[string]string{}
		for _, fn := range st.Functions {
			for _, r := range fn.Routes {
				routes[r.Key] = fn.Name + " " + string(r.Auth)
			}
		}
		if len(routes) != 17 || routes["GET /v1/kyc/status"] != "customer-api jwt" || routes["POST /v1/admin/submissions/{id}/decision"] != "admin-api jwt" || routes["POST /v1/billing/events"] != "billing-intake none" {
			t.Errorf("routes %v: want the fixture's 17, JWT except the billing webhook", routes)
		}
		if a := st.Authorizer; a == nil || a.Issuer != "https://issuer.kyc.local" || !reflect.DeepEqual(a.Audience, []string{"kyc-gate"}) {
			t.Errorf("authorizer %+v", a)
		}
	})

	t.Run("what is not created is listed with the reason", func(t *testing.T) {
		skipped := map[string]string{}
		for _, s := range st.Skipped {
			skipped[s.LogicalID] = s.Type
		}
		if skipped[fxHandler] != "AWS::Lambda::Function" || skipped["CDKMetadata"] != "AWS::CDK::Metadata" {
			t.Errorf("skipped %v: want CDK's notifications handler and metadata", skipped)
		}
		notes := map[string]bool{}
		for _, n := range st.NotApplied {
			notes[n.Type+" "+n.What] = true
			if n.Reason == "" {
				t.Errorf("note without a reason: %+v", n)
			}
		}
		for _, w := range []string{
			"AWS::S3::BucketPolicy PolicyDocument",
			"AWS::S3::Bucket PublicAccessBlockConfiguration",
			"AWS::DynamoDB::Table DeletionProtectionEnabled",
			"AWS::Events::Rule Targets[0].DeadLetterConfig",
			"AWS::SQS::QueuePolicy PolicyDocument", // the notifier's names an IAM role
		} {
			if !notes[w] {
				t.Errorf("no note for %s", w)
			}
		}
	})
}

func keySchema(ks []ddbtypes.KeySchemaElement) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return strings.Join(parts, ", ")
}

// Destroy removes every created resource, also from a stack read back by
// Load, and can be repeated.
func TestDestroyRemovesEverything(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	st, err := Deploy(ctx, cfg, fixture(t), Options{Prefix: emulator.UniqueName(t, "destroy")})
	if err != nil {
		t.Fatal(err)
	}
	created := append([]string(nil), st.Created...)
	path := filepath.Join(t.TempDir(), "stack.json")
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Functions, st.Functions) || !reflect.DeepEqual(loaded.Resources, st.Resources) {
		t.Fatal("the loaded stack differs from the saved one")
	}
	if err := loaded.Destroy(ctx); err == nil || !strings.Contains(err.Error(), "Attach") {
		t.Fatalf("Destroy without a configuration: %v", err)
	}
	loaded.Attach(cfg)
	if err := loaded.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range created {
		res := st.Resources[id]
		if gone, detail := absent(ctx, cfg, res); !gone {
			t.Errorf("%s (%s %s) still exists after Destroy: %s", id, res.Type, res.PhysicalID, detail)
		}
	}
	if len(loaded.Created) != 0 {
		t.Errorf("Created still lists %v", loaded.Created)
	}
	if err := st.Destroy(ctx); err != nil { // everything already gone
		t.Fatalf("second Destroy: %v", err)
	}
}

// absent reports whether a created resource is gone from the emulator.
func absent(ctx context.Context, cfg aws.Config, res Resource) (bool, string) {
	id := aws.String(res.PhysicalID)
	var err error
	switch res.Type {
	case "AWS::S3::Bucket":
		_, err = awsenv.S3(cfg).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: id})
	case "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable":
		_, err = dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: id})
	case "AWS::SQS::Queue":
		_, err = sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(res.Attrs["QueueName"])})
	case "AWS::Events::EventBus":
		_, err = eventbridge.NewFromConfig(cfg).DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: id})
	case "AWS::Events::Rule":
		_, err = eventbridge.NewFromConfig(cfg).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(res.Attrs["Name"]), EventBusName: aws.String(res.Attrs["EventBusName"])})
	case "AWS::SecretsManager::Secret":
		_, err = secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: id})
	case "AWS::SNS::Topic":
		_, err = sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: id})
	case "AWS::KMS::Key": // keys cannot be deleted at once: pending deletion is gone for use
		out, derr := kms.NewFromConfig(cfg).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		if derr != nil {
			return false, derr.Error()
		}
		return out.KeyMetadata.KeyState == kmstypes.KeyStatePendingDeletion, string(out.KeyMetadata.KeyState)
	case "AWS::KMS::Alias":
		out, lerr := kms.NewFromConfig(cfg).ListAliases(ctx, &kms.ListAliasesInput{})
		if lerr != nil {
			return false, lerr.Error()
		}
		for _, a := range out.Aliases {
			if aws.ToString(a.AliasName) == res.PhysicalID {
				return false, "alias listed"
			}
		}
		return true, ""
	default:
		return false, "the test does not know how to look for " + res.Type
	}
	if err == nil {
		return false, "found"
	}
	return true, ""
}

// Two stacks with different prefixes share no name, and an event on one
// stack's bus does not reach the other's queues.
func TestPrefixesDoNotCollide(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	stacks := make([]*Stack, 2)
	errs := make(chan error, 2)
	for i := range stacks {
		go func() {
			st, err := Deploy(ctx, cfg, fixture(t), Options{Prefix: emulator.UniqueName(t, "parallel")})
			stacks[i] = st
			errs <- err
		}()
	}
	for range stacks {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range stacks {
		t.Cleanup(func() {
			if err := st.Destroy(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	a, b := stacks[0], stacks[1]
	for _, id := range a.Created {
		if a.PhysicalID(id) == b.PhysicalID(id) {
			t.Errorf("%s is %s in both stacks", id, a.PhysicalID(id))
		}
	}
	sq := sqs.NewFromConfig(cfg)
	drain(t, sq, b.PhysicalID(fxIntakeQ))
	_, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(a.PhysicalID(fxBus)), Source: aws.String(contract.SourceBilling), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, sq, a.PhysicalID(fxIntakeQ)); len(got) != 1 {
		t.Errorf("stack A's intake queue got %d events, want 1", len(got))
	}
	if got := drain(t, sq, b.PhysicalID(fxIntakeQ)); len(got) != 0 {
		t.Errorf("stack B's intake queue got %q from stack A's bus", got)
	}
}

// A failing resource stops the deployment with its name and property path,
// and what was already created is removed.
func TestDeployRollsBackOnError(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	tpl := []byte(`{"Resources":{
		"AQueue":{"Type":"AWS::SQS::Queue","Properties":{}},
		"ZQueue":{"Type":"AWS::SQS::Queue","Properties":{"RedrivePolicy":{"deadLetterTargetArn":{"Fn::GetAtt":["Missing","Arn"]},"maxReceiveCount":3}}}}}`)
	prefix := emulator.UniqueName(t, "rollback")
	_, err := Deploy(ctx, cfg, tpl, Options{Prefix: prefix})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	for _, w := range []string{"ZQueue (AWS::SQS::Queue)", "Properties.RedrivePolicy.deadLetterTargetArn", "Missing"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
	out, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.QueueUrls) != 0 {
		t.Fatalf("left behind: %v", out.QueueUrls)
	}
}

// offline is a configuration that reaches no emulator and does not retry:
// for templates rejected before anything is created.
func offline() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func TestDeployRejects(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		tpl    string
		want   []string
	}{
		{"no prefix", "", `{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}`, []string{"Prefix is required"}},
		{"not JSON", "p", `{`, []string{"parse template"}},
		{"a configuration for real AWS", "real-aws", `{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}`, []string{"names no emulator"}},
		{"no resources", "p", `{"Resources":{}}`, []string{"no Resources"}},
		{"a type with no rule, named with its resource", "p",
			`{"Resources":{"Pool":{"Type":"AWS::Cognito::IdentityPool"},"Q":{"Type":"AWS::SQS::Queue"},"Param":{"Type":"AWS::SSM::Parameter"}}}`,
			[]string{"Param (AWS::SSM::Parameter)", "Pool (AWS::Cognito::IdentityPool)", "no rule"}},
		{"a function's environment naming a missing resource", "p",
			`{"Resources":{"Fn":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}],"Environment":{"Variables":{"KYC_TABLE":{"Ref":"Nope"}}}}}}}`,
			[]string{"Fn (AWS::Lambda::Function)", "Properties.Environment.Variables.KYC_TABLE.Ref", "Nope"}},
		{"a function's environment naming an IAM role", "p",
			`{"Resources":{"Role":{"Type":"AWS::IAM::Role"},"Fn":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}],"Environment":{"Variables":{"ROLE":{"Fn::GetAtt":["Role","Arn"]}}}}}}}`,
			[]string{"Properties.Environment.Variables.ROLE", "Role (AWS::IAM::Role) is not on the emulator: IAM is not enforced"}},
		{"two functions with one tag", "p",
			`{"Resources":{"A":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}]}},"B":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}]}}}}`,
			[]string{"B (AWS::Lambda::Function)", "also on A"}},
		{"a dependency cycle", "p",
			`{"Resources":{"A":{"Type":"AWS::Lambda::Function","DependsOn":"B"},"B":{"Type":"AWS::Lambda::Function","DependsOn":["A"]}}}`,
			[]string{"dependency cycle among A, B"}},
		{"a bad schedule expression", "p",
			`{"Resources":{"Fn":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}]}},
			  "S":{"Type":"AWS::Scheduler::Schedule","Properties":{"ScheduleExpression":"rate(5 weeks)","Target":{"Arn":{"Fn::GetAtt":["Fn","Arn"]},"RoleArn":{"Fn::GetAtt":["Nope","Arn"]}}}}}}`,
			[]string{"S (AWS::Scheduler::Schedule)", "rate(5 weeks)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := offline()
			if tt.prefix == "real-aws" {
				cfg.BaseEndpoint = nil
			}
			_, err := Deploy(context.Background(), cfg, []byte(tt.tpl), Options{Prefix: tt.prefix})
			if err == nil {
				t.Fatal("Deploy succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Interpreted resources need no emulator: a template of functions and their
// wiring deploys offline, and conditions, parameters and scheduled rules are
// honoured.
func TestDeployInterpretsFunctions(t *testing.T) {
	tpl := `{
	"Parameters":{"Issuer":{"Type":"String","Default":"https://default"}},
	"Conditions":{"Never":{"Fn::Equals":["a","b"]}},
	"Resources":{
	  "Fn":{"Type":"AWS::Lambda::Function","Properties":{"Tags":[{"Key":"kyc:function","Value":"sweep"}],"Timeout":"30","Role":{"Fn::GetAtt":["Role","Arn"]},
	        "Environment":{"Variables":{"REGION":{"Ref":"AWS::Region"},"SELF":{"Fn::Sub":"${AWS::StackName}"},"NUM":5,"ISS":{"Ref":"Issuer"}}}}},
	  "Role":{"Type":"AWS::IAM::Role"},
	  "Gone":{"Type":"AWS::SQS::Queue","Condition":"Never"},
	  "Tick":{"Type":"AWS::Events::Rule","Condition":"Never","Properties":{"ScheduleExpression":"rate(1 hour)","Targets":[{"Id":"t","Arn":{"Fn::GetAtt":["Fn","Arn"]}}]}},
	  "Api":{"Type":"AWS::ApiGatewayV2::Api"},
	  "Auth":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"ApiId":{"Ref":"Api"},"AuthorizerType":"JWT","JwtConfiguration":{"Issuer":{"Ref":"Issuer"},"Audience":["a","b"]}}},
	  "Int":{"Type":"AWS::ApiGatewayV2::Integration","Properties":{"ApiId":{"Ref":"Api"},"IntegrationUri":{"Fn::Join":["",["arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/",{"Fn::GetAtt":["Fn","Arn"]},"/invocations"]]}}},
	  "Route":{"Type":"AWS::ApiGatewayV2::Route","Properties":{"ApiId":{"Ref":"Api"},"RouteKey":"POST /x","Target":{"Fn::Join":["",["integrations/",{"Ref":"Int"}]]}}}
	}}`
	st, err := Deploy(context.Background(), offline(), []byte(tpl), Options{Prefix: "p", Parameters: map[string]string{"Issuer": "https://local"}})
	if err != nil {
		t.Fatal(err)
	}
	fn := st.Functions["sweep"]
	want := map[string]string{"REGION": "us-east-1", "SELF": "p", "NUM": "5", "ISS": "https://local"}
	if fn == nil || !reflect.DeepEqual(fn.Env, want) || fn.Timeout != 30*time.Second || fn.MemoryMB != 128 || fn.PhysicalName != "p-sweep" {
		t.Fatalf("function %+v", fn)
	}
	if !reflect.DeepEqual(fn.Routes, []Route{{Key: "POST /x", Auth: contract.AuthNone}}) {
		t.Errorf("routes %+v", fn.Routes)
	}
	if fn.Schedule != nil {
		t.Errorf("a rule under a false condition gave a schedule %+v", fn.Schedule)
	}
	if a := st.Authorizer; a == nil || a.Issuer != "https://local" || len(a.Audience) != 2 {
		t.Errorf("authorizer %+v", a)
	}
	if len(st.Created) != 0 {
		t.Errorf("created %v offline", st.Created)
	}
	var skipped []string
	for _, s := range st.Skipped {
		skipped = append(skipped, s.LogicalID+": "+s.Reason)
	}
	sort.Strings(skipped)
	if len(skipped) != 3 || !strings.HasPrefix(skipped[0], "Gone: condition Never is false") || !strings.HasPrefix(skipped[1], "Role: IAM") {
		t.Errorf("skipped %q", skipped)
	}
	if err := st.Destroy(context.Background()); err != nil {
		t.Errorf("Destroy of nothing: %v", err)
	}
}
