package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/kycgate/kycgate/infra/local/faults"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
)

// fakeAWS answers JSON-protocol calls (DynamoDB, EventBridge, KMS) with
// canned bodies and records what was really sent.
type fakeAWS struct {
	mu   sync.Mutex
	sent []sentCall
	// fail answers the next n requests with 500 (to see the SDK retry).
	fail int
}

type sentCall struct {
	target string
	body   []byte
}

func (f *fakeAWS) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.sent = append(f.sent, sentCall{target: target, body: body})
	fail := f.fail > 0
	f.fail--
	f.mu.Unlock()
	if fail {
		return reply(r, http.StatusInternalServerError, `{"__type":"InternalServerError","message":"boom"}`), nil
	}
	switch {
	case strings.HasSuffix(target, ".PutEvents"):
		var in struct{ Entries []json.RawMessage }
		_ = json.Unmarshal(body, &in)
		var out []string
		for i := range in.Entries {
			out = append(out, fmt.Sprintf(`{"EventId":"eb-%d"}`, i))
		}
		return reply(r, 200, `{"FailedEntryCount":0,"Entries":[`+strings.Join(out, ",")+`]}`), nil
	case strings.HasSuffix(target, ".GetItem"):
		return reply(r, 200, `{"Item":{"pk":{"S":"x"}}}`), nil
	}
	return reply(r, 200, `{}`), nil
}

func reply(r *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}
}

func (f *fakeAWS) targets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sent {
		_, op, _ := strings.Cut(s.target, ".")
		out = append(out, op)
	}
	return out
}

func config(f *fakeAWS) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:   f,
		BaseEndpoint: aws.String("http://aws.invalid"),
	}
}

var ctx = context.Background()

func getItem(db *dynamodb.Client, c context.Context) error {
	_, err := db.GetItem(c, &dynamodb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
	return err
}

func putItem(db *dynamodb.Client, c context.Context) error {
	_, err := db.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String("t"),
		Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
	return err
}

func transact(db *dynamodb.Client, c context.Context) error {
	_, err := db.TransactWriteItems(c, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{{
		Put: &ddbtypes.Put{TableName: aws.String("t"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}}}}})
	return err
}

// TestRecorder: every call of every client built from the configuration is
// recorded in order as Service.Operation; presigning is not a call.
func TestRecorder(t *testing.T) {
	fake := &fakeAWS{}
	cfg := config(fake)
	rec := faults.NewRecorder()
	faults.Install(&cfg, rec, nil)
	db, eb, k := dynamodb.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	if err := getItem(db, ctx); err != nil {
		t.Fatal(err)
	}
	if err := putItem(db, ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String("kyc")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String("k"), Message: []byte("m"), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256}); err != nil {
		t.Fatal(err)
	}
	if err := getItem(db, ctx); err != nil {
		t.Fatal(err)
	}
	presigner := s3.NewPresignClient(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }))
	if _, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	want := []string{"DynamoDB.GetItem", "DynamoDB.PutItem", "EventBridge.PutEvents", "KMS.GenerateMac", "DynamoDB.GetItem"}
	if got := rec.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if rec.Count("DynamoDB.GetItem") != 2 || rec.Count("DynamoDB") != 3 || rec.Count("") != 5 || rec.Total() != 5 || rec.Count("S3") != 0 {
		t.Fatalf("counts = %v", rec.Counts())
	}
	if c := rec.Counts(); c["EventBridge.PutEvents"] != 1 || len(c) != 4 {
		t.Fatalf("counts = %v", c)
	}
	rec.Reset()
	if rec.Total() != 0 {
		t.Fatal("reset kept calls")
	}
}

// TestContextScope: a context's recorder and injector apply to the calls
// made with it only; the configuration's recorder still sees every call.
func TestContextScope(t *testing.T) {
	fake := &fakeAWS{}
	cfg := config(fake)
	all := faults.NewRecorder()
	faults.Install(&cfg, all, nil)
	db := dynamodb.NewFromConfig(cfg)
	mine := faults.NewRecorder()
	inj := faults.NewInjector(faults.Fault{Op: "DynamoDB.GetItem", Call: 1, Kind: faults.Throttling})
	c := faults.WithInjector(faults.WithRecorder(ctx, mine), inj)
	if err := getItem(db, ctx); err != nil {
		t.Fatalf("a call without the context failed: %v", err)
	}
	if err := getItem(db, c); err == nil {
		t.Fatal("the context's fault did not fire")
	}
	if mine.Total() != 1 || all.Total() != 2 {
		t.Fatalf("mine = %v, all = %v", mine.Calls(), all.Calls())
	}
}

