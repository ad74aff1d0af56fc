package stack

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/awsenv"
)

// A create whose response was lost is retried by the SDK, and the retry
// finds what the first attempt made. Since every name belongs to this
// deployment (its prefix), Deploy adopts it instead of failing: here the
// resources exist before Deploy runs, as after such a retry.
func TestDeployAdoptsWhatItsOwnRetryCreated(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	prefix := emulator.UniqueName(t, "retry")
	bus := physicalName(nameBus, prefix, "BusEventBus04E027E4", "")
	table := physicalName(nameTable, prefix, "DataTable0D4FC4A7", "")
	bucket := physicalName(nameBucket, prefix, "DocumentsBucketC5879B8D", "")
	secret := physicalName(nameSecret, prefix, "WebhookSecret509BCF06", "")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := awsenv.S3(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &secret, SecretString: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	st, err := Deploy(ctx, cfg, fixture(t), Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("deploy over its own earlier creations: %v", err)
	}
	t.Cleanup(func() { _ = st.Destroy(context.Background()) })
	for id, want := range map[string]string{"BusEventBus04E027E4": bus, "DataTable0D4FC4A7": table, "DocumentsBucketC5879B8D": bucket} {
		if got := st.PhysicalID(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if st.Resources["BusEventBus04E027E4"].Attrs["Arn"] == "" || st.Resources["DataTable0D4FC4A7"].Attrs["Arn"] == "" ||
		st.Resources["WebhookSecret509BCF06"].PhysicalID == "" {
		t.Fatalf("adopted resources lack their ARNs: %+v", st.Resources)
	}
}
