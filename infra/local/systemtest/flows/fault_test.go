package flows

// Fault tests: every AWS call of order intake, submission, decision and the
// sweep fails in every way its service can fail, before or after the call
// takes effect, and the system keeps its state:
//
//	(i)   after the fault the case's records are entirely in the state
//	      before the operation or entirely in the state after a clean run
//	      (outbox records aside: they are how a committed change whose
//	      publication failed gets published later), and records left as
//	      they were come with an answer that makes the caller try again (an
//	      error, a 5xx, an SQS message reported failed): a success answer
//	      over unchanged records is a lost operation (SQS deletes the
//	      message, a client stops);
//	(ii)  retrying the operation without faults, then a sweep past the
//	      outbox grace period, ends in the clean run's state with no outbox
//	      left;
//	(iii) nothing is applied twice downstream: every delivery of one eventId
//	      carries the same detail, the consumers receive the clean run's
//	      events, and the billing adapter, fed every delivery (duplicates
//	      included), calls WHMCS exactly as in the clean run: once per
//	      command.
//
// Each operation first runs cleanly with a recorder, which gives its AWS
// call sequence; the matrix is then every call × every fault kind that
// applies to its service (faults.KindsFor) × before/after sending, plus a
// partial PutEvents failure that outlasts the event bus's own retries. Every
// case has its own customer, order and WHMCS service on one stack per test.
//
// Speed (the emulator is moto, one Python process): cases are prepared,
// faulted and checked in parallel chunks whose records are deleted once
// checked (moto copies the whole table for every transaction), and after
// the clean run the harness routes the bus's events itself (moto spends
// about 0.1 s of CPU on each event a rule delivers; see readRoutes).
//
// The assertions can fail: KYC_FAULTS_MUTANT=drop-outbox, split-commit or
// no-ledger breaks the system on purpose (fault_harness_test.go), and the
// suite then fails in the cases that show it.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/infra/local/faults"
	"github.com/kycgate/kycgate/shared/kyc"
)

// scenario is an operation under faults.
type scenario struct {
	name string
	// prepare builds a case's starting state, without faults (cases are
	// prepared at once, on the clock at faultT0).
	prepare func(c *fcase)
	// between runs once, after every case is prepared.
	between func(c *fcase)
	// ready runs just before the operation, without faults.
	ready func(c *fcase)
	// op runs the operation once with ctx and returns its outcome.
	op func(ctx context.Context, c *fcase) string
	// settled are the outcomes a retry without faults may have: success
	// (the first), or a conflict saying the operation was already done.
	settled []string
	// sweepAt is the time of the sweep that publishes left outboxes.
	sweepAt time.Time
	// sequential cases: the operation reads records of every customer (the
	// sweep reads the whole due index), so cases cannot overlap.
	sequential bool
	// keepsRecords: the operation changes no record (it publishes outboxes).
	keepsRecords bool
}

// faultChunk is how many cases are prepared and checked at once.
const faultChunk = 16

// clean is what a clean run of a scenario did.
type clean struct {
	calls      []string
	before     snap
	after      snap
	downstream downstream
}

