// Package faults is AWS SDK middleware for tests and benchmarks: it records
// every AWS call a client makes ("DynamoDB.GetItem", "EventBridge.PutEvents",
// ...) in order, and injects planned faults at chosen calls.
//
// Install it on a configuration before building clients from it, so every
// client gets it:
//
//	rec := faults.NewRecorder()
//	faults.Install(&cfg, rec, nil)
//	clients := app.NewClients(cfg)
//	... run an operation ...
//	rec.Calls() // [DynamoDB.GetItem DynamoDB.GetItem DynamoDB.TransactWriteItems EventBridge.PutEvents DynamoDB.DeleteItem]
//
// A context can carry a recorder and an injector of its own (WithRecorder,
// WithInjector): calls made with that context are recorded there too, and
// take their faults from that injector, so operations running at once on one
// set of clients are observed and faulted separately.
//
// # Where faults fire, and the SDK's retries
//
// The middleware is the first step of the operation's Initialize stage: it
// runs once per API call, above the SDK's retry loop (Finalize stage). A
// fault fires either
//   - BeforeSend: the request is never sent; the caller gets the error, or
//   - AfterSend: the call is made (with whatever retries the SDK does) and
//     has taken effect, then the caller gets the error instead of the
//     answer: the hard case for exactly-once, as when a response is lost.
//
// The SDK's retryer never sees an injected fault, so it is never retried by
// the SDK: it stands for a fault that outlasted every SDK retry (or, after
// sending, a response lost past them). The recorder counts API calls as the
// caller makes them, not HTTP attempts; with the SDK's retries disabled
// (NoRetries) the two are the same, which is what benchmarks counting calls
// want. Presign operations (S3 presigned POST and GET) make no call and are
// not recorded.
//
// Errors are shaped as the SDK returns them: a *smithy.OperationError
// wrapping an *awshttp.ResponseError wrapping the service's typed error
// (*types.ConditionalCheckFailedException, *types.TransactionCanceledException
// with its cancellation reasons, ...) or a *smithy.GenericAPIError, so code
// that inspects errors with errors.As sees what it would see from AWS. A
// timeout is a *smithy.CanceledError wrapping context.DeadlineExceeded (the
// call's own deadline; the caller's context is left alone).
package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// MiddlewareID is the id of the middleware in the Initialize stage.
const MiddlewareID = "kyc.faults"

// Recorder records AWS calls in order, as "Service.Operation" (the SDK's
// service id and operation name: "DynamoDB.TransactWriteItems",
// "EventBridge.PutEvents", "KMS.GenerateDataKey", "S3.HeadObject"). It is
// safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []string
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Record appends a call.
func (r *Recorder) Record(op string) {
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
}

// Calls returns the calls recorded so far, in order.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Total returns how many calls were recorded.
func (r *Recorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Count returns how many calls of op were recorded: op is an operation
// ("DynamoDB.GetItem") or a service ("DynamoDB").
func (r *Recorder) Count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if matches(op, c) {
			n++
		}
	}
	return n
}

// Counts returns the number of calls of each operation.
func (r *Recorder) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, c := range r.calls {
		out[c]++
	}
	return out
}

// Reset forgets every recorded call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// matches reports whether a call is op, or of the service op names.
func matches(op, call string) bool {
	if op == "" || op == call {
		return true
	}
	svc, _, _ := strings.Cut(call, ".")
	return !strings.Contains(op, ".") && op == svc
}

// Injector fires planned faults at chosen calls. It is safe for concurrent
// use; with concurrent calls "the N-th call" is the N-th to reach it.
type Injector struct {
	mu    sync.Mutex
	plan  []*planned
	total int            // calls seen
	perOp map[string]int // calls seen per operation
	fired []Firing
}

type planned struct {
	Fault
	fired int
}

// Firing is a fault that fired.
type Firing struct {
	Fault Fault
	Op    string // the call it fired on
	Call  int    // the call's number among all calls the injector saw (1-based)
	OpN   int    // and among the calls of its operation
}

