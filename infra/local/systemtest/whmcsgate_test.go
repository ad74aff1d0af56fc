package systemtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/notify"
	"github.com/kycgate/kycgate/shared/wiring"
)

// The notifier's case records on the deployed table: TICKET#<customerId>,
// sk OPEN, ids only; saved, read back, replaced, forgotten.
func TestDynamoCases(t *testing.T) {
	emulator.Integration(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	table := st.Functions[contract.FunctionNotifier].Env[contract.EnvTable]
	cases := notify.NewDynamoCases(db, table)
	customer := emulator.UniqueName(t, "c")
	if _, ok, err := cases.Case(ctx, customer); err != nil || ok {
		t.Fatalf("a customer without a case: %v, %v", ok, err)
	}
	// The opening of a case is claimed once: over no record, then over
	// the record as read, never over one that has changed since.
	opening := notify.Case{CustomerID: customer, OpenedBy: customer + "-o:kyc-requested", OpeningSince: time.Date(2026, 12, 3, 10, 0, 0, 123, time.UTC)}
	if err := cases.StartCase(ctx, opening, nil); err != nil {
		t.Fatal(err)
	}
	if err := cases.StartCase(ctx, notify.Case{CustomerID: customer, OpenedBy: customer + "-p:kyc-requested"}, nil); !errors.Is(err, notify.ErrCaseChanged) {
		t.Fatalf("a second opening over no record: %v, want ErrCaseChanged", err)
	}
	read, ok, err := cases.Case(ctx, customer)
	if err != nil || !ok || read != opening || !read.Opening() {
		t.Fatalf("Case = %+v, %v, %v; want the opening %+v", read, ok, err, opening)
	}
	takeover := notify.Case{CustomerID: customer, OpenedBy: customer + "-p:kyc-requested", OpeningSince: opening.OpeningSince.Add(3 * time.Minute)}
	if err := cases.StartCase(ctx, takeover, &read); err != nil {
		t.Fatalf("an opening taken over from the record as read: %v", err)
	}
	if err := cases.StartCase(ctx, opening, &read); !errors.Is(err, notify.ErrCaseChanged) {
		t.Fatalf("an opening over a record read before it changed: %v, want ErrCaseChanged", err)
	}
	c := notify.Case{CustomerID: customer, TicketID: 31, TID: "KYC-31", OpenedBy: customer + "-o:kyc-requested"}
	if err := cases.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := cases.Case(ctx, customer); err != nil || !ok || got != c {
		t.Fatalf("Case = %+v, %v, %v; want %+v", got, ok, err, c)
	}
	item := ledgerItem(t, db, table, contract.PrefixTicket+customer, contract.SKTicketOpen)
	if len(item) != 3 {
		t.Errorf("case item %v: want pk, sk and data only", item)
	}
	c.Closing = customer + "-s:verified"
	if err := cases.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := cases.Case(ctx, customer); got.Closing != c.Closing {
		t.Fatalf("replaced case %+v", got)
	}
	for range 2 { // forgetting twice is fine
		if err := cases.ForgetCase(ctx, customer); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := cases.Case(ctx, customer); ok {
		t.Fatal("a forgotten case is still there")
	}
}

// The billing adapter reads a command's hold from the deployed table (open
// on the customer record, then closed), as its role allows (GetItem on
// CUST#*); it sends a command waiting for payment back to its own queue,
// delayed, with the URL the template gives it.
func TestBillingAdapterHoldsAndRequeue(t *testing.T) {
	emulator.Integration(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	clients := wiring.NewClients(cfg)
	env := st.Functions[contract.FunctionBillingAdapter].Env
	table := env[contract.EnvTable]
	store := dynamostore.New(clients.DynamoDB, table)
	intake := kyc.NewIntake(store, kmsseal.New(clients.KMS, kmsseal.NewDynamoKeys(clients.DynamoDB, table), st.Functions[contract.FunctionBillingIntake].Env[contract.EnvKeyID], ""),
		nopBus{}, kyc.Config{Products: kyc.ProductSet{"kyc-vps": true}, Regions: regions(t)})
	customer := emulator.UniqueName(t, "c")
	for _, o := range []string{"-o1", "-o2"} {
		if _, err := intake.PlaceOrder(ctx, kyc.BillingEvent{OrderID: customer + o, ServiceID: "9001", CustomerID: customer, ProductID: "kyc-vps",
			OrderedAt: time.Now().Add(-time.Hour), ServerRegion: "hk"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := intake.CancelOrder(ctx, customer+"-o2"); err != nil {
		t.Fatal(err)
	}
	holds := billing.HoldsOf(store)
	for order, want := range map[string]kyc.HoldState{customer + "-o1": kyc.AwaitingKYC, customer + "-o2": kyc.Cancelled} {
		if got, err := holds.HoldState(ctx, customer, order); err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", order, got, err, want)
		}
	}

	url := env[contract.EnvBillingQueueURL]
	if url == "" || url != st.Functions[contract.FunctionBillingAdapter].Queues[0].URL {
		t.Fatalf("%s = %q, want the adapter's own queue %q", contract.EnvBillingQueueURL, url, st.Functions[contract.FunctionBillingAdapter].Queues[0].URL)
	}
	body := `{"source":"kyc","detail-type":"ServiceProvisionRequested","detail":{"eventId":"` + customer + `-o1:provision"}}`
	if err := (billing.SQSRequeue{Client: clients.SQS, QueueURL: url}).Requeue(ctx, body, time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			_, _ = clients.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			if aws.ToString(m.Body) == body {
				return
			}
		}
	}
	t.Fatal("the requeued command never came back")
}
