package kyc

import (
	"slices"
	"testing"
	"time"
)

var (
	provision = ServiceProvisionRequested
	suspend   = ServiceSuspendRequested
	unsuspend = ServiceUnsuspendRequested
	extend    = ServiceDueDateExtended
)

// want is the expected end of one order's hold.
type want struct {
	state    HoldState
	commands []EventType // billing commands in the order they were emitted
	due      Date        // next due date as billing holds it after our changes
	days     int         // extension in whole days (0: none)
	exact    time.Duration
	rendered bool
	// deadline, if set, is the hold's deadline (after t0) at the end.
	deadline time.Duration
}

// TestPolicy proves each rule of the provider's policy and each decision of
// the policy (docs/policy.md) on a timeline. Every row quotes the sentence it proves.
func TestPolicy(t *testing.T) {
	tests := []struct {
		name  string
		quote string
		run   func(w *world)
		order string
		want  want
	}{
		{
			name:  "approval at exactly 72h is on time",
			quote: "P6: If a customer successfully passes KYC within 3 days of ordering, we will provision the service and extend its next due date by the time the customer took.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(5 * h); w.approve(72 * h) },
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(3), days: 3, exact: 72 * h},
		},
		{
			name:  "submission at exactly 72h approved later is on time",
			quote: "Decision: Timely response means a complete submission (made by orderedAt + 72h).",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(72 * h); w.sweep(80 * h); w.approve(100 * h) },
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(5), days: 5, exact: 100 * h},
		},
		{
			name:  "submission at 72h plus 1ns is late",
			quote: "P7: Absent a customer's timely response within 3 days of ordering, we will provision the service and suspend it right away.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(72*h + 1); w.sweep(80 * h); w.approve(100 * h) },
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision, suspend, unsuspend}, due: due0, rendered: true},
		},
		{
			name:  "time taken is rounded up to whole days, exact duration kept",
			quote: "P6: extend nextDueDate by t − orderedAt, rounded up to whole days for date-only billing systems (the exact duration is recorded too).",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(h); w.approve(25*h + time.Minute) },
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(2), days: 2, exact: 25*h + time.Minute},
		},
		{
			name:  "sweep at exactly 72h does nothing yet",
			quote: "P6: within 3 days of ordering (approval at t ≤ orderedAt + 72h is on time, so the deadline has not passed at 72h).",
			run:   func(w *world) { w.order("o1", 0); w.sweep(72 * h) },
			order: "o1",
			want:  want{state: AwaitingKYC, due: due0},
		},
		{
			name:  "sweep at 72h plus 1ns suspends without a submission",
			quote: "P7: Absent a customer's timely response within 3 days of ordering, we will provision the service and suspend it right away.",
			run:   func(w *world) { w.order("o1", 0); w.sweep(72*h + 1) },
			order: "o1",
			want:  want{state: SuspendedKYC, commands: []EventType{provision, suspend}, due: due0, rendered: true},
		},
		{
			name:  "a suspended service counts as rendered",
			quote: "P8: Due to the lack of cooperation from the customer, a suspended service, in this case, is considered a rendered / delivered service.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(80 * h); w.sweep(96 * h) },
			order: "o1",
			want:  want{state: SuspendedKYC, commands: []EventType{provision, suspend}, due: due0, rendered: true},
		},
		{
			name:  "approval after suspension unsuspends without extension",
			quote: "P7: In such case, even if the customer later passes KYC, we will not extend the service period.",
			run:   func(w *world) { w.order("o1", 0); w.sweep(73 * h); w.mustSubmit(80 * h); w.approve(100 * h) },
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision, suspend, unsuspend}, due: due0, rendered: true},
		},
		{
			name:  "late approval before any sweep provisions only",
			quote: "Decision: An approval committed after the deadline of a hold that the sweep has not reached yet (no timely submission) gives what the policy gives a late customer: provisioned, no extension, state released; no pointless suspend/unsuspend pair.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(72*h + 1); w.approve(80 * h) },
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision}, due: due0},
		},
		{
			name:  "timely submission approved after the deadline counts as on time",
			quote: "Decision: If, at the deadline, the customer has a complete submission waiting for review that was made before the deadline, the hold waits for the reviewer (awaiting_review); approval then counts as on time (provision + extension by the time taken).",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(70 * h); w.sweep(73 * h); w.approve(90 * h) },
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(4), days: 4, exact: 90 * h},
		},
		{
			name:  "timely submission approved after the deadline before any sweep",
			quote: "Decision: A reviewer backlog must never punish a customer who answered in time.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(72 * h); w.approve(90 * h) },
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(4), days: 4, exact: 90 * h},
		},
		{
			name:  "the clock stops while a submission waits for review: a rejection gives back the time left",
			quote: "Decision (amended 2026-12-03): The 3-day clock stops while a submission waits for review: a rejection gives the customer back the time that was left when they submitted, counted from the decision (newDeadline = decidedAt + (deadline − submittedAt)).",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(70 * h); w.sweep(73 * h); w.reject(80 * h) },
			order: "o1",
			want:  want{state: AwaitingKYC, due: due0, deadline: 82 * h},
		},
		{
			name:  "the clock stops for a timely submission rejected after the deadline before any sweep",
			quote: "Decision: Deadlines are decided by timestamps, not by when the sweep runs; the 3-day clock stops while a submission waits for review.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(70 * h); w.reject(80 * h); w.sweep(81 * h) },
			order: "o1",
			want:  want{state: AwaitingKYC, due: due0, deadline: 82 * h},
		},
		{
			name:  "a slow rejection costs nothing: the sweep suspends only when the time given back runs out",
			quote: "Decision (amended 2026-12-03): a slow review never costs a customer who answered in time; the sweep suspends only when that time runs out.",
			run: func(w *world) {
				w.order("o1", 0)
				w.mustSubmit(h)   // 71 h left
				w.sweep(73 * h)   // waits for the reviewer
				w.reject(100 * h) // 71 h again, from the decision: until 171 h
				if w.sweep(171 * h) {
					w.tb.Fatal("the sweep acted before the time given back ran out")
				}
				w.sweep(171*h + 1)
			},
			order: "o1",
			want:  want{state: SuspendedKYC, commands: []EventType{provision, suspend}, due: due0, rendered: true, deadline: 171 * h},
		},
		{
			name:  "a rejection gives back at most the 3 days",
			quote: "Decision (amended 2026-12-03): the customer gets back the time that was left when they submitted (a submission made before the order arrived had the whole 3 days left).",
			run:   func(w *world) { w.mustSubmit(0); w.order("o1", 10*h); w.reject(20 * h) },
			order: "o1",
			want:  want{state: AwaitingKYC, due: due0, deadline: 92 * h},
		},
		{
			name:  "rejection before the deadline leaves time to resubmit",
			quote: "docs/policy.md, States: rejected (may resubmit); reviewers decide each document (so a customer can be asked to replace only one).",
			run: func(w *world) {
				w.order("o1", 0)
				w.mustSubmit(10 * h)
				w.reject(20 * h)
				w.mustSubmit(30 * h)
				w.approve(40 * h)
			},
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(2), days: 2, exact: 40 * h},
		},
		{
			name:  "suspended when the time given back ran out, approved later: unsuspend only",
			quote: "P7: until the customer passes KYC or the service expires; no extension later.",
			run: func(w *world) {
				w.order("o1", 0)
				w.mustSubmit(70 * h)
				w.reject(80 * h) // until 82 h
				w.sweep(83 * h)
				w.mustSubmit(90 * h)
				w.approve(100 * h)
			},
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision, suspend, unsuspend}, due: due0, rendered: true},
		},
		{
			name:  "a sweep never suspends a hold whose approval is committed",
			quote: "Decision: A sweep never suspends a hold whose approval is already committed.",
			run:   func(w *world) { w.order("o1", 0); w.mustSubmit(75 * h); w.approve(80 * h); w.sweep(73 * h) },
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision}, due: due0},
		},
		{
			name:  "timestamps decide, not processing order: a submission stamped before the deadline",
			quote: "Decision: Deadlines are decided by timestamps, not by when the sweep runs.",
			run: func(w *world) {
				w.order("o1", 0)
				w.sweep(75 * h)      // a sweep stamped 75h is processed first...
				w.mustSubmit(70 * h) // ...then a submission stamped 70h commits (clocks disagree)
				w.approve(80 * h)
			},
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, suspend, unsuspend, extend}, due: due0.AddDays(4), days: 4, exact: 80 * h, rendered: true},
		},
		{
			name:  "non-KYC product is never held",
			quote: "P1: Not all products require identity verification. Only if the customer order the products and services marked as requiring KYC identity verification need to comply.",
			run: func(w *world) {
				if err := w.orderAt("o1", 0, 0, "shared-hosting"); err != nil {
					w.tb.Fatal(err)
				}
				w.sweep(100 * h)
			},
			order: "o1",
			want:  want{state: NotRequired, due: due0},
		},
		{
			name:  "already verified at order time provisions at once",
			quote: "Decision: Already verified at order time (and not expired): provision immediately, no hold, no extension.",
			run: func(w *world) {
				w.order("o0", 0)
				w.mustSubmit(h)
				w.approve(2 * h)
				w.order("o1", 10*h)
			},
			order: "o1",
			want:  want{state: Provisioned, commands: []EventType{provision}, due: due0},
		},
		{
			name:  "order arriving after the customer was verified is judged by its own order time",
			quote: "Decision: Order timestamps come from the billing system (orderedAt), may be in the past (events arrive late).",
			run: func(w *world) {
				w.order("o0", 0)
				w.mustSubmit(h)
				w.approve(40 * h)
				if err := w.orderAt("o1", 30*h, 50*h, "kyc-vps"); err != nil { // ordered before the approval, reported after
					w.tb.Fatal(err)
				}
			},
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(1), days: 1, exact: 10 * h},
		},
		{
			name:  "cancelled order while awaiting KYC",
			quote: "docs/policy.md, States: awaiting_* → cancelled (billing cancelled the order).",
			run: func(w *world) {
				w.order("o1", 0)
				ch, err := w.c.CancelOrder("o1", t0.Add(10*h))
				if err != nil {
					w.tb.Fatal(err)
				}
				w.apply(ch)
				w.mustSubmit(20 * h)
				w.approve(30 * h)
				w.sweep(100 * h)
			},
			order: "o1",
			want:  want{state: Cancelled, due: due0},
		},
		{
			name:  "service expired while suspended",
			quote: "P7: suspend it right away, until the customer passes KYC or the service expires.",
			run: func(w *world) {
				w.order("o1", 0)
				w.sweep(73 * h)
				ch, err := w.c.ServiceExpired("o1", t0.Add(200*h))
				if err != nil {
					w.tb.Fatal(err)
				}
				w.apply(ch)
				w.mustSubmit(300 * h)
				w.approve(310 * h)
			},
			order: "o1",
			want:  want{state: Expired, commands: []EventType{provision, suspend}, due: due0, rendered: true},
		},
		{
			name:  "a hold expires only on billing's word, never because a remembered due date passed",
			quote: "Decision (amended 2026-12-03): A hold ends as expired only when billing says the service ended (ServiceExpired), never because a remembered due date passed.",
			run: func(w *world) {
				w.order("o1", 0)
				w.sweep(73 * h)
				w.sweep(due0.AddDays(400).Time().Sub(t0)) // long after the due date reported with the order
				w.mustSubmit(due0.AddDays(401).Time().Sub(t0))
				w.approve(due0.AddDays(402).Time().Sub(t0)) // billing renewed the service meanwhile
			},
			order: "o1",
			want:  want{state: Released, commands: []EventType{provision, suspend, unsuspend}, due: due0, rendered: true},
		},
		{
			name:  "an order reported late gets its 3 days from its arrival",
			quote: "Decision (amended 2026-12-03): The customer always gets 3 days after being asked: an order that reaches the gate late has deadline = max(orderedAt, receivedAt) + 72h.",
			run: func(w *world) {
				if err := w.orderAt("o1", 0, 100*h, "kyc-vps"); err != nil { // paid and reported 100 h after the order
					w.tb.Fatal(err)
				}
				if w.sweep(172 * h) {
					w.tb.Fatal("the sweep acted within 3 days of the request")
				}
				w.sweep(172*h + 1)
			},
			order: "o1",
			want:  want{state: SuspendedKYC, commands: []EventType{provision, suspend}, due: due0, rendered: true, deadline: 172 * h},
		},
		{
			name:  "an order reported late is extended from its order time",
			quote: "Decision (amended 2026-12-03): the extension on approval is still counted from orderedAt (the customer paid from then).",
			run: func(w *world) {
				if err := w.orderAt("o1", 0, 100*h, "kyc-vps"); err != nil {
					w.tb.Fatal(err)
				}
				w.mustSubmit(110 * h)
				w.approve(120 * h)
			},
			order: "o1",
			want:  want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(5), days: 5, exact: 120 * h},
		},
		{
			name:  "cancelling a suspended order closes it as cancelled, keeps rendered and sends nothing more",
			quote: "Decision (amended 2026-12-03): OrderCancelled of a suspended_kyc hold closes it as cancelled, keeps rendered, and sends no further commands.",
			run: func(w *world) {
				w.order("o1", 0)
				w.sweep(73 * h)
				ch, err := w.c.CancelOrder("o1", t0.Add(80*h))
				if err != nil {
					w.tb.Fatal(err)
				}
				w.apply(ch)
				w.mustSubmit(90 * h)
				w.approve(100 * h) // no unsuspend for a cancelled service
			},
			order: "o1",
			want:  want{state: Cancelled, commands: []EventType{provision, suspend}, due: due0, rendered: true},
		},
		{
			name:  "an order without a due date is held, and nothing is extended",
			quote: "Decision (amended 2026-12-03): nextDueDate is optional (one-time and free products have none): without it nothing is extended.",
			run: func(w *world) {
				if err := w.place(Order{OrderID: "o1", ProductID: "kyc-vps"}, 0, 0); err != nil {
					w.tb.Fatal(err)
				}
				w.mustSubmit(5 * h)
				w.approve(30 * h)
			},
			order: "o1",
			want:  want{state: Provisioned, commands: []EventType{provision}},
		},
		{
			name:  "an order without a due date is suspended like any other",
			quote: "Decision (amended 2026-12-03): without a due date nothing is extended; the hold works otherwise.",
			run: func(w *world) {
				if err := w.place(Order{OrderID: "o1", ProductID: "kyc-vps"}, 0, 0); err != nil {
					w.tb.Fatal(err)
				}
				w.sweep(73 * h)
			},
			order: "o1",
			want:  want{state: SuspendedKYC, commands: []EventType{provision, suspend}, rendered: true},
		},
		{
			name:  "an approval before billing's order time sends no extension",
			quote: "Issue 'Billing owns the dates', 10: no extension command when there is nothing to extend (state provisioned).",
			run: func(w *world) {
				// billing's clock is 4 minutes ahead of ours: ordered at 10h+4m, received at 10h
				if err := w.place(Order{OrderID: "o1", ProductID: "kyc-vps", NextDueDate: due0}, 10*h+4*time.Minute, 10*h); err != nil {
					w.tb.Fatal(err)
				}
				w.mustSubmit(10*h + time.Minute)
				w.approve(10*h + 2*time.Minute)
			},
			order: "o1",
			want:  want{state: Provisioned, commands: []EventType{provision}, due: due0},
		},
		{
			name:  "an order stamped just after the verification expired is held, not released by it",
			quote: "Issue 'Billing owns the dates', 10: the late-intake path only when the verification is really later than the order.",
			run: func(w *world) {
				w.order("o0", 0)
				w.mustSubmit(h)
				w.approve(2 * h)
				expiry := w.c.ExpiresAt.Sub(t0)
				// billing's clock is ahead: the order is stamped 1 minute after the expiry and reaches us 1 minute before it
				if err := w.place(Order{OrderID: "o1", ProductID: "kyc-vps", NextDueDate: due0}, expiry+time.Minute, expiry-time.Minute); err != nil {
					w.tb.Fatal(err)
				}
			},
			order: "o1",
			want:  want{state: AwaitingKYC, due: due0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Log(tt.quote)
			w := newWorld(t)
			tt.run(w)
			checkHold(t, w, tt.order, tt.want)
			if tt.want.deadline != 0 {
				if got := w.hold(tt.order).Deadline; !got.Equal(t0.Add(tt.want.deadline)) {
					t.Errorf("deadline = %s after t0, want %s", got.Sub(t0), tt.want.deadline)
				}
			}
		})
	}
}

