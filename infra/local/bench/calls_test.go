package bench

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// opBench is one operation whose AWS calls are counted: setup runs with the
// counters ignored, op is measured.
type opBench struct {
	name, function, group string
	setup                 func(s *system, id string) any
	op                    func(s *system, id string, state any)
	minimum               int
	why                   string
	above                 []string
	expect                map[string]int
}

var seq atomic.Int64

// fresh returns a new customer id.
func fresh(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// Call names.
const (
	ddbGet      = "DynamoDB.GetItem"
	ddbQuery    = "DynamoDB.Query"
	ddbPut      = "DynamoDB.PutItem"
	ddbUpdate   = "DynamoDB.UpdateItem"
	ddbDelete   = "DynamoDB.DeleteItem"
	ddbTransact = "DynamoDB.TransactWriteItems"
	ebPut       = "EventBridge.PutEvents"
	s3Get       = "S3.GetObject"
	s3Put       = "S3.PutObject"
	s3Tag       = "S3.PutObjectTagging"
)

// Reasons shared by several operations.
const (
	whyOutbox = "DeleteItem of the outbox after PutEvents: the events are written with the change in one transaction (never lost), " +
		"published, then the outbox is removed; the minimum counts the transaction and PutEvents only"
	whyRate = "GetItem and a conditional PutItem of the per-customer rate-limit record (the times of the last requests: a sliding window), " +
		"made only once the request passed every check: abuse protection, not part of the operation itself"
	whyOneWrite   = "one TransactWriteItems: every change of a customer is one conditional write of its record with whatever else the change writes"
	whyPublish    = "one PutEvents: the change's events, published after the commit"
	whyOrderOwner = "GetItem of ORDER#<id> first: a redelivered OrderPlaced is answered from the existing order without touching the customer; " +
		"on a new order it finds nothing (the transaction's condition on ORDER# would refuse a duplicate anyway, so a design that trusts it could skip this read)"
)

func opBenches() []opBench {
	kycVPS, shared := "kyc-vps", "shared-hosting"
	return []opBench{
		{
			name: OpRequirements, function: contract.FunctionCustomerAPI, group: "customer",
			op: func(s *system, id string, _ any) {
				s.must(http.StatusOK, "GET", "/v1/kyc/requirements", s.token(id), nil, nil)
			},
			minimum: 1,
			why: "one GetItem of the customer record: a business registration certificate is listed only for a business customer " +
				"(the catalogue and limits are in the function's code and environment)",
			expect: map[string]int{ddbGet: 1},
		},
		{
			name: OpStatus, function: contract.FunctionCustomerAPI, group: "customer",
			setup: func(s *system, id string) any {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour))
				s.submitted(id)
				s.drain(contract.FunctionNotifier)
				return nil
			},
			op: func(s *system, id string, _ any) {
				var v kyc.StatusView
				s.must(http.StatusOK, "GET", "/v1/kyc/status", s.token(id), nil, &v)
			},
			minimum: 1,
			why:     "one Query of the customer's partition CUST#<id>: the record, its documents and its closed holds share that partition key",
			expect:  map[string]int{ddbQuery: 1},
		},
		{
			name: OpDocument, function: contract.FunctionCustomerAPI, group: "customer",
			op: func(s *system, id string, _ any) {
				s.newDocument(id, kyc.Identity, kyc.Passport, kyc.JPEG, len(stacktest.JPEG))
			},
			minimum: 1,
			why:     "one PutItem of the document record; the presigned POST is signed locally (no KMS or S3 call)",
			above:   []string{whyRate},
			expect:  map[string]int{ddbGet: 1, ddbPut: 2},
		},
		{
			name: OpValidate, function: contract.FunctionValidator, group: "customer",
			setup: func(s *system, id string) any {
				up := s.newDocument(id, kyc.Identity, kyc.Passport, kyc.JPEG, len(stacktest.JPEG))
				upload(s.tb, up.Upload, stacktest.JPEG, kyc.JPEG)
				return nil
			},
			op:      func(s *system, _ string, _ any) { s.validate() },
			minimum: 6,
			why: "two invocations. The S3 event: GetItem of the document record, GetObject of the whole object (size, type, encryption, " +
				"and the bytes decoded), PutObject of the re-encoded copy reviewers see (an image; a PDF has none), PutItem of the " +
				"document waiting for its malware scan. The scan's result: GetItem of the record, PutItem of the valid document",
			above:  []string{"PutEvents of the scan result by the local stand-in of GuardDuty (in AWS GuardDuty publishes it; the validator calls nothing)"},
			expect: map[string]int{ddbGet: 2, s3Get: 1, s3Put: 1, ddbPut: 2, ebPut: 1},
		},
		{
			name: OpSubmit, function: contract.FunctionCustomerAPI, group: "customer",
			setup: func(s *system, id string) any {
				return [2]string{
					s.uploaded(id, kyc.Identity, kyc.Passport, kyc.JPEG, stacktest.JPEG),
					s.uploaded(id, kyc.Address, kyc.BankStatement, kyc.PDF, stacktest.PDF),
				}
			},
			op: func(s *system, id string, state any) {
				docs := state.([2]string)
				s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token(id),
					map[string]string{"identityDocumentId": docs[0], "addressDocumentId": docs[1]}, nil)
			},
			minimum: 7,
			why: "one read of the customer's partition (record and both documents), a GetObject of each file's first bytes (the validated " +
				"version checked again: still there, same size and encryption), a PutObjectTagging of each validated version and of the " +
				"identity image's reviewed copy (so the unsubmitted-expiry rule spares them), " + whyOneWrite,
			above:  []string{whyRate},
			expect: map[string]int{ddbGet: 1, ddbPut: 1, ddbQuery: 1, s3Get: 2, s3Tag: 3, ddbTransact: 1},
		},
		{
			name: OpQueue, function: contract.FunctionAdminAPI, group: "review",
			setup: func(s *system, id string) any { s.submitted(id); return nil },
			op: func(s *system, _ string, _ any) {
				s.must(http.StatusOK, "GET", "/v1/admin/submissions?status=pending_review", s.reviewer("rev-q"), nil, nil)
			},
			minimum: 1,
			why:     "one Query of the sparse queue index (oldest first)",
			expect:  map[string]int{ddbQuery: 1},
		},
		{
			name: OpClaim, function: contract.FunctionAdminAPI, group: "review",
			setup: func(s *system, id string) any { return s.submitted(id) },
			op: func(s *system, _ string, state any) {
				s.claim(state.(string), "rev-c")
			},
			minimum: 2,
			why:     "GetItem of the submission (its state and claim), one conditional write of the claim",
			above: []string{"GetItem of the customer record: the audit chain head lives on it, so every audited action reads it " +
				"and writes it (its version bumped) in the same transaction as the audit entry"},
			expect: map[string]int{ddbGet: 2, ddbTransact: 1},
		},
		{
			name: OpView, function: contract.FunctionAdminAPI, group: "review",
			setup: func(s *system, id string) any {
				sub := s.submitted(id)
				s.claim(sub, "rev-v")
				return sub
			},
			op: func(s *system, _ string, state any) {
				s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+state.(string), s.reviewer("rev-v"), nil, nil)
			},
			minimum: 3,
			why: "GetItem of the submission (it names the customer and the documents), one Query of the customer's partition (record and both documents), " +
				whyOneWrite + " (the audit entry of the personal data the claimer opens), before the sealed fields are opened",
			above:  []string{"one Query of the customer's audit trail: which documents the claimer has opened already (an approval needs both)"},
			expect: map[string]int{ddbGet: 1, ddbQuery: 2, ddbTransact: 1},
		},
		{
			name: OpOpen, function: contract.FunctionAdminAPI, group: "review",
			setup: func(s *system, id string) any {
				sub := s.submitted(id)
				s.claim(sub, "rev-o")
				return sub
			},
			op: func(s *system, _ string, state any) {
				s.open(state.(string), "rev-o", kyc.Identity)
			},
			minimum: 3,
			why: "GetItem of the submission, one Query of the customer's partition (record and the document), " + whyOneWrite +
				" (the audit entry of the opening, written before the link is returned); the link is presigned locally",
			expect: map[string]int{ddbGet: 1, ddbQuery: 1, ddbTransact: 1},
		},
		decisionBench(1),
		decisionBench(5),
		{
			name: OpIntake, function: contract.FunctionBillingIntake, group: "intake",
			op: func(s *system, id string, _ any) {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour))
			},
			minimum: 3,
			why:     "read the customer record, " + whyOneWrite + " (the hold, the order mapping, the audit entry, the outbox), " + whyPublish + " (KycRequested)",
			above:   []string{whyOrderOwner, whyOutbox},
			expect:  map[string]int{ddbGet: 2, ddbTransact: 1, ebPut: 1, ddbDelete: 1},
		},
		{
			name: OpIntakeVerified, function: contract.FunctionBillingIntake, group: "intake",
			setup: func(s *system, id string) any { s.verified(id); return nil },
			op: func(s *system, id string, _ any) {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour))
			},
			minimum: 3,
			why:     "read the customer record, " + whyOneWrite + ", " + whyPublish + " (ServiceProvisionRequested)",
			above:   []string{whyOrderOwner, whyOutbox},
			expect:  map[string]int{ddbGet: 2, ddbTransact: 1, ebPut: 1, ddbDelete: 1},
		},
		{
			name: OpIntakeNoKYC, function: contract.FunctionBillingIntake, group: "intake",
			op: func(s *system, id string, _ any) {
				s.order("o-"+id, id, shared, s.clock.Now().Add(-time.Hour))
			},
			minimum: 2,
			why: "read the customer record (version and audit chain head), " + whyOneWrite +
				" (the order mapping, so a redelivery is recognised, and its audit entry); no event: billing provisions a product that needs no KYC itself",
			above:  []string{whyOrderOwner},
			expect: map[string]int{ddbGet: 2, ddbTransact: 1},
		},
		{
			name: OpIntakeEmail, function: contract.FunctionBillingIntake, group: "intake",
			op: func(s *system, id string, _ any) {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour), id+"@example.com")
			},
			minimum: 4,
			why: "read the customer record, KMS GenerateDataKey for the customer's first data key (the address is sealed with it), " +
				whyOneWrite + " (the wrapped key could be one more item of it), " + whyPublish,
			above: []string{whyOrderOwner, whyOutbox,
				"GetItem of CUST#<id>/KEY: the customer's data key, looked up before one is made (one Query of the partition would read it with the record)",
				"PutItem of the new KEY item on its own (conditional, so two first seals at once agree on one key), not in the transaction"},
			expect: map[string]int{ddbGet: 3, "KMS.GenerateDataKey": 1, ddbPut: 1, ddbTransact: 1, ebPut: 1, ddbDelete: 1},
		},
		{
			name: OpBilling, function: contract.FunctionBillingAdapter, group: "downstream",
			setup: func(s *system, id string) any {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour))
				s.verified(id)
				return s.message(contract.FunctionBillingAdapter, kyc.ServiceProvisionRequested)
			},
			op: func(s *system, _ string, state any) {
				s.invoke(contract.FunctionBillingAdapter, events.SQSEvent{Records: []events.SQSMessage{state.(events.SQSMessage)}})
			},
			minimum: 2,
			why: "the command ledger: one conditional UpdateItem claims the command id before WHMCS is called, one records it applied " +
				"(a redelivered command is recognised; a crash between the two is retried); the WHMCS API call itself is not an AWS call",
			expect: map[string]int{ddbUpdate: 2},
		},
		{
			name: OpNotify, function: contract.FunctionNotifier, group: "downstream",
			setup: func(s *system, id string) any {
				s.order("o-"+id, id, kycVPS, s.clock.Now().Add(-time.Hour), id+"@example.com")
				s.drain(contract.FunctionNotifier)
				s.verified(id)
				return s.message(contract.FunctionNotifier, kyc.KycVerified)
			},
			op: func(s *system, _ string, state any) {
				s.invoke(contract.FunctionNotifier, events.SQSEvent{Records: []events.SQSMessage{state.(events.SQSMessage)}})
			},
			minimum: 5,
			why: "one read of the customer's record and wrapped data key (one Query of CUST#<id>), KMS Decrypt of the data key (to open the sealed address), " +
				"the sent-mail ledger (claim, then done: as the billing adapter's), SES SendEmail",
			above:  []string{"1 extra read: the customer record and its KEY item are two GetItems"},
			expect: map[string]int{ddbGet: 2, "KMS.Decrypt": 1, ddbUpdate: 2, "SESv2.SendEmail": 1},
		},
		sweepBench(1),
		sweepBench(10),
		sweepBench(100),
	}
}

