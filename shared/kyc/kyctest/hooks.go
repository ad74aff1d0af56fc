package kyctest

import "sync"

// Method names a method of one of the fakes, for the test hooks (Calls,
// FailNext, Before).
type Method string

// The methods of Store.
const (
	MethodCustomer           Method = "Customer"
	MethodAccount            Method = "Account"
	MethodCommit             Method = "Commit"
	MethodOrderOwner         Method = "OrderOwner"
	MethodClosedHold         Method = "ClosedHold"
	MethodDocument           Method = "Document"
	MethodCreateDocument     Method = "CreateDocument"
	MethodUpdateDocument     Method = "UpdateDocument"
	MethodSubmission         Method = "Submission"
	MethodSaveSubmission     Method = "SaveSubmission"
	MethodPendingSubmissions Method = "PendingSubmissions"
	MethodOldestPending      Method = "OldestPending"
	MethodPendingCount       Method = "PendingCount"
	MethodDue                Method = "Due"
	MethodDeleteOutbox       Method = "DeleteOutbox"
	MethodAudit              Method = "Audit"
	MethodDisclosure         Method = "Disclosure"
	// MethodSubmissionsByDocNumber is the document-number index's query.
	MethodSubmissionsByDocNumber Method = "SubmissionsByDocNumber"
)

// The methods of Files.
const (
	MethodPresignUpload Method = "PresignUpload"
	MethodInspect       Method = "Inspect"
	MethodRead          Method = "Read"
	MethodWriteReviewed Method = "WriteReviewed"
	MethodDelete        Method = "Delete"
	MethodDeleteVersion Method = "DeleteVersion"
	MethodMarkSubmitted Method = "MarkSubmitted"
	MethodPresignView   Method = "PresignView"
	MethodPresignExport Method = "PresignExport"
)

// The methods of Sealer and Publisher.
const (
	MethodSeal        Method = "Seal"
	MethodOpen        Method = "Open"
	MethodFingerprint Method = "Fingerprint"
	MethodPublish     Method = "Publish"
)

// hooks counts the calls of a fake's methods, fails chosen calls and runs
// functions before or after chosen calls. Its own lock is never held while a
// function runs, so the function may call the fake.
type hooks struct {
	mu     sync.Mutex
	calls  map[Method]int
	fail   map[Method][]error
	before map[Method][]func()
	after  map[Method][]func()
}

// enter records a call of m: it counts it, runs the function Before queued
// for it (if any), then returns the failure FailNext queued for it (if any).
func (h *hooks) enter(m Method) error {
	h.mu.Lock()
	if h.calls == nil {
		h.calls = map[Method]int{}
	}
	h.calls[m]++
	var fn func()
	if q := h.before[m]; len(q) > 0 {
		fn, h.before[m] = q[0], q[1:]
	}
	h.mu.Unlock()
	if fn != nil {
		fn()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if q := h.fail[m]; len(q) > 0 {
		err := q[0]
		h.fail[m] = q[1:]
		return err
	}
	return nil
}

// Calls returns how many times m has been called.
func (h *hooks) Calls(m Method) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[m]
}

// FailNext makes the next call of m return err and do nothing else. Called
// n times, it fails the next n calls, each with its own error.
func (h *hooks) FailNext(m Method, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail == nil {
		h.fail = map[Method][]error{}
	}
	h.fail[m] = append(h.fail[m], err)
}

// queueBefore queues fn to run at the start of the next call of m.
func (h *hooks) queueBefore(m Method, fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.before == nil {
		h.before = map[Method][]func(){}
	}
	h.before[m] = append(h.before[m], fn)
}

// queueAfter queues fn to run at the end of the next call of m.
func (h *hooks) queueAfter(m Method, fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.after == nil {
		h.after = map[Method][]func(){}
	}
	h.after[m] = append(h.after[m], fn)
}

// exit runs the function After queued for m, if any; a method defers it
// before it takes its own lock.
func (h *hooks) exit(m Method) {
	h.mu.Lock()
	var fn func()
	if q := h.after[m]; len(q) > 0 {
		fn, h.after[m] = q[0], q[1:]
	}
	h.mu.Unlock()
	if fn != nil {
		fn()
	}
}