// run runs a scenario cleanly, then under every fault of its matrix.
func (f *fsys) run(t *testing.T, sc scenario) {
	t.Helper()
	ctx := context.Background()
	c0 := f.newCase(t)
	f.clock.Set(faultT0)
	sc.prepare(c0)
	if sc.between != nil {
		sc.between(c0)
	}
	if sc.ready != nil {
		sc.ready(c0)
	}
	var cl clean
	cl.before = c0.snapshot()
	rec := faults.NewRecorder()
	out := sc.op(faults.WithRecorder(ctx, rec), c0)
	cl.calls = rec.Calls()
	if !slices.Contains(sc.settled, out) {
		t.Fatalf("clean run: %s", out)
	}
	c0.sweep(ctx, sc.sweepAt)
	cl.after = c0.snapshot()
	cl.downstream = c0.deliver()
	switch {
	case cl.after.records == cl.before.records && !sc.keepsRecords:
		t.Fatal("the clean run changed nothing")
	case len(cl.after.outboxes) > 0:
		t.Fatalf("the clean run left outboxes %v", cl.after.outboxes)
	case !cl.after.chain.OK:
		t.Fatalf("the clean run broke the audit chain: %+v", cl.after.chain)
	}
	c0.purge()
	f.takeOverRouting(t)
	t.Logf("%s: %d AWS calls: %s", sc.name, len(cl.calls), strings.Join(cl.calls, " → "))
	t.Logf("%s: downstream %v, WHMCS %v (%s)", sc.name, cl.downstream.events, cl.downstream.whmcs, cl.downstream.billed)

	matrix := faults.Matrix(cl.calls)
	put := 0
	for _, op := range cl.calls {
		if op == "EventBridge.PutEvents" {
			put++
			for _, w := range []faults.When{faults.BeforeSend, faults.AfterSend} {
				matrix = append(matrix, faults.Fault{Op: op, Call: put, Times: -1, Kind: faults.PartialFailure, When: w})
			}
		}
	}
	name := func(i int, fl faults.Fault) string {
		s := fmt.Sprintf("%03d_%s#%d_%s_%s", i+1, fl.Op, fl.Call, fl.Kind, fl.When)
		if fl.Times < 0 {
			s += "_persistent"
		}
		return s
	}
	var mu sync.Mutex
	tally := map[string]int{}
	record := func(fl faults.Fault, r result) {
		kind := string(fl.Kind)
		if fl.Times < 0 {
			kind += "(persistent)"
		}
		mu.Lock()
		defer mu.Unlock()
		tally["records "+r.state]++
		if r.outboxes > 0 {
			tally["outbox kept"]++
		}
		f.rows = append(f.rows, fmt.Sprintf("%-19s %-31s %-26s %-6s caller:%-24s records:%-6s outbox:%d retry:%s",
			sc.name, fmt.Sprintf("%s#%d", fl.Op, fl.Call), kind, fl.When, r.caller, r.state, r.outboxes, r.retry))
	}
	if sc.sequential {
		for i, fl := range matrix {
			t.Run(name(i, fl), func(t *testing.T) {
				c := f.newCase(t)
				sc.prepare(c)
				if sc.between != nil {
					sc.between(c)
				}
				if sc.ready != nil {
					sc.ready(c)
				}
				r := f.fault(c, sc, cl, fl)
				if res := c.sweep(ctx, sc.sweepAt); res != "ok" {
					t.Fatalf("sweep: %s", res)
				}
				f.converged(c, cl, fl)
				record(fl, r)
				c.purge()
			})
		}
	} else {
		// Cases go in chunks: each chunk is prepared, then faulted and
		// retried, all at once; one sweep publishes what they left; then
		// each is checked and its records deleted (the emulator copies a
		// whole table for every transaction: a small table keeps it fast).
		for lo := 0; lo < len(matrix); lo += faultChunk {
			hi := min(lo+faultChunk, len(matrix))
			cases := make([]*fcase, hi-lo)
			results := make([]result, hi-lo)
			f.clock.Set(faultT0)
			if !t.Run(fmt.Sprintf("prepare_%03d-%03d", lo+1, hi), func(t *testing.T) {
				for i := range cases {
					t.Run(fmt.Sprint(lo+i+1), func(t *testing.T) {
						t.Parallel()
						cases[i] = f.newCase(t)
						sc.prepare(cases[i])
					})
				}
			}) {
				return
			}
			if sc.between != nil {
				sc.between(cases[0].on(t))
			}
			t.Run(fmt.Sprintf("fault_%03d-%03d", lo+1, hi), func(t *testing.T) {
				for i := range cases {
					fl := matrix[lo+i]
					t.Run(name(lo+i, fl), func(t *testing.T) {
						t.Parallel()
						c := cases[i].on(t)
						if sc.ready != nil {
							sc.ready(c)
						}
						results[i] = f.fault(c, sc, cl, fl)
					})
				}
			})
			if res := cases[0].on(t).sweep(ctx, sc.sweepAt); res != "ok" {
				t.Fatalf("sweep: %s", res)
			}
			t.Run(fmt.Sprintf("converged_%03d-%03d", lo+1, hi), func(t *testing.T) {
				for i := range cases {
					fl := matrix[lo+i]
					t.Run(name(lo+i, fl), func(t *testing.T) {
						if !results[i].checked {
							t.Skip("the fault failed its checks")
						}
						t.Parallel()
						c := cases[i].on(t)
						f.converged(c, cl, fl)
						record(fl, results[i])
						c.purge()
					})
				}
			})
		}
	}
	var parts []string
	for k, v := range tally {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	slices.Sort(parts)
	t.Logf("%s: %d faults; %s; %d AWS calls in all: %v", sc.name, len(matrix), strings.Join(parts, ", "), f.all.Total(), f.all.Counts())
}

// result is what one fault did.
type result struct {
	caller   string // the outcome the caller saw
	state    string // the records after the fault: "before" or "after"
	outboxes int    // outbox records left by the fault
	retry    string // the outcome of the retry without faults
	checked  bool   // (i) held and the retry answered
}

// fault runs the operation of a prepared case with the fault, checks (i),
// and retries the operation without faults.
func (f *fsys) fault(c *fcase, sc scenario, cl clean, fl faults.Fault) result {
	t := c.t
	t.Helper()
	ctx := context.Background()
	// Every case is prepared as the clean run was: it starts in the clean
	// run's before-state (a case that did not would fail (i) below).
	before := cl.before
	inj := faults.NewInjector(fl)
	rec := faults.NewRecorder()
	out := sc.op(faults.WithInjector(faults.WithRecorder(ctx, rec), inj), c)
	mid := c.snapshot()
	fired := inj.Fired()
	if len(fired) == 0 {
		t.Fatalf("the fault never fired; the calls were %v", rec.Calls())
	}
	if k := fired[0].Call; !slices.Equal(rec.Calls()[:k], cl.calls[:k]) {
		t.Fatalf("the calls up to the fault differ from the clean run's:\n%v\n%v", rec.Calls()[:k], cl.calls[:k])
	}

	// (i) All before or all after; outbox records may remain.
	if !mid.chain.OK {
		t.Fatalf("audit chain broken after the fault: %+v", mid.chain)
	}
	var state string
	switch mid.records {
	case before.records:
		state = "before"
	case cl.after.records:
		state = "after"
	default:
		t.Fatalf("after %s (caller saw %q) the records are neither before nor after the operation.\nagainst before:\n%s\nagainst after:\n%s\nlog:\n%s",
			fl, out, diff(before.records, mid.records), diff(cl.after.records, mid.records), c.log)
	}

	// (i), second half: records left as they were must come with an answer
	// that makes the caller try again.
	if state == "before" && !sc.keepsRecords && out == sc.settled[0] {
		t.Fatalf("after %s the records are unchanged but the caller was told %q (success): the operation is lost; log:\n%s", fl, out, c.log)
	}

	// (ii), first half: a retry without faults.
	again := sc.op(ctx, c)
	if !slices.Contains(sc.settled, again) {
		t.Fatalf("after %s (caller saw %q) the retry answered %q, want one of %v; log:\n%s", fl, out, again, sc.settled, c.log)
	}
	return result{caller: out, state: state, outboxes: len(mid.outboxes), retry: again, checked: true}
}

// converged checks a case after its retry and a sweep past the outbox grace
// period: (ii) the clean run's records and no outbox left; (iii) the clean
// run's events downstream, every delivery of an event the same, and WHMCS
// called as in the clean run.
func (f *fsys) converged(c *fcase, cl clean, fl faults.Fault) {
	t := c.t
	t.Helper()
	after := c.snapshot()
	if after.records != cl.after.records {
		t.Fatalf("after %s and a retry the records differ from the clean run's:\n%s", fl, diff(cl.after.records, after.records))
	}
	if len(after.outboxes) > 0 {
		t.Fatalf("after %s, a retry and a sweep, outboxes are left: %v", fl, after.outboxes)
	}
	if !after.chain.OK {
		t.Fatalf("audit chain broken: %+v", after.chain)
	}
	ds := c.deliver()
	if !slices.Equal(ds.events, cl.downstream.events) {
		t.Fatalf("after %s the consumers received\n%v\nwant\n%v", fl, ds.events, cl.downstream.events)
	}
	if !slices.Equal(ds.whmcs, cl.downstream.whmcs) || ds.billed != cl.downstream.billed {
		t.Fatalf("after %s WHMCS was called %v (service %s), want %v (%s)", fl, ds.whmcs, ds.billed, cl.downstream.whmcs, cl.downstream.billed)
	}
}

// diff shows the lines of two snapshots that differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestFaultsOrderIntake: OrderPlaced of an unverified customer (with an
// e-mail address, sealed under the customer's new data key) through
// billing-intake's SQS path.
func TestFaultsOrderIntake(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, scenario{
		name:    "intake",
		prepare: func(*fcase) {},
		op: func(ctx context.Context, c *fcase) string {
			return c.place(ctx, faultT0.Add(-time.Hour), true)
		},
		settled: []string{"ok"},
		sweepAt: faultT0.Add(outboxGrace),
	})
	f.logRows(t)
}

