package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kycgate/kycgate/shared/contract"
)

// SecretsAPI is the part of the Secrets Manager client the functions use.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ReadSecret reads and parses the billing secret. Errors never carry its value.
func ReadSecret(ctx context.Context, sm SecretsAPI, arn string) (Secret, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return Secret{}, fmt.Errorf("read billing secret: %w", err)
	}
	if out.SecretString == nil {
		return Secret{}, errors.New("billing secret has no string value")
	}
	return ParseSecret([]byte(aws.ToString(out.SecretString)))
}

// NewAdapter builds the billing adapter's SQS handler from its environment
// (contract.EnvTable, EnvBillingMode, EnvBillingURL, EnvBillingSecretARN). It
// reads the billing secret now, once per cold start, unless
// contract.EnvSecretsPrefetchOff is set: then on the first command (and again
// after a failed read).
func NewAdapter(ctx context.Context, env func(string) string, db DynamoAPI, sm SecretsAPI, log *slog.Logger) (*Handler, error) {
	var missing []string
	get := func(name string) string {
		v := env(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	table, mode, endpoint, arn := get(contract.EnvTable), get(contract.EnvBillingMode), get(contract.EnvBillingURL), get(contract.EnvBillingSecretARN)
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %v", missing)
	}
	if mode != ModeWHMCS && mode != ModeWebhook {
		return nil, fmt.Errorf("%s %q: must be %q or %q", contract.EnvBillingMode, mode, ModeWHMCS, ModeWebhook)
	}
	build := func(ctx context.Context) (Biller, error) {
		s, err := ReadSecret(ctx, sm, arn)
		if err != nil {
			return nil, err
		}
		return NewBiller(mode, endpoint, s)
	}
	var biller Biller
	if env(contract.EnvSecretsPrefetchOff) != "" {
		biller = Lazy(build)
	} else {
		b, err := build(ctx)
		if err != nil {
			return nil, err
		}
		biller = b
	}
	if log == nil {
		log = slog.Default()
	}
	return NewHandler(NewApplier(NewCommandLedger(db, table), biller, log), log), nil
}
