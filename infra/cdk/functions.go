package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/kycgate/kycgate/shared/contract"
)

// fnSpec is what differs between the functions.
type fnSpec struct {
	description string
	// timeout in seconds: 10 s for the API functions (API Gateway gives up
	// after 30 s anyway), 60 s for the sweep and the billing adapter (a slow
	// WHMCS), 30 s for the queue consumers that call out (S3 reads, SES, WHMCS).
	timeout int
	// log retention: one year for the functions that serve requests (customer,
	// admin, billing webhook) and take in billing events, since their logs are
	// the request trail an audit asks for; three months for the rest.
	retention awslogs.RetentionDays
}

var functionSpecs = map[string]fnSpec{
	contract.FunctionCustomerAPI:    {"Customer KYC API (documents, submissions, status)", 10, awslogs.RetentionDays_ONE_YEAR},
	contract.FunctionAdminAPI:       {"Reviewer/admin API (queue, decisions, disclosures)", 10, awslogs.RetentionDays_ONE_YEAR},
	contract.FunctionBillingIntake:  {"Billing events in: EventBridge (via SQS) and the HMAC-signed webhook", 10, awslogs.RetentionDays_ONE_YEAR},
	contract.FunctionValidator:      {"Validates uploaded documents (size, magic bytes, encryption) on S3 events", 30, awslogs.RetentionDays_THREE_MONTHS},
	contract.FunctionSweep:          {"Scheduled sweep: deadlines, reminders, outbox, purge, review SLA metric", 60, awslogs.RetentionDays_THREE_MONTHS},
	contract.FunctionBillingAdapter: {"Applies service commands to the billing system (WHMCS API or webhook)", 60, awslogs.RetentionDays_THREE_MONTHS},
	contract.FunctionNotifier:       {"Customer notices by e-mail (SES) and billing-system ticket", 30, awslogs.RetentionDays_THREE_MONTHS},
}

// memoryMB is every function's memory. 256 MB rather than 128: Lambda gives
// CPU in proportion to memory, and the API functions do TLS, KMS envelope
// crypto and JSON; Go binaries use ~30 MB, so more would only buy CPU.
const memoryMB = 256

// adapterMaxConcurrency caps the billing adapter's concurrent invocations
// (WHMCS is usually one small server). 2 is the SQS event source minimum.
const adapterMaxConcurrency = 2

func functionTimeoutSeconds(name string) int {
	s, ok := functionSpecs[name]
	if !ok {
		panic("infra: no spec for function " + name)
	}
	return s.timeout
}

// Functions holds every Lambda of contract.Functions with its role and log group.
type Functions struct {
	constructs.Construct
	Fn        map[string]awslambda.Function
	Role      map[string]awsiam.Role
	LogGroup  map[string]awslogs.LogGroup
	SweepDLQ  awssqs.Queue
	Consumers map[string]awslambda.EventSourceMapping
}

// functionDeps are the resources the functions use.
type functionDeps struct {
	cfg     Config
	dir     string
	keys    *Keys
	table   *Table
	docs    *Documents
	bus     *Bus
	queues  *Queues
	secrets *Secrets
}

func newFunctions(scope constructs.Construct, id string, d functionDeps) *Functions {
	c := constructs.NewConstruct(scope, jsii.String(id))
	f := &Functions{
		Construct: c,
		Fn:        map[string]awslambda.Function{},
		Role:      map[string]awsiam.Role{},
		LogGroup:  map[string]awslogs.LogGroup{},
		Consumers: map[string]awslambda.EventSourceMapping{},
	}
	f.SweepDLQ = d.queues.newDLQ(c, "SweepDLQ",
		"asynchronous invocations of sweep that failed after Lambda's own retries", false)

	for _, name := range contract.Functions {
		f.add(c, name, d)
	}
	return f
}