func (f Firing) String() string {
	return fmt.Sprintf("%s #%d (call %d): %s", f.Op, f.OpN, f.Call, f.Fault)
}

// NewInjector returns an injector with a plan of faults.
func NewInjector(plan ...Fault) *Injector {
	in := &Injector{perOp: map[string]int{}}
	in.Add(plan...)
	return in
}

// Add plans more faults.
func (in *Injector) Add(plan ...Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, f := range plan {
		in.plan = append(in.plan, &planned{Fault: f})
	}
}

// Fired returns the faults that fired, in order.
func (in *Injector) Fired() []Firing {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.fired)
}

// Unfired returns the planned faults that never fired: a test asserts it is
// empty, so a plan that missed its call cannot pass unnoticed.
func (in *Injector) Unfired() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []Fault
	for _, p := range in.plan {
		if p.fired == 0 {
			out = append(out, p.Fault)
		}
	}
	return out
}

// next counts a call and returns the fault to fire on it, if any.
func (in *Injector) next(op string) (Fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.total++
	in.perOp[op]++
	for _, p := range in.plan {
		n := in.total
		if p.Op != "" {
			if !matches(p.Op, op) {
				continue
			}
			n = in.countOf(p.Op)
		}
		times := p.Times
		if times == 0 {
			times = 1
		}
		if n < p.Call || (times > 0 && n >= p.Call+times) {
			continue
		}
		p.fired++
		in.fired = append(in.fired, Firing{Fault: p.Fault, Op: op, Call: in.total, OpN: in.perOp[op]})
		return p.Fault, true
	}
	return Fault{}, false
}

// countOf returns the calls seen of an operation or a service.
func (in *Injector) countOf(op string) int {
	if strings.Contains(op, ".") {
		return in.perOp[op]
	}
	n := 0
	for o, c := range in.perOp {
		if matches(op, o) {
			n += c
		}
	}
	return n
}

type ctxKey int

const (
	recorderKey ctxKey = iota
	injectorKey
)

// WithRecorder returns a context whose AWS calls are also recorded to r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey, r)
}

// WithInjector returns a context whose AWS calls take their faults from in
// (instead of the injector given to Install).
func WithInjector(ctx context.Context, in *Injector) context.Context {
	return context.WithValue(ctx, injectorKey, in)
}

// Install adds the middleware to cfg's API options: every client built from
// cfg afterwards records its calls to rec and takes faults from in (either
// may be nil), besides what the call's context carries.
func Install(cfg *aws.Config, rec *Recorder, in *Injector) {
	cfg.APIOptions = append(cfg.APIOptions, Option(rec, in))
}

// Option is the middleware as an API option, for one client's options
// (o.APIOptions = append(o.APIOptions, faults.Option(rec, nil))).
func Option(rec *Recorder, in *Injector) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		// A presign operation sends nothing: not a call.
		if _, presign := s.Initialize.Get("AsIsPresigningMiddleware"); presign {
			return nil
		}
		return s.Initialize.Add(&mw{rec: rec, in: in}, middleware.Before)
	}
}

// NoRetries turns the SDK's own retries off for clients built from cfg
// afterwards: every error (from the service, the network or an emulator)
// reaches the caller at once, and one recorded call is one HTTP request.
func NoRetries(cfg *aws.Config) {
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
}

type mw struct {
	rec *Recorder
	in  *Injector
}

func (*mw) ID() string { return MiddlewareID }

func (m *mw) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	op := middleware.GetServiceID(ctx) + "." + middleware.GetOperationName(ctx)
	if m.rec != nil {
		m.rec.Record(op)
	}
	if r, ok := ctx.Value(recorderKey).(*Recorder); ok && r != nil && r != m.rec {
		r.Record(op)
	}
	inj := m.in
	if i, ok := ctx.Value(injectorKey).(*Injector); ok && i != nil {
		inj = i
	}
	if inj == nil {
		return next.HandleInitialize(ctx, in)
	}
	f, ok := inj.next(op)
	if !ok {
		return next.HandleInitialize(ctx, in)
	}
	return f.fire(ctx, op, in, next)
}
