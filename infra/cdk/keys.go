package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Keys holds the stack's two KMS keys.
//
// Data is the customer-managed symmetric key (annual rotation) under which
// every store of personal data is encrypted: the documents bucket (SSE-KMS),
// the table, the secrets, the queues and the alarm topic; the functions also
// use it for envelope encryption of personal fields.
//
// Mac is an HMAC_256 key (GENERATE_VERIFY_MAC) for keyed hashes of document
// numbers, so the same document on two accounts can be found without
// decrypting anything.
type Keys struct {
	constructs.Construct
	Data awskms.Key
	Mac  awskms.Key
}

func newKeys(scope constructs.Construct, id string) *Keys {
	c := constructs.NewConstruct(scope, jsii.String(id))
	k := &Keys{Construct: c}

	k.Data = awskms.NewKey(c, jsii.String("Data"), &awskms.KeyProps{
		Description:       jsii.String("KYC gate: documents, table, secrets, queues, topic and sealed personal fields"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	k.Mac = awskms.NewKey(c, jsii.String("Mac"), &awskms.KeyProps{
		Description:   jsii.String("KYC gate: HMAC of document numbers (duplicate detection without decryption)"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(k.Mac, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-KMS5"),
		Reason: jsii.String("HMAC KMS keys cannot have automatic rotation (KMS supports it only for symmetric encryption keys). " +
			"Rotating this key by hand would change every stored document-number hash and break duplicate detection, " +
			"and the key material never leaves KMS (GenerateMac only)."),
	}}, jsii.Bool(false))

	// AWS services that write to the stack's encrypted queues and topic
	// encrypt with this key as their own service principal. Each statement is
	// bound by the encryption context SQS and SNS put on every data key to this
	// account's queues/topics, so the key cannot be used for another account's
	// resources (confused deputy) even though the principal is a service.
	stack := awscdk.Stack_Of(c)
	k.allowServiceForQueues("s3.amazonaws.com", "S3EventNotifications", stack)
	k.allowServiceForTopics("cloudwatch.amazonaws.com", "CloudWatchAlarms", stack)
	return k
}

func (k *Keys) allowServiceForQueues(service, sid string, stack awscdk.Stack) {
	k.Data.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("Allow" + sid + "ToEncryptedQueues"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"), // in a key policy "*" is this key
		Conditions: &map[string]any{
			"StringLike": map[string]any{
				"kms:EncryptionContext:aws:sqs:arn": awscdk.Fn_Join(jsii.String(""), &[]*string{
					jsii.String("arn:"), stack.Partition(), jsii.String(":sqs:"), stack.Region(), jsii.String(":"), stack.Account(), jsii.String(":*"),
				}),
			},
		},
	}), jsii.Bool(false))
}

func (k *Keys) allowServiceForTopics(service, sid string, stack awscdk.Stack) {
	k.Data.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("Allow" + sid + "ToEncryptedTopics"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringLike": map[string]any{
				"kms:EncryptionContext:aws:sns:topicArn": awscdk.Fn_Join(jsii.String(""), &[]*string{
					jsii.String("arn:"), stack.Partition(), jsii.String(":sns:"), stack.Region(), jsii.String(":"), stack.Account(), jsii.String(":*"),
				}),
			},
		},
	}), jsii.Bool(false))
}

// grantData lets a principal use the data key with exactly these actions
// (written into the principal's own policy, resource = this key's ARN).
func (k *Keys) grantData(g awsiam.IGrantable, actions ...string) {
	k.Data.Grant(g, *jsii.Strings(actions...)...)
}

// grantMac lets a principal compute keyed hashes (and nothing else).
func (k *Keys) grantMac(g awsiam.IGrantable) {
	k.Mac.Grant(g, jsii.String("kms:GenerateMac"))
}
