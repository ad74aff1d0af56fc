package emulator

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// DynamoDB calls through an emulator configuration never overlap; other
// services' calls still do.
func TestSerializeDynamoDB(t *testing.T) {
	cfg := Config(t)
	var inflight, most atomic.Int32
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("test.inflight",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
	run := func(call func() error) int32 {
		most.Store(0)
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := call(); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return most.Load()
	}
	ddb, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	if got := run(func() error { _, err := ddb.ListTables(context.Background(), &dynamodb.ListTablesInput{}); return err }); got != 1 {
		t.Fatalf("%d DynamoDB calls at once, want 1", got)
	}
	if got := run(func() error { _, err := q.ListQueues(context.Background(), &sqs.ListQueuesInput{}); return err }); got < 2 {
		t.Fatalf("SQS calls were serialised too (%d at most)", got)
	}
}
