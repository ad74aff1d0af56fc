package faults

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is a kind of fault.
type Kind string

// The kinds of fault.
const (
	// ConditionalCheckFailed: DynamoDB PutItem, UpdateItem or DeleteItem
	// answers ConditionalCheckFailedException.
	ConditionalCheckFailed Kind = "ConditionalCheckFailed"
	// TransactionCanceled: DynamoDB TransactWriteItems answers
	// TransactionCanceledException whose first item failed its condition
	// (reason ConditionalCheckFailed), the others None.
	TransactionCanceled Kind = "TransactionCanceled"
	// Throttling: DynamoDB ProvisionedThroughputExceededException, S3
	// SlowDown, any other service ThrottlingException.
	Throttling Kind = "Throttling"
	// ServiceUnavailable: the service answers 503 ServiceUnavailable.
	ServiceUnavailable Kind = "ServiceUnavailable"
	// KMSInternal: KMS answers KMSInternalException.
	KMSInternal Kind = "KMSInternal"
	// Timeout: the call runs out of time (context deadline exceeded).
	Timeout Kind = "Timeout"
	// PartialFailure: EventBridge PutEvents succeeds with FailedEntryCount > 0
	// and an ErrorCode on the entries Fault.Entries names. BeforeSend, those
	// entries are taken out of the request (they are not put on the bus);
	// AfterSend, every entry is put and some are reported failed anyway.
	PartialFailure Kind = "PartialFailure"
)

// When says whether a fault fires before or after the call is sent.
type When string

const (
	// BeforeSend: the call is not made.
	BeforeSend When = "before"
	// AfterSend: the call is made and takes effect; its caller gets the fault.
	AfterSend When = "after"
)

// Fault is a planned fault.
type Fault struct {
	// Op is the operation ("DynamoDB.TransactWriteItems"), the service
	// ("DynamoDB"), or "" for any call.
	Op string
	// Call is the 1-based number of the call of Op (of all calls when Op is
	// "") the fault fires on.
	Call int
	// Times is how many matching calls from Call on fail (0: one; -1: every
	// one from Call on).
	Times int
	Kind  Kind
	When  When // BeforeSend when empty
	// Entries are the indexes of PutEvents entries a PartialFailure fails
	// (nil: the first). Indexes beyond the request are ignored.
	Entries []int
	// Code overrides the error code (an API error kind) or the PutEvents
	// entries' ErrorCode (PartialFailure; default InternalFailure).
	Code string
}

func (f Fault) when() When {
	if f.When == "" {
		return BeforeSend
	}
	return f.When
}

func (f Fault) String() string {
	op := f.Op
	if op == "" {
		op = "any call"
	}
	s := fmt.Sprintf("%s %s-send at %s #%d", f.Kind, f.when(), op, f.Call)
	if f.Times < 0 {
		s += " and every later one"
	} else if f.Times > 1 {
		s += fmt.Sprintf(" x%d", f.Times)
	}
	return s
}

// KindsFor returns the kinds of fault that apply to an operation
// ("DynamoDB.PutItem"): the ones its service can answer with.
func KindsFor(op string) []Kind {
	svc, name, _ := strings.Cut(op, ".")
	switch svc {
	case "DynamoDB":
		kinds := []Kind{Throttling, ServiceUnavailable, Timeout}
		switch name {
		case "PutItem", "UpdateItem", "DeleteItem":
			kinds = append(kinds, ConditionalCheckFailed)
		case "TransactWriteItems":
			kinds = append(kinds, TransactionCanceled)
		}
		return kinds
	case "KMS":
		return []Kind{KMSInternal, Throttling, Timeout}
	case "EventBridge":
		if name == "PutEvents" {
			return []Kind{Throttling, ServiceUnavailable, Timeout, PartialFailure}
		}
	}
	return []Kind{Throttling, ServiceUnavailable, Timeout}
}

// fire carries the fault out on a call.
func (f Fault) fire(ctx context.Context, op string, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	if f.Kind == PartialFailure {
		return f.partial(ctx, op, in, next)
	}
	err := f.err(op)
	if f.when() == AfterSend {
		out, md, callErr := next.HandleInitialize(ctx, in)
		if callErr != nil {
			return out, md, callErr // the call failed by itself
		}
		return middleware.InitializeOutput{}, md, err
	}
	return middleware.InitializeOutput{}, middleware.Metadata{}, err
}