func (f *Functions) add(c constructs.Construct, name string, d functionDeps) {
	spec, ok := functionSpecs[name]
	if !ok {
		panic("infra: no spec for function " + name)
	}
	id := constructID(name)
	role := awsiam.NewRole(c, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the " + name + " function (least privilege, no managed policies)"),
	})
	logGroup := awslogs.NewLogGroup(c, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     spec.retention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	props := &awslambda.FunctionProps{
		Description:   jsii.String("KYC gate: " + spec.description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(d.dir, name)), nil),
		MemorySize:    jsii.Number(memoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.timeout)),
		Role:          role,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   f.environment(name, d),
	}
	if name == contract.FunctionSweep {
		// Invoked asynchronously by EventBridge Scheduler: what fails after
		// Lambda's retries is kept here (CDK adds sqs:SendMessage on it).
		props.DeadLetterQueue = f.SweepDLQ
	}
	fn := awslambda.NewFunction(c, jsii.String(id), props)
	awscdk.Tags_Of(fn).Add(jsii.String(contract.TagFunction), jsii.String(name), nil)

	// Active X-Ray tracing, with the permission written here rather than
	// added by CDK behind the scenes.
	fn.Node().DefaultChild().(awslambda.CfnFunction).SetTracingConfig(&awslambda.CfnFunction_TracingConfigProperty{
		Mode: jsii.String("Active"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("XRayWrite"),
		Actions:   jsii.Strings("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
		Resources: jsii.Strings("*"),
	}))
	// CloudWatch Logs: its own log group only (the group exists, so no
	// logs:CreateLogGroup).
	logGroup.GrantWrite(role)

	f.Fn[name] = fn
	f.Role[name] = role
	f.LogGroup[name] = logGroup
	f.grant(name, role, d)

	if wq, ok := d.queues.Work[name]; ok {
		esProps := &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(10),
			ReportBatchItemFailures: jsii.Bool(true),
		}
		if name == contract.FunctionBillingAdapter {
			esProps.MaxConcurrency = jsii.Number(adapterMaxConcurrency)
		}
		src := awslambdaeventsources.NewSqsEventSource(wq.Queue, esProps)
		fn.AddEventSource(src)
		var esm awslambda.EventSourceMapping
		for _, child := range *fn.Node().Children() {
			if m, ok := child.(awslambda.EventSourceMapping); ok && strings.HasPrefix(*m.Node().Id(), "SqsEventSource:") {
				esm = m
			}
		}
		if esm == nil {
			panic("infra: no event source mapping created for " + name)
		}
		f.Consumers[name] = esm
		cdknag.NagSuppressions_AddResourceSuppressions(esm, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("Serverless-LambdaEventSourceMappingDestination"),
			Reason: jsii.String("SQS event source mappings do not support on-failure destinations (only stream and Kafka sources do); " +
				"a message that keeps failing moves to the queue's redrive DLQ after " + strconv.Itoa(maxReceiveCount) + " receives, and that DLQ is alarmed."),
		}}, jsii.Bool(false))
	}

	f.suppress(name, fn, role, d)
}

// environment is each function's configuration. Every value that names a
// resource is a token (Ref/GetAtt), never a literal name.
func (f *Functions) environment(name string, d functionDeps) *map[string]*string {
	table := d.table.Table.TableName()
	bucket := d.docs.Bucket.BucketName()
	key := d.keys.Data.KeyArn()
	mac := d.keys.Mac.KeyArn()
	bus := d.bus.Bus.EventBusName()
	products := jsii.String(strings.Join(d.cfg.KYCProducts, ","))
	maxBytes := jsii.String(strconv.FormatInt(d.cfg.MaxUploadBytes, 10))
	retention := jsii.String(d.cfg.Retention.Env())

	env := map[string]*string{contract.EnvTable: table}
	set := func(k string, v *string) { env[k] = v }
	setIf := func(k, v string) {
		if v != "" {
			env[k] = jsii.String(v)
		}
	}
	switch name {
	case contract.FunctionCustomerAPI:
		set(contract.EnvBucket, bucket)
		set(contract.EnvKeyID, key)
		set(contract.EnvEventBus, bus)
		set(contract.EnvKYCProducts, products)
		set(contract.EnvMaxUploadBytes, maxBytes)
		set(contract.EnvRetention, retention)
	case contract.FunctionAdminAPI:
		set(contract.EnvBucket, bucket)
		set(contract.EnvKeyID, key)
		set(contract.EnvMacKeyID, mac)
		set(contract.EnvEventBus, bus)
		set(contract.EnvRetention, retention)
	case contract.FunctionBillingIntake:
		set(contract.EnvEventBus, bus)
		set(contract.EnvKYCProducts, products)
		set(contract.EnvKeyID, key)
		set(contract.EnvWebhookSecretARN, d.secrets.Webhook.SecretArn())
	case contract.FunctionValidator:
		set(contract.EnvBucket, bucket)
		set(contract.EnvKeyID, key)
		set(contract.EnvMaxUploadBytes, maxBytes)
	case contract.FunctionSweep:
		set(contract.EnvBucket, bucket)
		set(contract.EnvEventBus, bus)
		set(contract.EnvReviewSLA, jsii.String(fmt.Sprintf("%dh", d.cfg.ReviewSLAHours)))
		set(contract.EnvMetricsNamespace, jsii.String(d.cfg.MetricsNamespace))
		set(contract.EnvRetention, retention)
	case contract.FunctionBillingAdapter:
		set(contract.EnvBillingMode, jsii.String(d.cfg.BillingMode))
		setIf(contract.EnvBillingURL, d.cfg.BillingURL)
		set(contract.EnvBillingSecretARN, d.secrets.Billing.SecretArn())
		setIf(contract.EnvTicketMode, d.cfg.Tickets)
		setIf(contract.EnvTicketDeptID, d.cfg.TicketDeptID)
	case contract.FunctionNotifier:
		set(contract.EnvKeyID, key)
		set(contract.EnvMailFrom, jsii.String(d.cfg.MailFrom))
		setIf(contract.EnvMailReplyTo, d.cfg.MailReplyTo)
		set(contract.EnvPortalURL, jsii.String(d.cfg.PortalURL))
		setIf(contract.EnvBillingURL, d.cfg.BillingURL)
		set(contract.EnvBillingSecretARN, d.secrets.Billing.SecretArn())
		setIf(contract.EnvTicketMode, d.cfg.Tickets)
		setIf(contract.EnvTicketDeptID, d.cfg.TicketDeptID)
	default:
		panic("infra: no environment for function " + name)
	}
	return &env
}

