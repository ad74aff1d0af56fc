package dev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/guardduty/guarddutytest"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
	"github.com/kycgate/kycgate/shared/wiring"
)

// Substitution is one way the running local stack differs from the
// synthesized template, and why.
type Substitution struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// SinkPath is where the dev server serves the local billing sink (a fake
// WHMCS: shared/whmcs/whmcstest). Its API is SinkPath + "/includes/api.php".
const SinkPath = "/local/whmcs"

// sinkUser is the WHMCS API identifier of the local sink's credentials.
const sinkUser = "kyc-local"

// Localize gives the emulator what the template cannot, and points the
// functions that call the billing system at the local sink:
//
//   - the billing secret (created by the stack as empty placeholders, for an
//     operator to fill in) gets the sink's credentials;
//   - KYC_BILLING_URL of billing-adapter and notifier (the provider's WHMCS in
//     cdk.json) becomes the sink served at base+SinkPath;
//   - the notifier's sender, KYC_MAIL_FROM, becomes an SES identity (verified
//     out of band in AWS; moto's SES v2 refuses an unknown sender);
//   - the webhook secret is written to webhookFile (mode 0600) so that local
//     commands can sign POST /v1/billing/events as the billing system does.
//
// The functions' environments in st are changed in place, so the saved
// stack (and `make invoke`) sees what the dev server runs.
func Localize(ctx context.Context, cfg aws.Config, st *stack.Stack, base, webhookFile string) (*whmcstest.Server, []Substitution, error) {
	var subs []Substitution
	secrets := secretsmanager.NewFromConfig(cfg)

	var pass [16]byte
	if _, err := rand.Read(pass[:]); err != nil {
		return nil, nil, err
	}
	creds := whmcs.Credentials{Identifier: sinkUser, Secret: hex.EncodeToString(pass[:])}
	sink := whmcstest.NewServer(creds)
	sink.SetAutoCreate(true) // services exist as soon as an order names them

	if fn := st.Functions[contract.FunctionBillingAdapter]; fn != nil {
		arn := fn.Env[contract.EnvBillingSecretARN]
		if arn == "" {
			return nil, nil, fmt.Errorf("%s has no %s", contract.FunctionBillingAdapter, contract.EnvBillingSecretARN)
		}
		value, _ := json.Marshal(billing.Secret{Identifier: creds.Identifier, Secret: creds.Secret})
		if _, err := secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &arn, SecretString: aws.String(string(value))}); err != nil {
			return nil, nil, fmt.Errorf("set the billing secret: %w", err)
		}
		subs = append(subs, Substitution{
			What: "billing secret " + arn + " = the local sink's API credentials",
			Why:  "the stack creates it with empty placeholders for an operator to fill in with the billing system's credentials",
		})
		mode := fn.Env[contract.EnvBillingMode]
		url := base + SinkPath + "/includes/api.php"
		if mode == billing.ModeWebhook {
			url = base + SinkPath + "/webhook"
			sink.SetWebhookKey([]byte(creds.Secret))
		}
		subs = append(subs, override(fn, contract.EnvBillingURL, url, "the provider's billing system is not here; the local sink records every command instead"))
	}
	if fn := st.Functions[contract.FunctionNotifier]; fn != nil {
		if fn.Env[contract.EnvBillingURL] != "" || fn.Env[contract.EnvTicketMode] != "" {
			subs = append(subs, override(fn, contract.EnvBillingURL, base+SinkPath+"/includes/api.php", "WHMCS tickets, when configured, go to the local sink"))
		}
		if from := fn.Env[contract.EnvMailFrom]; from != "" {
			_, err := sesv2.NewFromConfig(cfg).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(from)})
			var ae smithy.APIError
			if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "AlreadyExistsException") {
				return nil, nil, fmt.Errorf("create the SES identity %s: %w", from, err)
			}
			subs = append(subs, Substitution{
				What: "SES identity " + from + " created",
				Why:  "in AWS the sender is verified outside the stack; the emulator's SES refuses an unknown sender. Sent e-mails are kept by the emulator: GET /local/emails",
			})
		}
	}
	if fn := st.Functions[contract.FunctionBillingIntake]; fn != nil && fn.Env[contract.EnvWebhookSecretARN] != "" {
		out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(fn.Env[contract.EnvWebhookSecretARN])})
		if err != nil {
			return nil, nil, fmt.Errorf("read the webhook secret: %w", err)
		}
		if err := writePrivate(webhookFile, []byte(aws.ToString(out.SecretString))); err != nil {
			return nil, nil, err
		}
		subs = append(subs, Substitution{
			What: "webhook secret copied to " + webhookFile + " (0600)",
			Why:  "so local commands can sign POST /v1/billing/events as the billing system does; in AWS it stays in Secrets Manager",
		})
	}
	return sink, subs, nil
}

// MalwareScanner is what scans uploads for malware on the local stack, where
// GuardDuty Malware Protection for S3 cannot: a stand-in that reports the
// EICAR test file as a threat and anything else as clean, and publishes the
// scan result event GuardDuty publishes on the default bus, which the
// template's rule routes to the validator's queue. The validator runs the
// code it runs in AWS. nil when the stack has no validator.
func MalwareScanner(st *stack.Stack, c wiring.Clients, clock func() time.Time) kyc.Scanner {
	fn := st.Functions[contract.FunctionValidator]
	if fn == nil {
		return nil
	}
	return guarddutytest.New(c.EventBridge, fn.Env[contract.EnvBucket], clock)
}

// MalwareSubstitution says how the local stack scans uploads.
var MalwareSubstitution = Substitution{
	What: "malware scan: GuardDuty Malware Protection for S3 (the template's plan on docs/) is replaced by a stand-in that flags the " +
		"EICAR test file and publishes GuardDuty's scan result event on the default bus; the template's rule delivers it to the validator's queue",
	Why: "GuardDuty cannot scan the emulator's bucket; the validator's code path is the one it runs in AWS (an upload is \"scanning\", then valid or refused as malware)",
}

// override sets a function's variable and records the change.
func override(fn *stack.Function, name, value, why string) Substitution {
	was := fn.Env[name]
	fn.Env[name] = value
	if was == "" {
		was = "unset"
	}
	return Substitution{What: fmt.Sprintf("%s of %s = %s (template: %s)", name, fn.Name, value, was), Why: why}
}

// writePrivate writes a file readable by its owner only.
func writePrivate(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