func decisionBench(holds int) opBench {
	// KycVerified, and per hold ServiceProvisionRequested and
	// ServiceDueDateExtended; PutEvents takes at most 10 entries.
	events := 1 + 2*holds
	putEvents := (events + 9) / 10
	name := "decision: approval, one open hold"
	if holds > 1 {
		name = fmt.Sprintf("decision: approval, %d open holds", holds)
	}
	return opBench{
		name: name + " (POST …/decision)", function: contract.FunctionAdminAPI, group: "review",
		setup: func(s *system, id string) any {
			for i := range holds {
				s.order(fmt.Sprintf("o-%s-%d", id, i), id, "kyc-vps", s.clock.Now().Add(-48*time.Hour))
			}
			sub := s.submitted(id)
			v := s.claim(sub, "rev-d")
			s.open(sub, "rev-d", kyc.Identity)
			s.open(sub, "rev-d", kyc.Address)
			s.drain(contract.FunctionNotifier)
			s.drain(contract.FunctionBillingAdapter)
			return [2]any{sub, v}
		},
		op: func(s *system, _ string, state any) {
			st := state.([2]any)
			res := s.approve(st[0].(string), "rev-d", st[1].(int))
			if len(res.Holds) != holds {
				s.tb.Fatalf("decision released %d holds, want %d", len(res.Holds), holds)
			}
		},
		minimum: 3 + putEvents,
		why: fmt.Sprintf("GetItem of the submission (it names the customer and the documents), one Query of the customer's partition (record and both "+
			"documents), %s (submission, customer with every open hold released, %d closed hold record(s), both documents, audit entries, outbox), "+
			"PutEvents of its %d events (at most 10 entries per call: %d call(s))", whyOneWrite, holds, events, putEvents),
		above:  []string{whyOutbox, "one Query of the customer's audit trail: the deciding reviewer must have opened both documents it approves"},
		expect: map[string]int{ddbGet: 1, ddbQuery: 2, ddbTransact: 1, ebPut: putEvents, ddbDelete: 1},
	}
}

