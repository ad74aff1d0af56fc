package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/kycgate/kycgate/shared/contract"
)

// KycStackProps configures the stack. Issuer, audience and every other
// deployment setting are props (from the CDK context), never code.
type KycStackProps struct {
	awscdk.StackProps
	Config Config
	// FunctionsDir holds <function>/bootstrap for every contract.Functions
	// entry (the output of `make build`); defaults to build/lambda.
	FunctionsDir string
}

// KycStack gives tests and the app the constructs of a synthesized stack.
type KycStack struct {
	awscdk.Stack
	Keys      *Keys
	Secrets   *Secrets
	Table     *Table
	Queues    *Queues
	Documents *Documents
	Malware   *MalwareScan
	Bus       *Bus
	Functions *Functions
	Schedule  *SweepSchedule
	API       *API
	Staff     *StaffIdentity
	Alarms    *Alarms
	// PublicURL is the gate's origin as browsers reach it.
	PublicURL *string
}

// NewKycStack creates the whole deployment: one construct per concern, wired
// here; each construct grants access to what it owns.
func NewKycStack(scope constructs.Construct, id string, props *KycStackProps) awscdk.Stack {
	return newKycStack(scope, id, props).Stack
}

func newKycStack(scope constructs.Construct, id string, props *KycStackProps) *KycStack {
	if props == nil {
		panic("infra: NewKycStack needs props (the Config)")
	}
	if err := props.Config.Validate(); err != nil {
		panic("infra: invalid config: " + err.Error())
	}
	dir := props.FunctionsDir
	if dir == "" {
		dir = defaultFunctionsDir
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("KYC gate: identity verification of hosting customers before provisioning (policy engine, documents, billing integration)")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	s := &KycStack{Stack: stack}

	s.Keys = newKeys(stack, "Keys")
	s.Secrets = newSecrets(stack, "Secrets", s.Keys)
	s.Table = newTable(stack, "Table", s.Keys)
	s.Queues = newQueues(stack, "Queues", s.Keys)
	s.Malware = newMalwareScan(stack, "MalwareScan")
	s.Documents = newDocuments(stack, "Documents", s.Keys, props.Config.UploadOrigins, props.Config.Retention.UnsubmittedDays, s.Queues.Work[contract.FunctionValidator].Queue, s.Malware.Role)
	s.Malware.protect(s.Documents, s.Keys, s.Queues)
	s.Bus = newBus(stack, "Events", s.Queues)
	s.Functions = newFunctions(stack, "Functions", functionDeps{
		cfg: props.Config, dir: dir, keys: s.Keys, table: s.Table, docs: s.Documents,
		bus: s.Bus, queues: s.Queues, secrets: s.Secrets,
	})
	s.Schedule = newSweepSchedule(stack, "SweepSchedule", s.Functions.Fn[contract.FunctionSweep], s.Keys, s.Queues)
	s.API = newAPI(stack, "Api", props.Config, s.Functions)
	s.PublicURL = jsii.String(props.Config.PublicURL)
	if props.Config.PublicURL == "" {
		s.PublicURL = s.API.Api.ApiEndpoint()
	}
	s.Staff = newStaffIdentity(stack, "Staff", props.Config, s.PublicURL)
	audience := awscdk.Fn_Join(jsii.String(""), &[]*string{s.PublicURL, jsii.String("/verify")})
	if props.Config.SigninAudience != "" {
		audience = jsii.String(props.Config.SigninAudience)
	}
	s.Functions.setLateEnvironment(map[string]*string{
		contract.EnvPublicURL: s.PublicURL, contract.EnvSigninAudience: audience,
		contract.EnvOIDCIssuer: s.Staff.Issuer, contract.EnvOIDCClientID: s.Staff.ClientID,
	})
	s.Documents.allowPagesOrigin(s.PublicURL)
	s.Alarms = newAlarms(stack, "Alarms", props.Config, s.Keys, s.Queues, s.Functions)

	output(stack, "ApiUrl", s.API.URL(), "Base URL of the HTTP API")
	output(stack, "DocumentsBucketName", s.Documents.Bucket.BucketName(), "Documents bucket")
	output(stack, "TableName", s.Table.Table.TableName(), "DynamoDB table")
	output(stack, "EventBusName", s.Bus.Bus.EventBusName(), "EventBridge bus: billing events in, KYC events out")
	output(stack, "BillingSecretArn", s.Secrets.Billing.SecretArn(), "Fill in the billing-system credentials here")
	output(stack, "WebhookSecretArn", s.Secrets.Webhook.SecretArn(), "HMAC key to configure in the billing system's webhook")
	output(stack, "AlarmTopicArn", s.Alarms.Topic.TopicArn(), "Subscribe operators to the alarms here")
	output(stack, "PublicUrl", s.PublicURL, "The gate's pages: <PublicUrl>/verify (customers), <PublicUrl>/console (staff)")
	output(stack, "StaffIssuer", s.Staff.Issuer, "OpenID Connect issuer of the reviewer console")
	output(stack, "StaffClientId", s.Staff.ClientID, "The console's OpenID Connect client id")
	if s.Staff.Domain != nil {
		output(stack, "StaffSignInDomain", s.Staff.Domain.BaseUrl(nil), "Cognito hosted sign-in of staff (create users there, in the groups kyc-reviewers / kyc-admins)")
	}
	return s
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
}

// constructID turns a function name like "billing-intake" into "BillingIntake".
func constructID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// logicalID is the CloudFormation logical id of a construct's default child.
// (or of the construct itself when it is a CloudFormation element).
func logicalID(c constructs.IConstruct) string {
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		el = c.Node().DefaultChild().(awscdk.CfnElement)
	}
	return *awscdk.Stack_Of(c).GetLogicalId(el)
}
