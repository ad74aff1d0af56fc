package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/kycgate/kycgate/shared/contract"
)

// Documents is the bucket of identity and address documents, its access-log
// bucket, and the S3 → validator-queue notification.
type Documents struct {
	constructs.Construct
	Bucket awss3.Bucket
	Logs   awss3.Bucket
}

// Lifecycle periods of the documents bucket.
const (
	accessLogRetentionDays = 400 // server access logs: a year and a margin for audits
)

func newDocuments(scope constructs.Construct, id string, keys *Keys, uploadOrigins []string, unsubmittedDays int, validatorQueue awssqs.Queue, scanner awsiam.IRole) *Documents {
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)

	// Server access logs. S3 cannot deliver access logs to a bucket encrypted
	// with SSE-KMS, hence SSE-S3 here; the logs hold request metadata, never
	// document contents. Delivery is authorised by a bucket policy for
	// logging.s3.amazonaws.com (feature flag serverAccessLogsUseBucketPolicy).
	logs := awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-access-logs"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(accessLogRetentionDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This is the server access log bucket of the documents bucket. Logging it into itself would log its own " +
			"log deliveries without end, and a third bucket would only move the question; writes to it come from the S3 logging service only."),
	}}, jsii.Bool(false))

	// The deployment-time handler CDK uses for Custom::S3BucketNotifications
	// runs under this role (see notificationsHandler below).
	handlerRole := awsiam.NewRole(c, jsii.String("NotificationsHandlerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("CDK's Custom::S3BucketNotifications handler: writes the documents bucket's notification configuration at deploy time"),
	})

	methods := []awss3.HttpMethods{awss3.HttpMethods_POST}
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		Encryption:               awss3.BucketEncryption_KMS,
		EncryptionKey:            keys.Data,
		BucketKeyEnabled:         jsii.Bool(true),
		EnforceSSL:               jsii.Bool(true),
		BlockPublicAccess:        awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:          awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:                jsii.Bool(true),
		RemovalPolicy:            awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket:   logs,
		ServerAccessLogsPrefix:   jsii.String("documents/"),
		NotificationsHandlerRole: handlerRole,
		// GuardDuty Malware Protection hears new objects through S3's
		// EventBridge events; the plan turns them on, and the stack says so
		// too, or its next write of the bucket's notifications would turn
		// them off again (MalwareScan).
		EventBridgeEnabled: jsii.Bool(true),
		Cors: &[]*awss3.CorsRule{{
			// Browsers upload with the presigned POST; nothing else is
			// cross-origin (reviewers open presigned GET links directly).
			AllowedMethods: &methods,
			AllowedOrigins: jsii.Strings(uploadOrigins...),
			AllowedHeaders: jsii.Strings("*"),
			ExposedHeaders: jsii.Strings("ETag"),
			MaxAge:         jsii.Number(3000),
		}},
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:                                  jsii.String("abort-multipart-and-purge-old-versions"),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
				// A deleted document must not linger as a noncurrent version.
				NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
				ExpiredObjectDeleteMarker:   jsii.Bool(true),
			},
			{
				// Uploads and the validator's reviewed copies alike (both
				// prefixes carry the tag until submission re-tags them).
				Id:         jsii.String("expire-unsubmitted-uploads"),
				TagFilters: &map[string]any{contract.TagState: contract.StateUnsubmitted},
				Expiration: awscdk.Duration_Days(jsii.Number(unsubmittedDays)),
			},
		},
	})

	// Every object is written with SSE-KMS under this stack's key: an upload
	// (or a reviewed copy the validator writes) asking for anything else (or
	// nothing, or another key) is refused, so a presigned POST whose policy
	// forgot the headers fails loudly. The statements cover every prefix.
	// Only the malware scanner's role is exempt: it may put one object, the
	// validation object GuardDuty writes when the plan is created (its own
	// policy allows nothing else), which the bucket's default encryption
	// encrypts under this key anyway.
	notScanner := func(cond map[string]any) map[string]any {
		cond["aws:PrincipalArn"] = scanner.RoleArn()
		return cond
	}
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyPutWithoutSSEKMS"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("*"))},
		Conditions: &map[string]any{
			"StringNotEquals": notScanner(map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}),
		},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyPutWithOtherKMSKey"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("*"))},
		Conditions: &map[string]any{
			"StringNotEquals": notScanner(map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": keys.Data.KeyArn()}),
		},
	}))

	// S3 → validator queue. The queue policy admits S3 only for this bucket
	// and account; the key policy statement for s3.amazonaws.com is in Keys.
	validatorQueue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowDocumentsBucketNotifications"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{validatorQueue.QueueArn()},
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": bucket.BucketArn()},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	bucket.AddEventNotification(awss3.EventType_OBJECT_CREATED, &queueDestination{queue: validatorQueue},
		&awss3.NotificationKeyFilter{Prefix: jsii.String(contract.DocumentsPrefix)})
	notificationsHandler(c, bucket, handlerRole)

	return &Documents{Construct: c, Bucket: bucket, Logs: logs}
}