// err returns the error of the fault, as the SDK's deserializers shape it
// (the client wraps it in a *smithy.OperationError).
func (f Fault) err(op string) error {
	svc, _, _ := strings.Cut(op, ".")
	msg := str(fmt.Sprintf("injected by faults: %s", f))
	status := http.StatusBadRequest
	var apiErr error
	switch f.Kind {
	case Timeout:
		return &smithy.CanceledError{Err: context.DeadlineExceeded}
	case ConditionalCheckFailed:
		apiErr = &ddbtypes.ConditionalCheckFailedException{Message: msg}
	case TransactionCanceled:
		apiErr = &ddbtypes.TransactionCanceledException{Message: msg, CancellationReasons: []ddbtypes.CancellationReason{
			{Code: str("ConditionalCheckFailed"), Message: str("The conditional request failed")},
		}}
	case Throttling:
		switch svc {
		case "DynamoDB":
			apiErr = &ddbtypes.ProvisionedThroughputExceededException{Message: msg}
		case "S3":
			status = http.StatusServiceUnavailable
			apiErr = &smithy.GenericAPIError{Code: "SlowDown", Message: *msg, Fault: smithy.FaultServer}
		default:
			apiErr = &smithy.GenericAPIError{Code: "ThrottlingException", Message: *msg, Fault: smithy.FaultClient}
		}
	case KMSInternal:
		status = http.StatusInternalServerError
		apiErr = &kmstypes.KMSInternalException{Message: msg}
	case ServiceUnavailable:
		status = http.StatusServiceUnavailable
		apiErr = &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: *msg, Fault: smithy.FaultServer}
	default:
		apiErr = &smithy.GenericAPIError{Code: string(f.Kind), Message: *msg, Fault: smithy.FaultServer}
	}
	if f.Code != "" {
		apiErr = &smithy.GenericAPIError{Code: f.Code, Message: *msg, Fault: smithy.FaultServer}
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      apiErr,
		},
		RequestID: "faults-injected",
	}
}

func str(s string) *string { return &s }

// partial makes a PutEvents call partly fail.
func (f Fault) partial(ctx context.Context, op string, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	req, ok := in.Parameters.(*eventbridge.PutEventsInput)
	if !ok {
		return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("faults: %s: a partial failure needs EventBridge.PutEvents", op)
	}
	failed := make([]bool, len(req.Entries))
	if f.Entries == nil {
		if len(failed) > 0 {
			failed[0] = true
		}
	}
	for _, i := range f.Entries {
		if i >= 0 && i < len(failed) {
			failed[i] = true
		}
	}
	code := f.Code
	if code == "" {
		code = "InternalFailure"
	}
	sent := req
	if f.when() == BeforeSend {
		// Only the entries that succeed are put on the bus.
		cp := *req
		cp.Entries = nil
		for i, e := range req.Entries {
			if !failed[i] {
				cp.Entries = append(cp.Entries, e)
			}
		}
		sent = &cp
	}
	var results []ebtypes.PutEventsResultEntry
	var md middleware.Metadata
	if len(sent.Entries) > 0 {
		in.Parameters = sent
		out, m, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return out, m, err
		}
		md = m
		res, ok := out.Result.(*eventbridge.PutEventsOutput)
		if !ok {
			return out, m, fmt.Errorf("faults: PutEvents answered %T", out.Result)
		}
		results = res.Entries
	}
	// The answer, entry by entry in the caller's order.
	resp := &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(req.Entries))}
	j := 0
	for i := range req.Entries {
		var sentResult ebtypes.PutEventsResultEntry
		if f.when() == AfterSend || !failed[i] {
			if j < len(results) {
				sentResult = results[j]
			}
			j++
		}
		if failed[i] {
			resp.Entries[i] = ebtypes.PutEventsResultEntry{ErrorCode: str(code), ErrorMessage: str("injected by faults")}
			resp.FailedEntryCount++
			continue
		}
		resp.Entries[i] = sentResult
		if sentResult.ErrorCode != nil {
			resp.FailedEntryCount++
		}
	}
	return middleware.InitializeOutput{Result: resp}, md, nil
}

// Matrix returns, for a recorded call sequence, one fault for every call,
// every kind that applies to it (KindsFor) and both times (before and after
// sending), each firing once at that call: the fault matrix of an operation.
func Matrix(calls []string) []Fault {
	var out []Fault
	seen := map[string]int{}
	for _, op := range calls {
		seen[op]++
		for _, k := range KindsFor(op) {
			for _, w := range []When{BeforeSend, AfterSend} {
				out = append(out, Fault{Op: op, Call: seen[op], Kind: k, When: w})
			}
		}
	}
	return slices.Clip(out)
}
