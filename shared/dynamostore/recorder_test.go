package dynamostore_test

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
)

// item is a DynamoDB item.
type item = map[string]types.AttributeValue

// recorder is a dynamostore.API that records every request the store builds
// and answers with what the test gave it: the items GetItem finds by key,
// the pages Query returns in turn, and errors for the next calls. It is a
// recorder of requests, not a DynamoDB: it evaluates no condition and no key
// expression.
type recorder struct {
	mu       sync.Mutex
	requests []any              // every input, in order
	items    map[[2]string]item // GetItem's answers, by pk and sk
	pages    [][]item           // Query's answers, one page a call
	errs     []error            // the next calls' errors, in order (nil: answer)
}

var _ dynamostore.API = (*recorder)(nil)

func newRecorder() *recorder { return &recorder{items: map[[2]string]item{}} }

// record keeps a request and returns the error queued for it.
func (r *recorder) record(in any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, in)
	if len(r.errs) == 0 {
		return nil
	}
	err := r.errs[0]
	r.errs = r.errs[1:]
	return err
}

// failNext queues an error for the next call.
func (r *recorder) failNext(err error) { r.errs = append(r.errs, err) }

// put makes GetItem find it.
func (r *recorder) put(it item) {
	r.items[[2]string{str(it[contract.AttrPK]), str(it[contract.AttrSK])}] = it
}

// last returns the last request, of type T.
func last[T any](r *recorder) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero T
	if len(r.requests) == 0 {
		return zero
	}
	in, _ := r.requests[len(r.requests)-1].(T)
	return in
}

// all returns every request of type T, in order.
func all[T any](r *recorder) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	for _, in := range r.requests {
		if t, ok := in.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func (r *recorder) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := r.record(in); err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{Item: r.items[[2]string{str(in.Key[contract.AttrPK]), str(in.Key[contract.AttrSK])}]}, nil
}

func (r *recorder) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := r.record(in); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pages) == 0 {
		return &dynamodb.QueryOutput{}, nil
	}
	page := r.pages[0]
	r.pages = r.pages[1:]
	out := &dynamodb.QueryOutput{Items: page, Count: int32(len(page))}
	if len(r.pages) > 0 && len(page) > 0 {
		out.LastEvaluatedKey = item{contract.AttrPK: page[len(page)-1][contract.AttrPK], contract.AttrSK: page[len(page)-1][contract.AttrSK]}
	}
	return out, nil
}

func (r *recorder) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, r.record(in)
}

func (r *recorder) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, r.record(in)
}

func (r *recorder) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return &dynamodb.TransactWriteItemsOutput{}, r.record(in)
}

func (r *recorder) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, r.record(in)
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func num(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

// errThrottled is a failure that is not a lost race.
var errThrottled = errors.New("ProvisionedThroughputExceededException")
