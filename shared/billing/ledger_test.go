package billing_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
)

// The ledger's rules, for both implementations.
func TestLedgerRules(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
		l := newLedger(t, kind, clk)

		c1, err := l.Claim(ctx, "a", map[string]string{"type": "ServiceProvisionRequested"})
		if err != nil || c1.Resumed || c1.Attempt != 1 {
			t.Fatalf("first claim %+v, %v", c1, err)
		}
		if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, billing.ErrBusy) {
			t.Fatalf("claim of a fresh marker: %v, want ErrBusy", err)
		}
		// A failure known to have changed nothing may be claimed again at once.
		if err := l.Fail(ctx, c1, false, "rejected"); err != nil {
			t.Fatal(err)
		}
		c2, err := l.Claim(ctx, "a", nil)
		if err != nil || c2.Resumed || c2.Attempt != 2 {
			t.Fatalf("claim after a certain failure %+v, %v", c2, err)
		}
		// An uncertain failure holds the entry for the stale period, then
		// gives Resumed claims, for good.
		if err := l.Fail(ctx, c2, true, "unknown_outcome"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, billing.ErrBusy) {
			t.Fatalf("claim right after an uncertain failure: %v, want ErrBusy", err)
		}
		clk.Add(billing.DefaultStaleAfter + time.Millisecond)
		c3, err := l.Claim(ctx, "a", nil)
		if err != nil || !c3.Resumed || c3.Attempt != 3 {
			t.Fatalf("claim after the stale period %+v, %v", c3, err)
		}
		if err := l.Fail(ctx, c3, false, "rejected"); err != nil {
			t.Fatal(err)
		}
		c4, err := l.Claim(ctx, "a", nil)
		if err != nil || !c4.Resumed {
			t.Fatalf("the uncertain mark must stick: %+v, %v", c4, err)
		}
		// The holder of a claim that went stale and was taken over cannot finish.
		clk.Add(billing.DefaultStaleAfter + time.Millisecond)
		c5, err := l.Claim(ctx, "a", nil)
		if err != nil || !c5.Resumed {
			t.Fatalf("take-over %+v, %v", c5, err)
		}
		if err := l.Done(ctx, c4, "applied"); !errors.Is(err, billing.ErrLost) {
			t.Fatalf("Done by the stale holder: %v, want ErrLost", err)
		}
		if err := l.Done(ctx, c5, "already_active"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, billing.ErrDone) {
			t.Fatalf("claim of an applied entry: %v, want ErrDone", err)
		}
		e, ok, err := l.Entry(ctx, "a")
		if err != nil || !ok || e.State != billing.StateApplied || e.Outcome != "already_active" || e.Attempts != 5 || !e.Uncertain {
			t.Fatalf("entry %+v ok=%v err=%v", e, ok, err)
		}
		if _, ok, _ := l.Entry(ctx, "never"); ok {
			t.Fatal("entry of an unknown id")
		}
		if _, err := l.Claim(ctx, "", nil); err == nil {
			t.Fatal("empty id accepted")
		}
	})
}

// The DynamoDB layout: pk/sk, ids only, the TTL when asked for.
func TestDynamoLedgerItem(t *testing.T) {
	emulator.Integration(t)
	ctx := context.Background()
	db, table := dynamoTable(t)
	cmd := billing.NewCommandLedger(db, table)
	c, err := cmd.Claim(ctx, "o-1:provision", map[string]string{"type": "ServiceProvisionRequested", "orderId": "o-1", "serviceId": "5001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Done(ctx, c, "applied"); err != nil {
		t.Fatal(err)
	}
	item := getItem(t, db, table, "CMD#o-1:provision", "CMD")
	want := map[string]string{"state": "applied", "outcome": "applied", "orderId": "o-1", "serviceId": "5001", "type": "ServiceProvisionRequested"}
	for k, v := range want {
		if s, ok := item[k].(*types.AttributeValueMemberS); !ok || s.Value != v {
			t.Errorf("item[%s] = %v, want %q", k, item[k], v)
		}
	}
	if _, ok := item[contract.AttrTTL]; ok {
		t.Error("command entries must not expire")
	}

	notices := billing.NewDynamoLedger(db, table, "NOTIFY#", "email", 30*24*time.Hour)
	if _, err := notices.Claim(ctx, "s-1:verified", nil); err != nil {
		t.Fatal(err)
	}
	item = getItem(t, db, table, "NOTIFY#s-1:verified", "email")
	n, ok := item[contract.AttrTTL].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("no ttl: %v", item)
	}
	if ttl, _ := strconv.ParseInt(n.Value, 10, 64); time.Until(time.Unix(ttl, 0)) < 29*24*time.Hour {
		t.Fatalf("ttl %s", n.Value)
	}
}

func getItem(tb testing.TB, db *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
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