// TestFaultsSubmission: POST /v1/kyc/submissions of two validated documents.
func TestFaultsSubmission(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, scenario{
		name:    "submission",
		prepare: func(c *fcase) { c.uploadBoth() },
		op: func(ctx context.Context, c *fcase) string {
			return c.submit(ctx).outcome()
		},
		settled: []string{"201", "409 submission_pending"},
		sweepAt: faultT0.Add(outboxGrace),
	})
	f.logRows(t)
}

// decision returns an approval or a rejection scenario. The approval is on
// time (ordered 48 hours ago) with a sealed note and extracted fields (KMS
// is called): provision and extension. The rejection comes after the
// deadline: ordered 71 hours ago, received and submitted at once (on time),
// the sweep past the deadline leaves the hold awaiting review, and the
// rejection an hour later puts it back in awaiting_kyc with the 3 days that
// were left (the clock stopped during the review).
func decision(approve bool) scenario {
	claim := func(c *fcase) {
		r := c.serve(context.Background(), "admin-api", "POST", "/v1/admin/submissions/"+c.sub+"/claim", c.s.reviewer("rev-f"), nil)
		if r.status != http.StatusOK {
			c.t.Fatalf("claim = %d %s", r.status, r.body)
		}
		var item kyc.QueueItem
		r.decode(c.t, &item)
		c.version = item.Version
		for _, cat := range []string{"identity", "address"} { // an approval needs both opened
			if r := c.serve(context.Background(), "admin-api", "GET", "/v1/admin/submissions/"+c.sub+"/documents/"+cat, c.s.reviewer("rev-f"), nil); r.status != http.StatusFound {
				c.t.Fatalf("open the %s document = %d %s", cat, r.status, r.body)
			}
		}
	}
	submitted := func(c *fcase, orderedAt time.Time) {
		c.held(orderedAt)
		c.uploadBoth()
		r := c.submit(context.Background())
		if r.status != http.StatusCreated {
			c.t.Fatalf("submit = %d %s; log:\n%s", r.status, r.body, c.log)
		}
		var rec kyc.SubmissionReceipt
		r.decode(c.t, &rec)
		c.sub = rec.SubmissionID
	}
	op := func(ctx context.Context, c *fcase) string {
		body := map[string]any{"version": c.version}
		if approve {
			body["decisions"] = map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}}
			body["note"] = "checked against the passport chip"
			// Each case's own card: one number approved on two accounts
			// would wait for a second admin (the same document on another
			// account), which is not this scenario.
			body["extracted"] = map[string]string{"fullName": "陳大文", "documentNumber": fmt.Sprintf("K%06d(8)", c.n), "birthDate": "1990-01-01"}
		} else {
			body["decisions"] = map[string]any{"identity": map[string]any{"result": "approve"},
				"address": map[string]any{"result": "reject", "reasons": []string{"too_old"}}}
			body["customerMessage"] = "Please send a statement from the last three months."
		}
		return c.serve(ctx, "admin-api", "POST", "/v1/admin/submissions/"+c.sub+"/decision", c.s.reviewer("rev-f"), body).outcome()
	}
	if approve {
		return scenario{
			name:    "approval",
			prepare: func(c *fcase) { submitted(c, faultT0.Add(-48*time.Hour)) },
			ready:   claim,
			op:      op,
			settled: []string{"200", "409 already_decided"},
			sweepAt: faultT0.Add(outboxGrace),
		}
	}
	return scenario{
		name:    "rejection",
		prepare: func(c *fcase) { submitted(c, faultT0.Add(-71*time.Hour)) },
		between: func(c *fcase) {
			if res := c.sweep(context.Background(), faultT0.Add(73*time.Hour)); res != "ok" {
				c.t.Fatalf("sweep past the deadline: %s", res)
			}
			c.f.clock.Set(faultT0.Add(74 * time.Hour))
		},
		ready:   claim,
		op:      op,
		settled: []string{"200", "409 already_decided"},
		sweepAt: faultT0.Add(74*time.Hour + outboxGrace),
	}
}

