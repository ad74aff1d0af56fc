// Command billing-adapter is the billing-adapter Lambda function: it applies
// the gate's service commands (provision, suspend, unsuspend, new due date)
// to the billing system, each once (shared/billing, docs/whmcs.md).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/billing"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	// Clients once per cold start; the billing secret is read here too.
	h, err := billing.NewAdapter(ctx, os.Getenv, dynamodb.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), log)
	if err != nil {
		log.Error("function not configured", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