func checkHold(t *testing.T, w *world, order string, want want) {
	t.Helper()
	got := w.hold(order)
	if got.State != want.state {
		t.Errorf("state = %s, want %s", got.State, want.state)
	}
	if cmds := w.commands(order); !slices.Equal(cmds, want.commands) {
		t.Errorf("commands = %v, want %v", cmds, want.commands)
	}
	if got.NextDueDate != want.due {
		t.Errorf("nextDueDate = %s, want %s", got.NextDueDate, want.due)
	}
	if got.Rendered != want.rendered {
		t.Errorf("rendered = %v, want %v", got.Rendered, want.rendered)
	}
	var days int
	var exact time.Duration
	if got.Extension != nil {
		days, exact = got.Extension.Days, got.Extension.Exact
	}
	if days != want.days || exact != want.exact {
		t.Errorf("extension = %d days (%s), want %d days (%s)", days, exact, want.days, want.exact)
	}
	if e, ok := w.event(order, extend); ok {
		if *e.PreviousDueDate != due0 || e.Extension.Days != want.days || e.Extension.Exact != want.exact {
			t.Errorf("ServiceDueDateExtended = base %s + %d days (%s), want base %s + %d days (%s)",
				e.PreviousDueDate, e.Extension.Days, e.Extension.Exact, due0, want.days, want.exact)
		}
	}
}

