package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// memoryMB is a function's memory unless its spec says otherwise
// (contract.Spec.MemoryMB: the validator decodes images). 256 MB rather than
// 128: Lambda gives CPU in proportion to memory, and the API functions do
// TLS, KMS envelope crypto and JSON; Go binaries use ~30 MB, so more would
// only buy CPU.
const memoryMB = 256

// functionMemoryMB is the memory of a function.
func functionMemoryMB(name string) int {
	if m := contract.SpecOf(name).MemoryMB; m > 0 {
		return m
	}
	return memoryMB
}

// adapterMaxConcurrency caps the billing adapter's concurrent invocations
// (WHMCS is usually one small server). 2 is the SQS event source minimum.
const adapterMaxConcurrency = 2

func functionTimeoutSeconds(name string) int { return contract.SpecOf(name).TimeoutSeconds }

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
	spec := contract.SpecOf(name)
	id := constructID(name)
	role := awsiam.NewRole(c, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the " + name + " function (least privilege, no managed policies)"),
	})
	logGroup := awslogs.NewLogGroup(c, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     logRetention(spec.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	props := &awslambda.FunctionProps{
		Description:   jsii.String("KYC gate: " + spec.Description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(d.dir, name)), nil),
		MemorySize:    jsii.Number(functionMemoryMB(name)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.TimeoutSeconds)),
		Role:          role,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   f.environment(spec, d),
	}
	if spec.Has(contract.StartSweepDLQ) {
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
	f.grant(spec, role, d)

	if wq, ok := d.queues.Work[name]; ok {
		if !spec.Triggered(contract.TriggerQueue) {
			panic("infra: " + name + " has a queue but its spec has no queue trigger")
		}
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

// environment is each function's configuration: the variables its spec
// lists. Every value that names a resource is a token (Ref/GetAtt), never a
// literal name.
func (f *Functions) environment(spec contract.Spec, d functionDeps) *map[string]*string {
	values := map[string]*string{
		contract.EnvTable:            d.table.Table.TableName(),
		contract.EnvBucket:           d.docs.Bucket.BucketName(),
		contract.EnvKeyID:            d.keys.Data.KeyArn(),
		contract.EnvMacKeyID:         d.keys.Mac.KeyArn(),
		contract.EnvEventBus:         d.bus.Bus.EventBusName(),
		contract.EnvKYCProducts:      jsii.String(strings.Join(d.cfg.KYCProducts, ",")),
		contract.EnvRegions:          jsii.String(d.cfg.Regions.Env()),
		contract.EnvMaxUploadBytes:   jsii.String(strconv.FormatInt(d.cfg.MaxUploadBytes, 10)),
		contract.EnvRetention:        jsii.String(d.cfg.Retention.Env()),
		contract.EnvWebhookSecretARN: d.secrets.Webhook.SecretArn(),
		contract.EnvBillingMode:      jsii.String(d.cfg.BillingMode),
		contract.EnvBillingSecretARN: d.secrets.Billing.SecretArn(),
		contract.EnvMailFrom:         jsii.String(d.cfg.MailFrom),
		contract.EnvPortalURL:        jsii.String(d.cfg.PortalURL),
		contract.EnvReviewSLA:        jsii.String(fmt.Sprintf("%dh", d.cfg.ReviewSLAHours)),
		contract.EnvMetricsNamespace: jsii.String(d.cfg.MetricsNamespace),
		contract.EnvSessionSecretARN: d.secrets.Session.SecretArn(),
		contract.EnvSigninIssuer:     jsii.String(orDefault(d.cfg.SigninIssuer, defaultSigninIssuer)),
	}
	if wq, ok := d.queues.Work[contract.FunctionBillingAdapter]; ok {
		values[contract.EnvBillingQueueURL] = wq.Queue.QueueUrl()
	}
	if d.cfg.WHMCSAdmin != "" {
		values[contract.EnvWHMCSAdmin] = jsii.String(d.cfg.WHMCSAdmin)
	}
	if d.cfg.ProvisioningDeptID != "" {
		values[contract.EnvProvisioningDeptID] = jsii.String(d.cfg.ProvisioningDeptID)
	}
	for k, v := range map[string]string{
		contract.EnvSigninKeys:    d.cfg.SigninKeys,
		contract.EnvBillingURL:    d.cfg.BillingURL,
		contract.EnvMailReplyTo:   d.cfg.MailReplyTo,
		contract.EnvTicketMode:    d.cfg.Tickets,
		contract.EnvTicketDeptID:  d.cfg.TicketDeptID,
		contract.EnvOtherProducts: strings.Join(d.cfg.OtherProducts, ","),
	} {
		if v != "" {
			values[k] = jsii.String(v)
		}
	}
	env := map[string]*string{}
	for _, k := range spec.Env {
		if lateEnv[k] {
			continue // set by setLateEnvironment once the API and the staff identity exist
		}
		v, ok := values[k]
		if !ok {
			panic(fmt.Sprintf("infra: %s needs %s, which the configuration does not give", spec.Name, k))
		}
		env[k] = v
	}
	for _, k := range spec.OptionalEnv {
		if v, ok := values[k]; ok {
			env[k] = v
		}
	}
	return &env
}

// lateEnv are the variables whose values name resources made after the
// functions (the API's endpoint, the staff user pool and its client, which
// itself names the API's endpoint in its callback URL).
var lateEnv = map[string]bool{contract.EnvPublicURL: true, contract.EnvSigninAudience: true,
	contract.EnvOIDCIssuer: true, contract.EnvOIDCClientID: true}

// setLateEnvironment sets the late variables on every function whose spec
// lists them.
func (f *Functions) setLateEnvironment(values map[string]*string) {
	for _, spec := range contract.Specs {
		for _, k := range append(append([]string{}, spec.Env...), spec.OptionalEnv...) {
			if !lateEnv[k] {
				continue
			}
			v, ok := values[k]
			if !ok {
				panic(fmt.Sprintf("infra: %s needs %s, which the configuration does not give", spec.Name, k))
			}
			f.Fn[spec.Name].AddEnvironment(jsii.String(k), v, nil)
		}
	}
}

// grant gives a function exactly the access its spec lists: each
// contract.Access is one set of statements here, and nothing else is
// granted (see the table in docs/architecture.md).
func (f *Functions) grant(spec contract.Spec, role awsiam.Role, d functionDeps) {
	t, docs, keys := d.table, d.docs, d.keys
	var (
		queryTable             bool
		indexes                []string
		objects, reviewed, kms []string // object actions on docs/* and on reviewed/*
		listVersions           []string // prefixes whose versions it lists
	)
	for _, a := range spec.Access {
		switch a {
		case contract.TableItems:
			t.grantItems(role, itemReadWrite)
		case contract.QueryTable:
			queryTable = true
		case contract.QueryDue:
			indexes = append(indexes, contract.IndexDue)
		case contract.QueryQueue:
			indexes = append(indexes, contract.IndexQueue)
		case contract.QueryDocNumber:
			indexes = append(indexes, contract.IndexDocNumber)
		case contract.AppendAudit:
			// Appends audit entries (conditionally new) to a customer's trail.
			t.grantItems(role, []string{"dynamodb:PutItem"}, "AUDIT#*")
		case contract.DocumentRecords:
			// Reads a document record and writes it back conditionally.
			t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:PutItem"}, "CUST#*")
		case contract.CustomerRecords:
			// Reads a customer's contact record and data key.
			t.grantItems(role, []string{"dynamodb:GetItem"}, "CUST#*")
		case contract.CommandLedger:
			t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, contract.PrefixCommand+"*")
		case contract.NoticeLedger:
			t.grantItems(role, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, contract.PrefixNotice+"*")
		case contract.SigninTokens:
			t.grantItems(role, []string{"dynamodb:PutItem"}, contract.PrefixSignin+"*")
		case contract.TicketRecords:
			// The open case ticket of a customer: read, recorded, forgotten.
			t.grantItems(role, []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, contract.PrefixTicket+"*")
		case contract.SignUploads:
			objects = append(objects, "s3:PutObject")
		case contract.ReadObjects:
			objects = append(objects, "s3:GetObject", "s3:GetObjectVersion")
		case contract.ReadReviewed:
			reviewed = append(reviewed, "s3:GetObject", "s3:GetObjectVersion")
		case contract.WriteReviewed:
			// PutObject with a tagging header needs PutObjectTagging too.
			reviewed = append(reviewed, "s3:PutObject", "s3:PutObjectTagging")
		case contract.TagObjects:
			objects = append(objects, "s3:PutObjectTagging", "s3:PutObjectVersionTagging")
			reviewed = append(reviewed, "s3:PutObjectTagging", "s3:PutObjectVersionTagging")
		case contract.DeleteObjects:
			objects = append(objects, "s3:DeleteObject", "s3:DeleteObjectVersion")
			listVersions = append(listVersions, contract.DocumentsPrefix) // deletes every version of an object
		case contract.DeleteReviewed:
			reviewed = append(reviewed, "s3:DeleteObject", "s3:DeleteObjectVersion")
			listVersions = append(listVersions, contract.ReviewedPrefix)
		case contract.GenerateDataKeys:
			kms = append(kms, "kms:GenerateDataKey")
		case contract.DecryptData:
			kms = append(kms, "kms:Decrypt")
		case contract.Fingerprint:
			keys.grantMac(role)
		case contract.PublishEvents:
			d.bus.grantPut(role)
		case contract.ReadWebhookSecret:
			grantSecretRead(role, d.secrets.Webhook)
		case contract.ReadBillingSecret:
			grantSecretRead(role, d.secrets.Billing)
		case contract.ReadSessionSecret:
			grantSecretRead(role, d.secrets.Session)
		case contract.SendEmail:
			grantSendEmail(role, d.cfg.MailFrom)
		case contract.RequeueCommands:
			// Its own queue only: a command waiting for payment goes back,
			// delayed (the queue's CMK: GenerateDataKeys/DecryptData).
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("sqs:SendMessage"),
				Resources: &[]*string{d.queues.Work[spec.Name].Queue.QueueArn()},
			}))
		case contract.StartSweepDLQ:
			// The function's DeadLetterQueue (set in add) grants its own SendMessage.
		default:
			panic(fmt.Sprintf("infra: %s: no grant for access %q", spec.Name, a))
		}
	}
	if queryTable || len(indexes) > 0 {
		t.grantQuery(role, queryTable, indexes...)
	}
	if len(objects) > 0 {
		docs.grantObjects(role, contract.DocumentsPrefix, objects...)
	}
	if len(reviewed) > 0 {
		slices.Sort(reviewed)
		docs.grantObjects(role, contract.ReviewedPrefix, slices.Compact(reviewed)...)
	}
	if len(listVersions) > 0 {
		docs.grantListVersions(role, listVersions...)
	}
	if len(kms) > 0 {
		keys.grantData(role, kms...)
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
			AppliesTo: &[]any{d.docs.objectsAppliesTo(contract.DocumentsPrefix), d.docs.objectsAppliesTo(contract.ReviewedPrefix)},
			Reason: jsii.String("Document objects are created at run time under docs/<customerId>/<documentId>, and the validator's " +
				"re-encoded copies under reviewed/<customerId>/<documentId>; each grant is limited to its prefix of the one documents " +
				"bucket, which is as narrow as IAM can express for ids not known at deploy time. Per-customer isolation is enforced by " +
				"the handler and the presigned POST policy that pins the exact key."),
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

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// logRetention is the log group retention of a number of days.
func logRetention(days int) awslogs.RetentionDays {
	switch days {
	case 365:
		return awslogs.RetentionDays_ONE_YEAR
	case 90:
		return awslogs.RetentionDays_THREE_MONTHS
	}
	panic(fmt.Sprintf("infra: no log retention of %d days", days))
}