func sweepBench(n int) opBench {
	name := fmt.Sprintf("sweep of %d due hold", n)
	if n > 1 {
		name += "s"
	}
	return opBench{
		name: name, function: contract.FunctionSweep, group: "sweep",
		setup: func(s *system, id string) any {
			// The orders are received now, so their 3 days end at now+72h;
			// the sweep runs at now+73h. The previous benchmarks left holds
			// due by then: sweep them away first, at the same time.
			s.sweep(s.clock.Now().Add(73 * time.Hour))
			for i := range n {
				s.order(fmt.Sprintf("o-%s-%d", id, i), fmt.Sprintf("%s-%d", id, i), "kyc-vps", s.clock.Now().Add(-96*time.Hour))
			}
			s.drain(contract.FunctionNotifier)
			return nil
		},
		op: func(s *system, _ string, _ any) {
			rep := s.sweep(s.clock.Now().Add(73 * time.Hour))
			if rep.Suspended != n || rep.Failed != 0 {
				s.tb.Fatalf("sweep = %+v, want %d suspended", rep, n)
			}
		},
		minimum: 1 + 2*n,
		why: fmt.Sprintf("one Query of the due index (it returns the due customer records themselves), then per due customer %s and %s (provision + suspend)",
			whyOneWrite, whyPublish),
		above: []string{
			fmt.Sprintf("%d DeleteItem: the outbox of each customer, after its PutEvents", n),
			"1 Query of the review queue index (Limit 1): the age of the oldest pending review, reported as a metric against the review SLA",
		},
		expect: map[string]int{ddbQuery: 2, ddbTransact: n, ebPut: n, ddbDelete: n},
	}
}

