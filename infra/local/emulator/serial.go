package emulator

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// dynamoLock serialises a process's DynamoDB calls to the emulator.
//
// moto 5.2.1 snapshots the whole table for every TransactWriteItems (to roll
// it back) and iterates it for every Query, without a lock. Another write at
// the same moment either breaks the snapshot ("dictionary changed size
// during iteration": an HTTP 500) or, worse, is erased when a failed
// transaction restores its snapshot. DynamoDB has neither problem. The
// application's own races (read, decide, conditional write) are unaffected:
// each call is still a separate request, only never two at once in moto.
// It holds within one process (the dev server runs every function in one);
// two processes writing the same table at the same moment are not covered.
var dynamoLock sync.Mutex

// SerializeDynamoDB makes the DynamoDB clients built from cfg send one call
// at a time (retries included). Config applies it to every emulator
// configuration.
func SerializeDynamoDB(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("emulator.serializeDynamoDB",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetServiceID(ctx) != "DynamoDB" {
					return next.HandleInitialize(ctx, in)
				}
				dynamoLock.Lock()
				defer dynamoLock.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}
