package bench

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The quick checks of the benchmark code that plain `go test` runs: no
// emulator, well under a second.

type nopPublisher struct{ events int }

func (p *nopPublisher) Publish(_ context.Context, evs []kyc.Event) error {
	p.events += len(evs)
	return nil
}

// TestModelSweep: the store and the sweep run on the model as the sweep
// benchmark runs them, read only the due records, and a rollback lets the
// same sweep run again.
func TestModelSweep(t *testing.T) {
	m := newModel()
	m.load(holdItems(t, "t", "wait", 500, sweepNow.Add(-time.Hour)))
	m.load(holdItems(t, "t", "due", 20, sweepNow.Add(-96*time.Hour)))
	c := newCounting(m)
	pub := &nopPublisher{}
	svc := kyc.NewSweeper(dynamostore.New(c, "t"), noFiles{}, pub, kyc.Config{Products: kyc.ParseProducts("kyc-vps")},
		kyc.WithLogger(slog.New(slog.DiscardHandler)))
	for run := range 2 {
		c.reset()
		m.track()
		rep, err := svc.Sweep(context.Background(), sweepNow)
		if err != nil || rep.Suspended != 20 || rep.CustomersDue != 20 {
			t.Fatalf("run %d: sweep = %+v, %v", run, rep, err)
		}
		calls, read, _ := c.snapshot()
		if read != 20 || calls["DynamoDB.TransactWriteItems"] != 20 || calls["DynamoDB.Query"] != 2 {
			t.Fatalf("run %d: read %d items, calls %v", run, read, calls)
		}
		if rep, _ := svc.Sweep(context.Background(), sweepNow); rep.CustomersDue != 0 {
			t.Fatalf("run %d: a second sweep found %+v", run, rep)
		}
		m.rollback()
	}
	if pub.events != 2*20*2 { // provision and suspend, two runs
		t.Fatalf("events = %d", pub.events)
	}
}

// TestModelConditions: conditional writes fail as DynamoDB's do.
func TestModelConditions(t *testing.T) {
	m := newModel()
	st := dynamostore.New(m, "t")
	d := kyc.Document{ID: "d1", CustomerID: "c1", State: kyc.DocPendingUpload}
	if err := st.CreateDocument(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	// The same record again is the SDK's retry of a put whose response was
	// lost, which adopts its own write (dynamostore.CreateDocument); another
	// record under a taken id fails.
	taken := d
	taken.State = kyc.DocValid
	if err := st.CreateDocument(context.Background(), taken); err == nil {
		t.Fatal("created a document under a taken id")
	}
	if err := st.UpdateDocument(context.Background(), d, kyc.DocValid); err == nil {
		t.Fatal("updated a document whose state was not the expected one")
	}
}

func TestItemSize(t *testing.T) {
	it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CUST#1"}, "version": &types.AttributeValueMemberN{Value: "12"}}
	if got := ItemSize(it); got != 2+6+7+2 {
		t.Fatalf("size = %d", got)
	}
}

// TestReport: the report renders every section from results, and prices a
// verification when every operation of the flow is measured.
func TestReport(t *testing.T) {
	var ops []OpResult
	for _, f := range Flow {
		ops = append(ops, OpResult{Name: f.Op, Function: "f", Calls: map[string]int{"DynamoDB.GetItem": 1}, Total: 1, Minimum: 1,
			Expected: map[string]int{"DynamoDB.GetItem": 1}, Capacity: Capacity{RRU: 1, WRU: 2}})
	}
	c := VerificationCost(ops)
	if len(c.Missing) > 0 || c.Total <= 0 || c.Total > TargetCostUSD {
		t.Fatalf("cost = %+v", c)
	}
	r := Report{Calls: ops, Sweep: &SweepResult{Model: []SweepRun{{NotDue: 1000, Due: 100, ItemsRead: 100, MS: 10}, {NotDue: 100000, Due: 100, ItemsRead: 100, MS: 10.5}}, Ratio: 1.05},
		Functions:  []FunctionResult{{Name: "sweep", ZipBytes: 4 << 20}},
		Throughput: &ThroughputResult{Requests: 10, Orders: 2, OrdersOK: 2}}
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## 1. AWS calls", "## 2. Sweep scaling", "## 3. Functions", "## 4. Cost per verification", "## 5. The whole local stack",
		"| items a sweep reads, 100,000 holds not due + 100 due | 100 | at most 110 | ✅ |", "Stripe Identity"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
