package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kyc"
)

func TestMain(m *testing.M) { emulator.Main(m) }

// The command reports an intact chain as intact and a deleted entry as the
// first broken link.
func TestVerify(t *testing.T) {
	st, cfg := stacktest.Deploy(t)
	t.Setenv("AWS_ENDPOINT_URL", st.Endpoint)
	table := st.Functions[contract.FunctionAdminAPI].Env[contract.EnvTable]
	db := dynamodb.NewFromConfig(cfg)
	regions, err := kyc.ParseRegions(st.Functions[contract.FunctionBillingIntake].Env[contract.EnvRegions])
	if err != nil {
		t.Fatal(err)
	}
	svc := kyc.NewIntake(dynamostore.New(db, table), noSealer{}, nopBus{}, kyc.Config{Products: kyc.ProductSet{"kyc-vps": true}, Regions: regions})
	ctx := context.Background()
	for i, o := range []string{"o1", "o2", "o3"} {
		if _, err := svc.PlaceOrder(ctx, kyc.BillingEvent{OrderID: o, ServiceID: "9" + o, CustomerID: "1001", ProductID: "kyc-vps",
			OrderedAt: time.Now().Add(-time.Duration(i) * time.Hour), NextDueDate: kyc.NewDate(2027, 1, 1), ServerRegion: "hk"}); err != nil {
			t.Fatal(err)
		}
	}
	if broken, err := run(ctx, table, []string{"1001"}); err != nil || broken {
		t.Fatalf("intact chain: broken=%v err=%v", broken, err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: "AUDIT#1001"}, contract.AttrSK: &types.AttributeValueMemberS{Value: "000000000002"}}}); err != nil {
		t.Fatal(err)
	}
	if broken, err := run(ctx, table, []string{"1001"}); err != nil || !broken {
		t.Fatalf("deleted entry: broken=%v err=%v", broken, err)
	}
	if _, err := run(ctx, table, []string{"nobody"}); err == nil {
		t.Fatal("an unknown customer is not an error")
	}
}

type nopBus struct{}

func (nopBus) Publish(context.Context, []kyc.Event) error { return nil }

// noSealer is the Sealer of orders that carry no contact address.
type noSealer struct{ kyc.Sealer }
