// Command notifier is the notifier Lambda function: it turns the gate's
// customer events into e-mails (SES v2) and, optionally, WHMCS tickets
// (shared/notify).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/notify"
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
	env, err := awsenv.Env(contract.EnvTable, contract.EnvKeyID)
	if err != nil {
		log.Error("function not configured", "err", err)
		os.Exit(1)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	table := env[contract.EnvTable]
	h, err := notify.NewFromEnv(ctx, os.Getenv, notify.Deps{
		Customers: dynamostore.New(ddb, table),
		// Opening a contact address needs the data key only; no HMAC key.
		Sealer:   kmsseal.New(kms.NewFromConfig(cfg), kmsseal.NewDynamoKeys(ddb, table), env[contract.EnvKeyID], ""),
		SES:      sesv2.NewFromConfig(cfg),
		DynamoDB: ddb,
		Secrets:  secretsmanager.NewFromConfig(cfg),
		Log:      log,
	})
	if err != nil {
		log.Error("function not configured", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
