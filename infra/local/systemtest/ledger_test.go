package systemtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/notify"
)

// The DynamoDB ledger keeps the contract the memory ledger keeps: the same
// suite, on the deployed stack's table.
func TestDynamoLedger(t *testing.T) {
	emulator.Integration(t)
	st, cfg := stacktest.Deploy(t)
	db := dynamodb.NewFromConfig(cfg)
	table := st.Functions[contract.FunctionBillingAdapter].Env[contract.EnvTable]
	ledgertest.TestLedger(t, func(t *testing.T, now func() time.Time) ledger.Ledger {
		// Each subtest its own key space, so they share the table safely.
		l := ledger.NewDynamo(db, table, contract.PrefixCommand+emulator.UniqueName(t, "s")+"-", contract.SKCommand, 0)
		l.Now = now
		return l
	})
}

// The DynamoDB layout: pk/sk, ids only, the TTL when asked for.
func TestDynamoLedgerItems(t *testing.T) {
	emulator.Integration(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	table := st.Functions[contract.FunctionBillingAdapter].Env[contract.EnvTable]
	id := emulator.UniqueName(t, "o") + ":provision"
	cmd := ledger.NewDynamo(db, table, contract.PrefixCommand, contract.SKCommand, 0)
	c, err := cmd.Claim(ctx, id, map[string]string{"type": "ServiceProvisionRequested", "orderId": "o-1", "serviceId": "5001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Done(ctx, c, "applied"); err != nil {
		t.Fatal(err)
	}
	item := ledgerItem(t, db, table, contract.PrefixCommand+id, contract.SKCommand)
	for k, v := range map[string]string{"state": "applied", "outcome": "applied", "orderId": "o-1", "serviceId": "5001", "type": "ServiceProvisionRequested"} {
		if s, ok := item[k].(*types.AttributeValueMemberS); !ok || s.Value != v {
			t.Errorf("item[%s] = %v, want %q", k, item[k], v)
		}
	}
	if _, ok := item[contract.AttrTTL]; ok {
		t.Error("command entries must not expire")
	}

	notices := ledger.NewDynamo(db, table, notify.NoticePrefix, notify.SKEmail, notify.NoticeTTL)
	if _, err := notices.Claim(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	item = ledgerItem(t, db, table, notify.NoticePrefix+id, notify.SKEmail)
	n, ok := item[contract.AttrTTL].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("no ttl: %v", item)
	}
	if ttl, _ := strconv.ParseInt(n.Value, 10, 64); time.Until(time.Unix(ttl, 0)) < notify.NoticeTTL-24*time.Hour {
		t.Fatalf("ttl %s", n.Value)
	}
}

func ledgerItem(tb testing.TB, db *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: pk}, contract.AttrSK: &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil || len(out.Item) == 0 {
		tb.Fatalf("get %s/%s: %v (%d attributes)", pk, sk, err, len(out.Item))
	}
	for k := range out.Item {
		if strings.Contains(strings.ToLower(k), "email") || strings.Contains(strings.ToLower(k), "name") {
			tb.Errorf("personal-looking attribute %q in a ledger item", k)
		}
	}
	return out.Item
}