// BenchmarkAWSCalls counts the AWS calls of each operation, in the whole
// system built in this process on the emulator. Each b.N iteration runs the
// operation once on fresh records; its calls must be the same every time.
func BenchmarkAWSCalls(b *testing.B) {
	s := newSystem(b)
	var results []OpResult
	for _, ob := range opBenches() {
		b.Run(ob.name, func(b *testing.B) {
			s.tb = b
			var first Measured
			var durations []float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				id := fresh("c")
				var state any
				if ob.setup != nil {
					state = ob.setup(s, id)
				}
				b.StartTimer()
				m := s.measure(func() { ob.op(s, id, state) })
				durations = append(durations, ms(m.Duration))
				if i == 0 {
					first = m
				} else if !sameCalls(first.Calls, m.Calls) {
					b.Fatalf("calls changed between runs: %v then %v", first.Calls, m.Calls)
				}
			}
			counts := map[string]int{}
			for _, c := range first.Calls {
				counts[c]++
			}
			b.ReportMetric(float64(len(first.Calls)), "aws-calls/op")
			b.ReportMetric(first.Capacity.RRU, "RRU/op")
			b.ReportMetric(first.Capacity.WRU, "WRU/op")
			sort.Float64s(durations)
			r := OpResult{Name: ob.name, Function: ob.function, Group: ob.group, Calls: counts, Total: len(first.Calls),
				Minimum: ob.minimum, MinimumWhy: ob.why, Above: ob.above, Expected: ob.expect, Capacity: first.Capacity,
				DurationMS: Percentile(durations, 50), Runs: len(durations)}
			b.Logf("%s: %d calls %v (minimum %d), %+v", ob.name, r.Total, sortedCalls(counts), ob.minimum, first.Capacity)
			results = slices.DeleteFunc(results, func(o OpResult) bool { return o.Name == r.Name })
			results = append(results, r)
		})
	}
	save(b, FileCalls, results)
}

func sortedCalls(m map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return out
}
