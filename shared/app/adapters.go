package app

import (
	"context"
	"fmt"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/notify"
)

// NewBillingAdapter is the billing-adapter function: service commands from
// its SQS queue, applied to the billing system once each (shared/billing).
func NewBillingAdapter(ctx context.Context, env Env, c Clients, o Options, _ Bindings) (*Function, error) {
	h, err := billing.NewAdapter(ctx, env, c.DynamoDB, c.Secrets, o.log())
	if err != nil {
		return nil, err
	}
	return &Function{Invoke: typed(h.Handle)}, nil
}

// NewNotifier is the notifier function: customer notices from its SQS queue,
// sent as e-mails (and optionally WHMCS tickets) (shared/notify).
func NewNotifier(ctx context.Context, env Env, c Clients, o Options, _ Bindings) (*Function, error) {
	v, err := env.require(contract.EnvTable, contract.EnvKeyID)
	if err != nil {
		return nil, err
	}
	table := v[contract.EnvTable]
	h, err := notify.NewFromEnv(ctx, env, notify.Deps{
		Customers: dynamostore.New(c.DynamoDB, table),
		// Opening a contact address needs the data key only, not the HMAC key.
		Sealer:   kmsseal.New(c.KMS, kmsseal.NewDynamoKeys(c.DynamoDB, table), v[contract.EnvKeyID], ""),
		SES:      c.SES,
		DynamoDB: c.DynamoDB,
		Secrets:  c.Secrets,
		Log:      o.log(),
	})
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	return &Function{Invoke: typed(h.Handle)}, nil
}