// TestBeforeAndAfterSend: a fault before sending leaves the call unmade; after
// sending, the call is made and its caller gets the error all the same.
func TestBeforeAndAfterSend(t *testing.T) {
	for _, when := range []faults.When{faults.BeforeSend, faults.AfterSend} {
		t.Run(string(when), func(t *testing.T) {
			fake := &fakeAWS{}
			cfg := config(fake)
			inj := faults.NewInjector(faults.Fault{Op: "DynamoDB.PutItem", Call: 1, Kind: faults.ConditionalCheckFailed, When: when})
			faults.Install(&cfg, nil, inj)
			err := putItem(dynamodb.NewFromConfig(cfg), ctx)
			var ccf *ddbtypes.ConditionalCheckFailedException
			var oe *smithy.OperationError
			if !errors.As(err, &ccf) || !errors.As(err, &oe) || oe.Operation() != "PutItem" {
				t.Fatalf("err = %v (%T)", err, err)
			}
			sent := len(fake.targets())
			if (when == faults.BeforeSend) != (sent == 0) {
				t.Fatalf("%s-send fault: %d requests sent", when, sent)
			}
			if f := inj.Fired(); len(f) != 1 || f[0].Op != "DynamoDB.PutItem" || f[0].Call != 1 {
				t.Fatalf("fired = %v", f)
			}
		})
	}
}

// TestWhichCall: a fault fires at the N-th call of its operation, of its
// service, or of all calls, as many times as planned; Unfired names the
// faults that never found their call.
func TestWhichCall(t *testing.T) {
	fake := &fakeAWS{}
	cfg := config(fake)
	inj := faults.NewInjector(
		faults.Fault{Op: "DynamoDB.GetItem", Call: 2, Kind: faults.Throttling},        // 3rd call
		faults.Fault{Call: 5, Kind: faults.ServiceUnavailable},                        // 5th call overall
		faults.Fault{Op: "DynamoDB.PutItem", Call: 2, Times: 2, Kind: faults.Timeout}, // 6th and 7th
		faults.Fault{Op: "DynamoDB.DeleteItem", Call: 1, Kind: faults.Timeout},        // never called
	)
	faults.Install(&cfg, nil, inj)
	db := dynamodb.NewFromConfig(cfg)
	var failed []int
	for i, call := range []func(*dynamodb.Client, context.Context) error{getItem, putItem, getItem, getItem, getItem, putItem, putItem, putItem} {
		if call(db, ctx) != nil {
			failed = append(failed, i+1)
		}
	}
	if !slices.Equal(failed, []int{3, 5, 6, 7}) {
		t.Fatalf("failed calls = %v, want [3 5 6 7]", failed)
	}
	if u := inj.Unfired(); len(u) != 1 || u[0].Op != "DynamoDB.DeleteItem" {
		t.Fatalf("unfired = %v", u)
	}
	// The service as Op: the 2nd DynamoDB call of a fresh injector.
	inj2 := faults.NewInjector(faults.Fault{Op: "DynamoDB", Call: 2, Times: -1, Kind: faults.Timeout})
	c := faults.WithInjector(ctx, inj2)
	if getItem(db, c) != nil || putItem(db, c) == nil || getItem(db, c) == nil {
		t.Fatal("a service-wide fault from call 2 on did not fire on calls 2 and 3 only")
	}
}