// TestFaultsApproval: POST /v1/admin/submissions/{id}/decision, approving.
func TestFaultsApproval(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, decision(true))
	f.logRows(t)
}

// TestFaultsRejection: POST /v1/admin/submissions/{id}/decision, rejecting
// after the deadline a submission made in time: the hold goes back to
// awaiting_kyc with the time that was left.
func TestFaultsRejection(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, decision(false))
	f.logRows(t)
}

// TestFaultsSweepSuspension: the sweep suspends an overdue hold (provision
// then suspend): the order was received at faultT0, the sweep runs 3 days
// and an hour later.
func TestFaultsSweepSuspension(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, scenario{
		name: "sweep-suspension",
		prepare: func(c *fcase) {
			c.held(faultT0.Add(-96 * time.Hour))
		},
		op:         func(ctx context.Context, c *fcase) string { return c.sweep(ctx, faultT0.Add(73*time.Hour)) },
		settled:    []string{"ok"},
		sweepAt:    faultT0.Add(73*time.Hour + outboxGrace),
		sequential: true,
	})
	f.logRows(t)
}

// TestFaultsSweepRepublication: the sweep re-publishes the outbox of an
// order whose publication failed.
func TestFaultsSweepRepublication(t *testing.T) {
	t.Parallel()
	f := newFaultSys(t)
	f.run(t, scenario{
		name: "sweep-republication",
		prepare: func(c *fcase) {
			// The order commits; its publication fails every time.
			inj := faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Times: -1, Kind: faults.ServiceUnavailable})
			if out := c.place(faults.WithInjector(context.Background(), inj), faultT0.Add(-time.Hour), false); out != "ok" {
				c.t.Fatalf("order: %s", out)
			}
			if sn := c.snapshot(); len(sn.outboxes) != 1 {
				c.t.Fatalf("outboxes after a failed publication: %v", sn.outboxes)
			}
		},
		op:           func(ctx context.Context, c *fcase) string { return c.sweep(ctx, faultT0.Add(outboxGrace)) },
		settled:      []string{"ok"},
		sweepAt:      faultT0.Add(outboxGrace),
		sequential:   true,
		keepsRecords: true,
	})
	f.logRows(t)
}

func (f *fsys) logRows(t *testing.T) {
	slices.Sort(f.rows)
	t.Logf("fault matrix (%d cases):\n%s", len(f.rows), strings.Join(f.rows, "\n"))
}
