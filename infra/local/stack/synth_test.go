package stack

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// synthesized reads the template `make synth` writes, from the module root.
func synthesized(tb testing.TB) []byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "cdk.out", "KycGate.template.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("%s is missing: run make synth first", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The synthesized stack deploys on the emulator; every function of the
// contract is in it with its environment and triggers; and S3, the bus and
// the queues are wired as docs/architecture.md says.
func TestDeploySynthesizedTemplate(t *testing.T) {
	cfg := emulator.Config(t)
	ctx := context.Background()
	st := deploy(t, cfg, synthesized(t))

	want := append([]string(nil), contract.Functions...)
	sort.Strings(want)
	if got := st.FunctionNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("functions %v, want contract.Functions %v", got, want)
	}

	// Every environment variable that names a resource names one this
	// deployment created, by its name or ARN.
	created := map[string]string{}
	for _, id := range st.Created {
		res := st.Resources[id]
		created[res.PhysicalID] = res.Type
		if a := res.Attrs["Arn"]; a != "" {
			created[a] = res.Type
		}
	}
	refs := map[string]string{
		contract.EnvTable:            "AWS::DynamoDB::Table",
		contract.EnvBucket:           "AWS::S3::Bucket",
		contract.EnvKeyID:            "AWS::KMS::Key",
		contract.EnvMacKeyID:         "AWS::KMS::Key",
		contract.EnvEventBus:         "AWS::Events::EventBus",
		contract.EnvWebhookSecretARN: "AWS::SecretsManager::Secret",
		contract.EnvBillingSecretARN: "AWS::SecretsManager::Secret",
	}
	for _, name := range st.FunctionNames() {
		fn := st.Functions[name]
		if fn.Env[contract.EnvTable] == "" {
			t.Errorf("%s: no %s", name, contract.EnvTable)
		}
		for k, v := range fn.Env {
			if typ, ok := refs[k]; ok && created[v] != typ {
				t.Errorf("%s: %s=%q is not a %s of the stack", name, k, v, typ)
			}
		}
	}

	// Triggers: one queue per asynchronous consumer, with partial batch
	// responses; the sweep on a schedule; the routes of the contract.
	for _, name := range []string{contract.FunctionValidator, contract.FunctionBillingIntake, contract.FunctionBillingAdapter, contract.FunctionNotifier} {
		q := st.Functions[name].Queues
		if len(q) != 1 || !q[0].ReportBatchItemFailures || q[0].BatchSize < 1 {
			t.Errorf("%s: queue triggers %+v, want one with ReportBatchItemFailures", name, q)
			continue
		}
		// Batches at once: the mapping's maximum (the billing adapter's, for
		// WHMCS), else the five Lambda starts with.
		want := DefaultQueueConcurrency
		if name == contract.FunctionBillingAdapter {
			want = 2
		}
		if q[0].Concurrency != want {
			t.Errorf("%s: %d batches at once, want %d", name, q[0].Concurrency, want)
		}
	}
	if s := st.Functions[contract.FunctionSweep].Schedule; s == nil || s.Every <= 0 {
		t.Errorf("sweep: schedule %+v, want a rate", s)
	} else {
		// The sweep takes "now" from its event's time (docs/policy.md).
		at := time.Now().UTC().Truncate(time.Second)
		var ev struct{ Time time.Time }
		if err := json.Unmarshal([]byte(s.Event(at)), &ev); err != nil || !ev.Time.Equal(at) {
			t.Errorf("sweep: event %s (%v), want time %s", s.Event(at), err, at)
		}
	}
	var got []string
	for _, fn := range st.Functions {
		for _, r := range fn.Routes {
			got = append(got, fn.Name+" "+r.Key+" "+r.Auth.Gateway())
		}
	}
	want = nil
	for _, r := range contract.Routes {
		want = append(want, r.Function+" "+r.Pattern+" "+r.Auth.Gateway()) // pages and the webhook: NONE
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes\n got %q\nwant %q (contract.Routes)", got, want)
	}
	if a := st.Authorizer; a == nil || a.Issuer == "" || len(a.Audience) == 0 {
		t.Errorf("authorizer %+v, want an issuer and an audience", a)
	}

	sq := sqs.NewFromConfig(cfg)
	queueOf := func(fn string) string { return st.Functions[fn].Queues[0].URL }
	if t.Failed() {
		return
	}

	t.Run("an uploaded document reaches the validator's queue", func(t *testing.T) {
		bucket := st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvBucket]
		drain(t, sq, queueOf(contract.FunctionValidator))
		key := contract.DocumentsPrefix + "c-1/d-1"
		if _, err := awsenv.S3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("%PDF-1.7")}); err != nil {
			t.Fatal(err)
		}
		msgs := drain(t, sq, queueOf(contract.FunctionValidator))
		if len(msgs) != 1 || !strings.Contains(msgs[0], "ObjectCreated") || !strings.Contains(msgs[0], url.QueryEscape(key)) && !strings.Contains(msgs[0], key) {
			t.Fatalf("validator queue got %q", msgs)
		}
	})

	t.Run("each event on the bus reaches the queue of its consumer", func(t *testing.T) {
		bus := st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvEventBus]
		consumers := map[string]string{}
		for _, e := range kyc.BillingEvents {
			consumers[contract.SourceBilling+" "+string(e)] = contract.FunctionBillingIntake
		}
		for _, e := range kyc.ServiceCommands {
			consumers[contract.SourceKYC+" "+string(e)] = contract.FunctionBillingAdapter
		}
		for _, e := range kyc.CustomerNotices {
			consumers[contract.SourceKYC+" "+string(e)] = contract.FunctionNotifier
		}
		fns := []string{contract.FunctionBillingIntake, contract.FunctionBillingAdapter, contract.FunctionNotifier}
		for _, fn := range fns {
			drain(t, sq, queueOf(fn))
		}
		want := map[string][]string{}
		var entries []ebtypes.PutEventsRequestEntry
		for _, ev := range sortedKeys(consumers) {
			source, detailType, _ := strings.Cut(ev, " ")
			entries = append(entries, ebtypes.PutEventsRequestEntry{EventBusName: &bus, Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(`{}`)})
			want[consumers[ev]] = append(want[consumers[ev]], detailType)
		}
		for len(entries) > 0 { // at most 10 entries per call
			n := min(len(entries), 10)
			out, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries[:n]})
			if err != nil || out.FailedEntryCount != 0 {
				t.Fatalf("PutEvents: %v %+v", err, out)
			}
			entries = entries[n:]
		}
		for _, fn := range fns {
			var got []string
			for _, body := range drain(t, sq, queueOf(fn)) {
				var ev struct {
					DetailType string `json:"detail-type"`
				}
				if err := json.Unmarshal([]byte(body), &ev); err != nil {
					t.Fatalf("%s's queue: not an event: %s", fn, body)
				}
				got = append(got, ev.DetailType)
			}
			sort.Strings(got)
			sort.Strings(want[fn])
			if !reflect.DeepEqual(got, want[fn]) {
				t.Errorf("%s's queue got %q, want %q", fn, got, want[fn])
			}
		}
	})
}