// TestErrors: each kind is the error the SDK would return, seen by errors.As
// and errors.Is as callers inspect it.
func TestErrors(t *testing.T) {
	fake := &fakeAWS{}
	cfg := config(fake)
	one := func(f faults.Fault, call func(context.Context) error) error {
		return call(faults.WithInjector(ctx, faults.NewInjector(f)))
	}
	faults.Install(&cfg, nil, nil)
	db, k := dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	dbGet := func(c context.Context) error { return getItem(db, c) }
	dbTx := func(c context.Context) error { return transact(db, c) }
	kmsGen := func(c context.Context) error {
		_, err := k.GenerateDataKey(c, &kms.GenerateDataKeyInput{KeyId: aws.String("k"), KeySpec: kmstypes.DataKeySpecAes256})
		return err
	}

	err := one(faults.Fault{Op: "DynamoDB.TransactWriteItems", Call: 1, Kind: faults.TransactionCanceled}, dbTx)
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) == 0 || aws.ToString(tce.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
		t.Fatalf("transaction canceled = %v", err)
	}
	err = one(faults.Fault{Op: "DynamoDB.GetItem", Call: 1, Kind: faults.Throttling}, dbGet)
	var pte *ddbtypes.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("dynamodb throttling = %v", err)
	}
	err = one(faults.Fault{Op: "KMS.GenerateDataKey", Call: 1, Kind: faults.KMSInternal}, kmsGen)
	var kie *kmstypes.KMSInternalException
	if !errors.As(err, &kie) {
		t.Fatalf("kms internal = %v", err)
	}
	err = one(faults.Fault{Op: "KMS.GenerateDataKey", Call: 1, Kind: faults.Throttling}, kmsGen)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("kms throttling = %v", err)
	}
	err = one(faults.Fault{Call: 1, Kind: faults.ServiceUnavailable}, dbGet)
	if !errors.As(err, &api) || api.ErrorCode() != "ServiceUnavailable" || api.ErrorFault() != smithy.FaultServer {
		t.Fatalf("unavailable = %v", err)
	}
	err = one(faults.Fault{Call: 1, Kind: faults.Throttling, Code: "RequestLimitExceeded"}, dbGet)
	if !errors.As(err, &api) || api.ErrorCode() != "RequestLimitExceeded" {
		t.Fatalf("code override = %v", err)
	}
	err = one(faults.Fault{Call: 1, Kind: faults.Timeout}, dbGet)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout = %v", err)
	}
	if len(fake.targets()) != 0 {
		t.Fatalf("before-send faults sent %v", fake.targets())
	}
}

// TestSDKRetries: an injected fault is above the SDK's retry loop (the SDK
// never retries it); NoRetries makes one call one request.
func TestSDKRetries(t *testing.T) {
	fake := &fakeAWS{}
	cfg := config(fake)
	rec := faults.NewRecorder()
	faults.Install(&cfg, rec, faults.NewInjector(faults.Fault{Call: 1, Kind: faults.ServiceUnavailable, When: faults.AfterSend}))
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	if err := getItem(db, ctx); err == nil || len(fake.targets()) != 1 {
		t.Fatalf("after-send fault: err %v, %d requests", err, len(fake.targets()))
	}

	// With the SDK's retries, a real 500 is retried inside one call.
	fake = &fakeAWS{fail: 1}
	cfg = config(fake)
	rec = faults.NewRecorder()
	faults.Install(&cfg, rec, nil)
	if err := getItem(dynamodb.NewFromConfig(cfg), ctx); err != nil || len(fake.targets()) != 2 || rec.Total() != 1 {
		t.Fatalf("retried call: err %v, %d requests, %d calls", err, len(fake.targets()), rec.Total())
	}
	// Without, the 500 reaches the caller after one request.
	fake = &fakeAWS{fail: 1}
	cfg = config(fake)
	faults.NoRetries(&cfg)
	faults.Install(&cfg, nil, nil)
	if err := getItem(dynamodb.NewFromConfig(cfg), ctx); err == nil || len(fake.targets()) != 1 {
		t.Fatalf("no retries: err %v, %d requests", err, len(fake.targets()))
	}
}