// TestOneVerificationReleasesEveryHold: Decision: One verification releases every
// hold of that customer, each with its own extension computed from its own
// orderedAt.
func TestOneVerificationReleasesEveryHold(t *testing.T) {
	t.Run("both on time", func(t *testing.T) {
		w := newWorld(t)
		w.order("a", 0)
		w.order("b", 50*h)
		w.mustSubmit(60 * h)
		w.approve(100 * h) // a: submitted before its deadline (72h), b: approved before its own (122h)
		checkHold(t, w, "a", want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(5), days: 5, exact: 100 * h})
		checkHold(t, w, "b", want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(3), days: 3, exact: 50 * h})
	})
	t.Run("one suspended, one on time", func(t *testing.T) {
		w := newWorld(t)
		w.order("a", 0)
		w.order("b", 50*h)
		w.sweep(73 * h)
		w.mustSubmit(80 * h)
		w.approve(90 * h)
		checkHold(t, w, "a", want{state: Released, commands: []EventType{provision, suspend, unsuspend}, due: due0, rendered: true})
		checkHold(t, w, "b", want{state: ProvisionedExtended, commands: []EventType{provision, extend}, due: due0.AddDays(2), days: 2, exact: 40 * h})
	})
	t.Run("no open hold remains", func(t *testing.T) {
		w := newWorld(t)
		for i, id := range []string{"a", "b", "c"} {
			w.order(id, time.Duration(i)*30*h)
		}
		w.sweep(75 * h)
		w.mustSubmit(80 * h)
		w.approve(81 * h)
		if len(w.c.Holds) != 0 {
			t.Fatalf("open holds after approval: %v", w.c.Holds)
		}
	})
}