// grant gives each function exactly what its code calls (see the table in
// docs/architecture.md and the report of the Foundation issue).
func (f *Functions) grant(name string, role awsiam.Role, d functionDeps) {
	t, docs, keys := d.table, d.docs, d.keys
	switch name {
	case contract.FunctionCustomerAPI:
		t.grantItems(role, itemReadWrite)
		t.grantQuery(role, true)
		// Signs upload forms (PutObject); re-validates the uploaded version at
		// submission and tags that version submitted.
		docs.grantObjects(role, "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectTagging", "s3:PutObjectVersionTagging")
		keys.grantData(role, "kms:GenerateDataKey", "kms:Decrypt")
		d.bus.grantPut(role)
	case contract.FunctionAdminAPI:
		t.grantItems(role, itemReadWrite)
		t.grantQuery(role, true, contract.IndexDue, contract.IndexQueue)
		// Signs review links to the validated version.
		docs.grantObjects(role, "s3:GetObject", "s3:GetObjectVersion")
		keys.grantData(role, "kms:GenerateDataKey", "kms:Decrypt")
		keys.grantMac(role)
		d.bus.grantPut(role)
	case contract.FunctionBillingIntake:
		t.grantItems(role, itemReadWrite)
		keys.grantData(role, "kms:GenerateDataKey", "kms:Decrypt")
		d.bus.grantPut(role)
		grantSecretRead(role, d.secrets.Webhook)
	case contract.FunctionValidator:
		// Reads a document record and writes it back conditionally (PutItem).
		t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:PutItem"}, "CUST#*")
		docs.grantObjects(role, "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion")
		docs.grantListVersions(role) // deletes every version of an object no document expects
		keys.grantData(role, "kms:Decrypt")
	case contract.FunctionSweep:
		t.grantItems(role, itemReadWrite)
		t.grantQuery(role, false, contract.IndexDue, contract.IndexQueue)
		docs.grantObjects(role, "s3:DeleteObject", "s3:DeleteObjectVersion")
		docs.grantListVersions(role)
		// GenerateDataKey also covers writing to its KMS-encrypted DLQ.
		keys.grantData(role, "kms:GenerateDataKey", "kms:Decrypt")
		d.bus.grantPut(role)
	case contract.FunctionBillingAdapter:
		// Only its own record of applied commands (pk CMD#<eventId>), written
		// with conditional UpdateItem.
		t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, contract.PrefixCommand+"*")
		keys.grantData(role, "kms:GenerateDataKey", "kms:Decrypt")
		grantSecretRead(role, d.secrets.Billing)
	case contract.FunctionNotifier:
		// Reads the customer's contact record and data key (pk CUST#<id>), and
		// keeps its record of notices sent (pk NOTIFY#<eventId>).
		t.grantItems(role, []string{"dynamodb:GetItem"}, "CUST#*")
		t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, contract.PrefixNotice+"*")
		keys.grantData(role, "kms:Decrypt")
		grantSecretRead(role, d.secrets.Billing)
		grantSendEmail(role, d.cfg.MailFrom)
	default:
		panic("infra: no grants for function " + name)
	}
}