// TestPartialPutEvents: the call succeeds with FailedEntryCount > 0. Before
// sending, the failed entries are not put on the bus; after sending, all are
// put and some reported failed. The event bus adapter retries just the
// failed entries.
func TestPartialPutEvents(t *testing.T) {
	entries := func(n int) []ebtypes.PutEventsRequestEntry {
		var out []ebtypes.PutEventsRequestEntry
		for i := range n {
			out = append(out, ebtypes.PutEventsRequestEntry{Source: aws.String("kyc"), DetailType: aws.String("T"), Detail: aws.String(fmt.Sprintf(`{"n":%d}`, i))})
		}
		return out
	}
	for _, when := range []faults.When{faults.BeforeSend, faults.AfterSend} {
		t.Run(string(when), func(t *testing.T) {
			fake := &fakeAWS{}
			cfg := config(fake)
			faults.Install(&cfg, nil, faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Kind: faults.PartialFailure, When: when, Entries: []int{1}}))
			out, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries(3)})
			if err != nil {
				t.Fatal(err)
			}
			if out.FailedEntryCount != 1 || len(out.Entries) != 3 || aws.ToString(out.Entries[1].ErrorCode) != "InternalFailure" ||
				out.Entries[0].EventId == nil || out.Entries[2].EventId == nil || out.Entries[1].EventId != nil {
				t.Fatalf("output = %+v", out)
			}
			var in struct{ Entries []struct{ Detail string } }
			_ = json.Unmarshal(fake.sent[0].body, &in)
			var sent []string
			for _, e := range in.Entries {
				sent = append(sent, e.Detail)
			}
			want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}
			if when == faults.BeforeSend {
				want = []string{`{"n":0}`, `{"n":2}`}
			}
			if !slices.Equal(sent, want) {
				t.Fatalf("sent %v, want %v", sent, want)
			}
		})
	}
	t.Run("every entry fails before sending: nothing is sent", func(t *testing.T) {
		fake := &fakeAWS{}
		cfg := config(fake)
		faults.Install(&cfg, nil, faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Kind: faults.PartialFailure, Entries: []int{0, 1}, Code: "ThrottlingException"}))
		out, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries(2)})
		if err != nil || out.FailedEntryCount != 2 || aws.ToString(out.Entries[0].ErrorCode) != "ThrottlingException" || len(fake.targets()) != 0 {
			t.Fatalf("out %+v, err %v, sent %v", out, err, fake.targets())
		}
	})
	t.Run("the event bus retries the failed entries", func(t *testing.T) {
		fake := &fakeAWS{}
		cfg := config(fake)
		rec := faults.NewRecorder()
		faults.Install(&cfg, rec, faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Kind: faults.PartialFailure, Entries: []int{1}}))
		bus := eventbus.New(eventbridge.NewFromConfig(cfg), "bus")
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		err := bus.Publish(ctx, []kyc.Event{{Type: kyc.KycRequested, ID: "a", At: at}, {Type: kyc.KycRequested, ID: "b", At: at}, {Type: kyc.KycRequested, ID: "c", At: at}})
		if err != nil || rec.Count("EventBridge.PutEvents") != 2 {
			t.Fatalf("publish: %v after %v", err, rec.Calls())
		}
		var second struct{ Entries []struct{ Detail string } }
		_ = json.Unmarshal(fake.sent[1].body, &second)
		if len(second.Entries) != 1 || !bytes.Contains([]byte(second.Entries[0].Detail), []byte(`"eventId":"b"`)) {
			t.Fatalf("retry sent %+v", second)
		}
	})
	t.Run("a persistent partial failure reaches the publisher's caller", func(t *testing.T) {
		fake := &fakeAWS{}
		cfg := config(fake)
		faults.Install(&cfg, nil, faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Times: -1, Kind: faults.PartialFailure}))
		err := eventbus.New(eventbridge.NewFromConfig(cfg), "bus").Publish(ctx, []kyc.Event{{Type: kyc.KycRequested, ID: "a"}, {Type: kyc.KycRequested, ID: "b"}})
		var fe *eventbus.FailedError
		if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].EventID != "a" {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestMatrix: Matrix lists every applicable kind, before and after sending,
// at every call of a sequence.
func TestMatrix(t *testing.T) {
	m := faults.Matrix([]string{"DynamoDB.GetItem", "DynamoDB.TransactWriteItems", "EventBridge.PutEvents", "KMS.Decrypt", "DynamoDB.GetItem"})
	count := map[string]int{}
	for _, f := range m {
		count[fmt.Sprintf("%s#%d", f.Op, f.Call)]++
		if f.When != faults.BeforeSend && f.When != faults.AfterSend {
			t.Fatalf("fault without a time: %v", f)
		}
	}
	want := map[string]int{"DynamoDB.GetItem#1": 6, "DynamoDB.TransactWriteItems#1": 8, "EventBridge.PutEvents#1": 8, "KMS.Decrypt#1": 6, "DynamoDB.GetItem#2": 6}
	for k, v := range want {
		if count[k] != v {
			t.Fatalf("matrix %v, want %v", count, want)
		}
	}
	if !slices.Contains(faults.KindsFor("DynamoDB.PutItem"), faults.ConditionalCheckFailed) ||
		slices.Contains(faults.KindsFor("DynamoDB.GetItem"), faults.ConditionalCheckFailed) ||
		!slices.Contains(faults.KindsFor("KMS.GenerateDataKey"), faults.KMSInternal) {
		t.Fatal("KindsFor")
	}
}