func TestOrderValidation(t *testing.T) {
	tests := []struct {
		name     string
		ordered  time.Duration // order time, relative to now
		wantCode string
	}{
		{"order time in the future beyond skew is refused", OrderClockSkew + time.Second, "order_in_future"},
		{"order time within the clock skew is accepted", OrderClockSkew, ""},
		{"order time in the past is accepted (late event)", -100 * h, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Log("Decision: orderedAt may be in the past (events arrive late) but not in the future beyond a small clock skew")
			w := newWorld(t)
			now := 200 * h
			err := w.orderAt("o1", now+tt.ordered, now, "kyc-vps")
			if CodeOf(err) != tt.wantCode {
				t.Fatalf("error = %v, want code %q", err, tt.wantCode)
			}
			if tt.wantCode != "" && (len(w.c.Holds) != 0 || len(w.events) != 0) {
				t.Fatal("a refused order changed the customer")
			}
		})
	}
	t.Run("a held order placed twice is refused", func(t *testing.T) {
		w := newWorld(t)
		w.order("o1", 0)
		if err := w.orderAt("o1", 0, h, "kyc-vps"); CodeOf(err) != "duplicate_order" {
			t.Fatalf("error = %v, want duplicate_order", err)
		}
	})
	t.Run("missing fields", func(t *testing.T) {
		c := NewCustomer("cust-1", t0)
		base := Order{OrderID: "o1", ServiceID: "s1", CustomerID: "cust-1", ProductID: "kyc-vps", ServerRegion: "hk", OrderedAt: t0, NextDueDate: due0}
		for code, mutate := range map[string]func(*Order){
			"invalid_orderId":      func(o *Order) { o.OrderID = "" },
			"invalid_serviceId":    func(o *Order) { o.ServiceID = "a/b" },
			"invalid_productId":    func(o *Order) { o.ProductID = "" },
			"invalid_customerId":   func(o *Order) { o.CustomerID = "someone-else" },
			"invalid_serverRegion": func(o *Order) { o.ServerRegion = "" },
			"invalid_orderedAt":    func(o *Order) { o.OrderedAt = time.Time{} },
			"invalid_nextDueDate":  func(o *Order) { o.NextDueDate = NewDate(9001, 1, 1) },
		} {
			o := base
			mutate(&o)
			if _, err := c.PlaceOrder(o, true, t0); CodeOf(err) != code {
				t.Errorf("%s: error = %v", code, err)
			}
		}
	})
}

