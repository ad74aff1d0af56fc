package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/wiring"
)

func TestMain(m *testing.M) { emulator.Main(m) }

func contractStack() *stack.Stack {
	st := &stack.Stack{Functions: map[string]*stack.Function{}}
	for _, r := range contract.Routes {
		fn := st.Functions[r.Function]
		if fn == nil {
			fn = &stack.Function{Name: r.Function}
			st.Functions[r.Function] = fn
		}
		fn.Routes = append(fn.Routes, stack.Route{Key: r.Pattern, Auth: r.Auth})
	}
	return st
}

func TestRoutesMustMatchTheContract(t *testing.T) {
	if err := checkRoutes(contractStack()); err != nil {
		t.Fatalf("the contract's own routes: %v", err)
	}
	for name, change := range map[string]func(st *stack.Stack){
		"a route missing": func(st *stack.Stack) {
			fn := st.Functions[contract.FunctionCustomerAPI]
			fn.Routes = fn.Routes[1:]
		},
		"an extra route": func(st *stack.Stack) {
			fn := st.Functions[contract.FunctionAdminAPI]
			fn.Routes = append(fn.Routes, stack.Route{Key: "DELETE /v1/admin/orders/{id}", Auth: contract.AuthJWT})
		},
		"no authorizer on a JWT route": func(st *stack.Stack) {
			st.Functions[contract.FunctionCustomerAPI].Routes[0].Auth = contract.AuthNone
		},
		"a route on another function": func(st *stack.Stack) {
			intake := st.Functions[contract.FunctionBillingIntake]
			st.Functions[contract.FunctionCustomerAPI].Routes = append(st.Functions[contract.FunctionCustomerAPI].Routes, intake.Routes...)
			intake.Routes = nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := contractStack()
			change(st)
			if err := checkRoutes(st); err == nil || !strings.Contains(err.Error(), "make synth") {
				t.Errorf("err = %v, want a difference that says to re-run make synth", err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, c := range []struct {
		sweep string
		want  time.Duration
		bad   bool
	}{
		{"", 0, false}, {"30s", 30 * time.Second, false}, {"off", -1, false}, {"0", -1, false},
		{"soon", 0, true}, {"-5s", 0, true},
	} {
		t.Setenv(EnvSweepEvery, c.sweep)
		t.Setenv(EnvLocalDir, "")
		t.Setenv(EnvHTTPAddr, "")
		got, err := ConfigFromEnv()
		if (err != nil) != c.bad || (!c.bad && got.SweepEvery != c.want) {
			t.Errorf("%s=%q: %+v, %v", EnvSweepEvery, c.sweep, got, err)
		}
		if !c.bad && (got.LocalDir != DefaultLocalDir || got.Addr != DefaultHTTPAddr || got.Template != DefaultTemplate) {
			t.Errorf("defaults: %+v", got)
		}
	}
}

// The partial batch response is read as Lambda reads it.
func TestBatchResponse(t *testing.T) {
	batch := map[string]string{"m1": "r1", "m2": "r2"}
	report := &poller{trigger: stack.QueueTrigger{ReportBatchItemFailures: true}}
	plain := &poller{trigger: stack.QueueTrigger{}}
	fail := func(ids ...string) events.SQSEventResponse {
		var r events.SQSEventResponse
		for _, id := range ids {
			r.BatchItemFailures = append(r.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return r
	}
	for _, c := range []struct {
		name    string
		p       *poller
		res     any
		err     error
		failed  []string
		wantErr bool
	}{
		{"all succeeded", report, events.SQSEventResponse{}, nil, nil, false},
		{"null response", report, nil, nil, nil, false},
		{"one failed", report, fail("m2"), nil, []string{"m2"}, false},
		{"function error", report, nil, errors.New("boom"), nil, true},
		{"unknown id fails the batch", report, fail("m9"), nil, nil, true},
		{"empty id fails the batch", report, fail(""), nil, nil, true},
		{"not a batch response", report, []int{1}, nil, nil, true},
		{"failures ignored without ReportBatchItemFailures", plain, fail("m1"), nil, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.p.failures(c.res, c.err, batch)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			var ids []string
			for id := range got {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, c.failed) {
				t.Errorf("failed = %v, want %v", ids, c.failed)
			}
		})
	}
}

// The poller against the emulator, as Lambda's event source mapping: a
// message the function reports as failed is left for the queue's own
// visibility timeout and, after maxReceiveCount receives, is in the DLQ; the
// others are delivered once, as SQS events, and deleted.
func TestPollerRedeliversFailuresThenDeadLetters(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	c := sqs.NewFromConfig(cfg)
	mk := func(name string, attrs map[string]string) (string, string) {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(emulator.UniqueName(t, name)), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		url := aws.ToString(out.QueueUrl)
		t.Cleanup(func() { _, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url}) })
		a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		return url, a.Attributes["QueueArn"]
	}
	dlq, dlqARN := mk("dlq", nil)
	q, qARN := mk("work", map[string]string{"VisibilityTimeout": "1",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"2"}`})
	for _, body := range []string{"ok-1", "poison", "ok-2"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	seen := map[string]int{}
	fn := &wiring.Function{Invoke: func(_ context.Context, raw json.RawMessage) (any, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		var res events.SQSEventResponse
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ev.Records {
			if m.EventSource != "aws:sqs" || m.EventSourceARN != qARN || m.ReceiptHandle == "" || m.Attributes["ApproximateReceiveCount"] == "" {
				t.Errorf("record %+v is not an SQS event record of the queue", m)
			}
			seen[m.Body]++
			if m.Body == "poison" {
				res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return res, nil
	}}
	var logs bytes.Buffer
	p := &poller{sqs: c, fn: fn, name: "test", region: cfg.Region, timeout: 5 * time.Second,
		trigger: stack.QueueTrigger{URL: q, ARN: qARN, BatchSize: 10, ReportBatchItemFailures: true},
		log:     slog.New(slog.NewTextHandler(&logs, nil))}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.run(pctx); close(done) }()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 && aws.ToString(out.Messages[0].Body) == "poison" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("poison is not in the DLQ after 20 s; deliveries %v; log:\n%s", seen, logs.String())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["ok-1"] != 1 || seen["ok-2"] != 1 || seen["poison"] != 2 {
		t.Errorf("deliveries %v: want each good message once, the poison one twice (maxReceiveCount)", seen)
	}
}

func TestLineLogWritesEachLine(t *testing.T) {
	var b bytes.Buffer
	l := &lineLog{log: slog.New(slog.NewJSONHandler(&b, nil))}
	if _, err := l.Write([]byte("{\"a\":1}\n{\"b\":2}\n")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `"msg":"metrics"`); n != 2 {
		t.Errorf("%d log lines, want 2:\n%s", n, b.String())
	}
}