// notificationsHandlerID is the construct id (and logical id) CDK gives the
// stack-wide singleton Lambda behind Custom::S3BucketNotifications.
const notificationsHandlerID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

// notificationsHandler makes CDK's deploy-time notification handler follow
// the stack's rules: its role loses the AWS managed AWSLambdaBasicExecutionRole
// that CDK attaches and gets instead a policy written here for its own log
// group, which is created with a retention (CDK leaves it to Lambda, which
// never expires it). CDK itself scopes s3:PutBucketNotification to the bucket.
func notificationsHandler(c constructs.Construct, bucket awss3.Bucket, role awsiam.Role) {
	stack := awscdk.Stack_Of(c)
	handler, ok := stack.Node().TryFindChild(jsii.String(notificationsHandlerID)).(constructs.Construct)
	if !ok || handler == nil {
		panic("infra: CDK did not create " + notificationsHandlerID + "; the S3 notification wiring changed")
	}
	fn := handler.Node().FindChild(jsii.String("Resource")).(awscdk.CfnResource)

	// CDK attached AWSLambdaBasicExecutionRole above; replace the rendered
	// list (a lazy value of the L2 role) with none.
	role.Node().DefaultChild().(awsiam.CfnRole).SetManagedPolicyArns(nil)

	logGroup := awslogs.NewLogGroup(c, jsii.String("NotificationsHandlerLogs"), &awslogs.LogGroupProps{
		LogGroupName:  awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("/aws/lambda/"), fn.Ref()}),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logsPolicy := awsiam.NewPolicy(c, jsii.String("NotificationsHandlerLogsPolicy"), &awsiam.PolicyProps{
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: &[]*string{logGroup.LogGroupArn()},
		})},
	})
	role.AttachInlinePolicy(logsPolicy)
	// The custom resource is invoked only once its log group and the right
	// to write there exist.
	notifications := bucket.Node().FindChild(jsii.String("Notifications"))
	notifications.Node().AddDependency(logGroup, logsPolicy)

	// cdk-nag's Lambda rules look at AWS::Lambda::Function resources made by
	// the L1 CfnFunction class; this handler is a plain CfnResource, so none
	// applies and there is nothing to suppress.
}

// queueDestination is awss3notifications.SqsDestination without its key-policy
// side effect: that helper adds an unconditioned s3.amazonaws.com statement to
// the queue's KMS key. Keys adds a statement bound by the SQS encryption
// context instead, and newDocuments writes the conditioned queue policy.
type queueDestination struct {
	queue awssqs.Queue
}

func (d *queueDestination) Bind(_ constructs.Construct, _ interfacesawss3.IBucketRef) *awss3.BucketNotificationDestinationConfig {
	return &awss3.BucketNotificationDestinationConfig{
		Arn:          d.queue.QueueArn(),
		Type:         awss3.BucketNotificationDestinationType_QUEUE,
		Dependencies: &[]constructs.IDependable{d.queue},
	}
}

// allowPagesOrigin lets the gate's own pages post uploads and fetch the
// review links (a PDF is read by the console's script to show it inline).
func (d *Documents) allowPagesOrigin(origin *string) {
	d.Bucket.AddCorsRule(&awss3.CorsRule{
		AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_POST, awss3.HttpMethods_GET},
		AllowedOrigins: &[]*string{origin},
		AllowedHeaders: jsii.Strings("*"),
		ExposedHeaders: jsii.Strings("ETag"),
		MaxAge:         jsii.Number(3000),
	})
}

// grantObjects allows object actions under one prefix of the bucket only
// (contract.DocumentsPrefix or contract.ReviewedPrefix).
func (d *Documents) grantObjects(g awsiam.IGrantable, prefix string, actions ...string) {
	g.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{d.Bucket.ArnForObjects(jsii.String(prefix + "*"))},
	}))
}

// grantListVersions allows listing object versions under the given prefixes
// (the purge of every version of a document and of its reviewed copy).
func (d *Documents) grantListVersions(g awsiam.IGrantable, prefixes ...string) {
	patterns := make([]string, len(prefixes))
	for i, p := range prefixes {
		patterns[i] = p + "*"
	}
	g.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:ListBucketVersions"),
		Resources: &[]*string{d.Bucket.BucketArn()},
		Conditions: &map[string]any{
			"StringLike": map[string]any{"s3:prefix": patterns},
		},
	}))
}

// objectsAppliesTo is the cdk-nag appliesTo entry of a grant on prefix*.
func (d *Documents) objectsAppliesTo(prefix string) string {
	return "Resource::<" + logicalID(d.Bucket) + ".Arn>/" + strings.TrimSuffix(prefix, "/") + "/*"
}

var _ awss3.IBucketNotificationDestination = (*queueDestination)(nil)