func TestVerification(t *testing.T) {
	t.Run("verified expired by one day needs a new verification", func(t *testing.T) {
		t.Log("P2: Once a customer account passes KYC and marked verified, the status will be good for 2 years.")
		w := newWorld(t)
		w.order("o0", 0)
		w.mustSubmit(h)
		w.approve(2 * h)
		expires := w.c.ExpiresAt
		if want := t0.Add(2*h).AddDate(2, 0, 0); !expires.Equal(want) {
			t.Fatalf("expiresAt = %s, want %s", expires, want)
		}
		at := expires.Add(24 * h).Sub(t0)
		if err := w.orderAt("o1", at, at, "kyc-vps"); err != nil {
			t.Fatal(err)
		}
		if got := w.hold("o1").State; got != AwaitingKYC {
			t.Fatalf("state = %s, want awaiting_kyc", got)
		}
		if _, ok := w.event("o1", KycRequested); !ok {
			t.Fatal("no KycRequested")
		}
		if w.c.StatusAt(expires.Add(24*h)) != StatusExpired {
			t.Fatalf("status = %s, want expired", w.c.StatusAt(expires.Add(24*h)))
		}
	})
	t.Run("verified until the last nanosecond", func(t *testing.T) {
		w := newWorld(t)
		w.order("o0", 0)
		w.mustSubmit(h)
		w.approve(2 * h)
		at := w.c.ExpiresAt.Add(-1).Sub(t0)
		if err := w.orderAt("o1", at, at, "kyc-vps"); err != nil {
			t.Fatal(err)
		}
		if got := w.hold("o1").State; got != Provisioned {
			t.Fatalf("state = %s, want provisioned", got)
		}
	})
	t.Run("expiry leaves existing services alone", func(t *testing.T) {
		t.Log("P2: Existing services are not touched by expiry.")
		w := newWorld(t)
		w.order("o0", 0)
		w.mustSubmit(h)
		w.approve(2 * h)
		n := len(w.events)
		w.sweep(w.c.ExpiresAt.Sub(t0))
		for _, e := range w.events[n:] {
			if e.OrderID != "" {
				t.Fatalf("expiry emitted %s for order %s", e.Type, e.OrderID)
			}
		}
		if w.c.Status != StatusExpired {
			t.Fatalf("status = %s after the sweep at expiry", w.c.Status)
		}
	})
	t.Run("29 February expires on 28 February", func(t *testing.T) {
		v := time.Date(2028, 2, 29, 15, 30, 0, 0, time.UTC)
		if got, want := VerificationExpiry(v), time.Date(2030, 2, 28, 15, 30, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("expiry = %s, want %s", got, want)
		}
	})
	t.Run("calendar years, not 730 days", func(t *testing.T) {
		v := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) // 2028 is a leap year: 731 days later
		if got, want := VerificationExpiry(v), time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("expiry = %s, want %s", got, want)
		}
	})
	t.Run("reminder 30 days before, once; then expired, once", func(t *testing.T) {
		t.Log("P2: Reminder event 30 days before.")
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		exp := w.c.ExpiresAt
		if w.sweep(exp.Add(-ReminderBefore - 1).Sub(t0)) {
			t.Fatal("sweep before the reminder time changed something")
		}
		if !w.sweep(exp.Add(-ReminderBefore).Sub(t0)) {
			t.Fatal("no reminder at 30 days before expiry")
		}
		if w.sweep(exp.Add(-ReminderBefore + h).Sub(t0)) {
			t.Fatal("reminder sent twice")
		}
		if !w.sweep(exp.Sub(t0)) || w.c.Status != StatusExpired {
			t.Fatal("no expiry at two years")
		}
		if w.sweep(exp.Add(h).Sub(t0)) {
			t.Fatal("expiry sent twice")
		}
		var types []EventType
		for _, e := range w.events {
			if e.Type == KycExpiring || e.Type == KycExpired {
				types = append(types, e.Type)
			}
		}
		if !slices.Equal(types, []EventType{KycExpiring, KycExpired}) {
			t.Fatalf("events = %v", types)
		}
		if !w.c.DueAt().IsZero() {
			t.Fatalf("still due at %s after expiry", w.c.DueAt())
		}
	})
}