// grantSendEmail allows SES SendEmail from the configured sender only: on the
// address identity and on its domain identity (SES authorises against
// whichever is verified), with ses:FromAddress pinned.
func grantSendEmail(role awsiam.Role, from string) {
	stack := awscdk.Stack_Of(role)
	domain := from[strings.LastIndex(from, "@")+1:]
	arn := func(identity string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), stack.Partition(), jsii.String(":ses:"), stack.Region(), jsii.String(":"), stack.Account(),
			jsii.String(":identity/" + identity),
		})
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("ses:SendEmail"),
		Resources:  &[]*string{arn(from), arn(domain)},
		Conditions: &map[string]any{"StringEquals": map[string]any{"ses:FromAddress": from}},
	}))
}

// suppress records, per function, why the remaining cdk-nag findings are
// acceptable.
func (f *Functions) suppress(name string, fn awslambda.Function, role awsiam.Role, d functionDeps) {
	policy := []*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		AppliesTo: &[]any{"Resource::*"},
		Reason: jsii.String("Only xray:PutTraceSegments and xray:PutTelemetryRecords use Resource \"*\": X-Ray does not support " +
			"resource-level permissions for them. Every other statement names its resource."),
	}}
	switch name {
	case contract.FunctionCustomerAPI, contract.FunctionAdminAPI, contract.FunctionValidator, contract.FunctionSweep:
		policy = append(policy, &cdknag.NagPackSuppression{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{d.docs.docsObjectsAppliesTo()},
			Reason: jsii.String("Document objects are created at run time under docs/<customerId>/<documentId>; the grant is limited " +
				"to that prefix of the one documents bucket, which is as narrow as IAM can express for ids not known at deploy time. " +
				"Per-customer isolation is enforced by the handler and the presigned POST policy that pins the exact key."),
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &policy, jsii.Bool(true))

	var fnSup []*cdknag.NagPackSuppression
	switch name {
	case contract.FunctionCustomerAPI, contract.FunctionAdminAPI:
		fnSup = append(fnSup, &cdknag.NagPackSuppression{
			Id: jsii.String("Serverless-LambdaDLQ"),
			Reason: jsii.String("Invoked only synchronously by API Gateway (HTTP API, Lambda proxy); the caller gets the error " +
				"response, so there is no asynchronous event that a DLQ could keep."),
		})
	case contract.FunctionBillingIntake, contract.FunctionValidator, contract.FunctionBillingAdapter, contract.FunctionNotifier:
		reason := "Invoked only by its SQS event source mapping (synchronously, by the Lambda poller); a function-level DLQ " +
			"applies to asynchronous invocations and would never receive anything. Failed messages go to the queue's redrive " +
			"DLQ after " + strconv.Itoa(maxReceiveCount) + " receives, and that DLQ is alarmed."
		if name == contract.FunctionBillingIntake {
			reason += " Its other trigger is the webhook route of the HTTP API, which is synchronous."
		}
		fnSup = append(fnSup, &cdknag.NagPackSuppression{Id: jsii.String("Serverless-LambdaDLQ"), Reason: jsii.String(reason)})
	}
	if len(fnSup) > 0 {
		cdknag.NagSuppressions_AddResourceSuppressions(fn, &fnSup, jsii.Bool(false))
	}
}

// checkFunctionsDir fails early, with the fix, when a function build is missing.
func checkFunctionsDir(dir string) error {
	var missing []string
	for _, name := range contract.Functions {
		if _, err := os.Stat(filepath.Join(dir, name, "bootstrap")); err != nil {
			missing = append(missing, filepath.Join(dir, name, "bootstrap"))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("function builds missing (run `make build`, or set KYC_FUNCTIONS_DIR): %s", strings.Join(missing, ", "))
	}
	return nil
}
