package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Secrets holds the two secrets shared with the billing system, both
// encrypted with the stack's data key.
//
// Webhook is the HMAC key that signs POST /v1/billing/events (generated here,
// copied into the billing system's hook configuration).
//
// Billing is what the stack needs to call the billing system: WHMCS API
// credentials, or the key that signs outbound webhooks. It is created as
// {"identifier":"","secret":""} for operators to fill in.
type Secrets struct {
	constructs.Construct
	Webhook awssecretsmanager.Secret
	Billing awssecretsmanager.Secret
	// Session is the key material of the pages' session cookies (generated
	// here; only customer-api and admin-api read it).
	Session awssecretsmanager.Secret
}

func newSecrets(scope constructs.Construct, id string, keys *Keys) *Secrets {
	c := constructs.NewConstruct(scope, jsii.String(id))
	webhook := awssecretsmanager.NewSecret(c, jsii.String("WebhookKey"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("KYC gate: HMAC key of the billing webhook (POST /v1/billing/events); configure the same value in the billing system"),
		EncryptionKey: keys.Data,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	billing := awssecretsmanager.NewSecret(c, jsii.String("BillingCredentials"), &awssecretsmanager.SecretProps{
		Description:   jsii.String(`KYC gate: billing-system credentials {"identifier","secret"} (WHMCS API identifier/secret, or the outbound webhook key); fill in after the first deployment`),
		EncryptionKey: keys.Data,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		// Empty placeholders, not secrets: the real values are entered by an
		// operator (the billing system issues them).
		SecretObjectValue: &map[string]awscdk.SecretValue{
			"identifier": awscdk.SecretValue_UnsafePlainText(jsii.String("")),
			"secret":     awscdk.SecretValue_UnsafePlainText(jsii.String("")),
		},
	})
	session := awssecretsmanager.NewSecret(c, jsii.String("SessionKey"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("KYC gate: key material of the pages' session cookies (/verify, /console); replacing it signs everyone out"),
		EncryptionKey: keys.Data,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(session, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The functions read the session key once per cold start and derive the cookie keys from it; a " +
			"scheduled rotation would sign every customer and reviewer out at a random moment and leave warm functions on the " +
			"old key. It is rotated by hand (docs/runbook.md), which is also how all sessions are revoked at once."),
	}}, jsii.Bool(false))
	reason := "The value is shared with the billing system (WHMCS or the provider's billing platform), which issues or stores " +
		"it too; a Secrets Manager rotation Lambda cannot change it on both sides atomically, so it is rotated in the billing system " +
		"by the operator and then written here (the functions re-read it on cold start)."
	for _, s := range []awssecretsmanager.Secret{webhook, billing} {
		cdknag.NagSuppressions_AddResourceSuppressions(s, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String(reason),
		}}, jsii.Bool(false))
	}
	return &Secrets{Construct: c, Webhook: webhook, Billing: billing, Session: session}
}

// grantRead allows GetSecretValue on one secret (its ARN, no wildcard). The
// data key's kms:Decrypt is granted separately by the function's key grant.
func grantSecretRead(g awsiam.IGrantable, s awssecretsmanager.Secret) {
	g.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: &[]*string{s.SecretArn()},
	}))
}