func TestSubmissionRules(t *testing.T) {
	t.Run("a verified customer cannot submit before the expiry reminder", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		for _, at := range []time.Duration{2 * h, w.c.ExpiresAt.Add(-ReminderBefore - 1).Sub(t0)} {
			if err := w.submit(at); CodeOf(err) != "already_verified" {
				t.Fatalf("at %s: error = %v", at, err)
			}
		}
	})
	t.Run("re-verification: a verified customer may submit from the expiry reminder on, and stays verified meanwhile", func(t *testing.T) {
		t.Log("Decision (amended 2026-12-03): A verified customer may submit again from the expiry reminder (30 days before expiresAt) on; approval starts a new 2 years.")
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		first := w.c.ExpiresAt
		at := first.Add(-ReminderBefore).Sub(t0)
		w.sweep(at) // the reminder
		w.mustSubmit(at)
		if got := w.c.StatusAt(t0.Add(at)); got != StatusVerified || w.c.Pending == nil {
			t.Fatalf("status %s while re-verifying, want verified with a pending submission", got)
		}
		if err := w.orderAt("o1", at+h, at+h, "kyc-vps"); err != nil || w.hold("o1").State != Provisioned {
			t.Fatalf("an order while re-verifying: %v, %s; want provisioned at once", err, w.hold("o1").State)
		}
		w.approve(at + 2*h)
		if want := VerificationExpiry(t0.Add(at + 2*h)); !w.c.ExpiresAt.Equal(want) || !w.c.ExpiresAt.After(first) {
			t.Fatalf("expires %s, want a new 2 years: %s", w.c.ExpiresAt, want)
		}
		// The reminder and the expiry come again, for the new date.
		if !w.sweep(w.c.ExpiresAt.Add(-ReminderBefore).Sub(t0)) {
			t.Fatal("no reminder before the new expiry")
		}
	})
	t.Run("a rejected re-verification leaves the customer verified until expiry", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		at := w.c.ExpiresAt.Add(-ReminderBefore).Sub(t0)
		w.mustSubmit(at)
		w.reject(at + h)
		if w.c.Status != StatusVerified || w.c.StatusAt(t0.Add(at+h)) != StatusVerified {
			t.Fatalf("status %s after a rejected re-verification, want verified", w.c.Status)
		}
		w.mustSubmit(at + 2*h) // may try again
		w.sweep(w.c.ExpiresAt.Sub(t0))
		if w.c.StatusAt(w.c.ExpiresAt) != StatusExpired {
			t.Fatalf("status %s at expiry", w.c.StatusAt(w.c.ExpiresAt))
		}
	})
	t.Run("an expired customer may submit", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		if err := w.submit(w.c.ExpiresAt.Sub(t0)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("one submission under review at a time", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		if err := w.submit(h); CodeOf(err) != "submission_pending" {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("a decision on a submission that is not pending", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		w.approve(h)
		if err := w.decide(2*h, true); CodeOf(err) != "not_pending" {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("rejection tells the customer the reasons and the message", func(t *testing.T) {
		w := newWorld(t)
		w.mustSubmit(0)
		w.reject(h)
		i := slices.IndexFunc(w.events, func(e Event) bool { return e.Type == KycRejected })
		if i < 0 || !slices.Equal(w.events[i].Reasons, []ReasonCode{"too_old"}) || w.c.Status != StatusRejected {
			t.Fatalf("events = %+v, status %s", w.events, w.c.Status)
		}
	})
}

func TestDueAt(t *testing.T) {
	w := newWorld(t)
	if !w.c.DueAt().IsZero() {
		t.Fatal("a new customer is due")
	}
	w.order("a", 10*h)
	w.order("b", 0)
	if got, want := w.c.DueAt(), t0.Add(72*h+1); !got.Equal(want) {
		t.Fatalf("due = %s, want just after b's deadline %s", got, want)
	}
	w.sweep(72*h + 1)
	if got, want := w.c.DueAt(), t0.Add(82*h+1); !got.Equal(want) {
		t.Fatalf("due = %s, want a's deadline %s", got, want)
	}
	w.mustSubmit(75 * h) // too late for a too? a's deadline is 82h: timely for a
	w.sweep(82*h + 1)
	if got := w.hold("a").State; got != AwaitingReview {
		t.Fatalf("a = %s, want awaiting_review", got)
	}
	if got := w.c.DueAt(); !got.IsZero() {
		t.Fatalf("due = %s, want nothing due (a suspended hold waits for billing's ServiceExpired)", got)
	}
}
