package contract

import "fmt"

// Trigger is what invokes a function, and so the one shape of event it
// accepts.
type Trigger string

const (
	// TriggerHTTP: routes of the HTTP API (API Gateway payload 2.0 events).
	TriggerHTTP Trigger = "http"
	// TriggerQueue: the function's SQS queue through an event source mapping
	// with partial batch responses (SQS events).
	TriggerQueue Trigger = "queue"
	// TriggerSchedule: EventBridge Scheduler, with an EventBridge-shaped
	// "Scheduled Event" whose time is the scheduled time.
	TriggerSchedule Trigger = "schedule"
)

// Access is one thing a function may do to the stack's resources. The CDK
// stack turns each into exactly one set of IAM statements (infra/cdk
// grants.go), so a function's role allows what its spec lists and nothing
// else.
type Access string

const (
	// The table.
	TableItems      Access = "table:items"           // Get/Put/Update/Delete/ConditionCheck item (and so TransactWriteItems) on every item
	QueryTable      Access = "table:query"           // Query on the table (a customer's partition)
	QueryDue        Access = "table:query-due"       // Query on the due index
	QueryQueue      Access = "table:query-queue"     // Query on the review queue index
	QueryDocNumber  Access = "table:query-docnumber" // Query on the document-number index (the same document on other accounts)
	AppendAudit     Access = "table:audit"           // PutItem on AUDIT#* (with DocumentRecords: a document refused for malware, audited)
	DocumentRecords Access = "table:documents"       // GetItem/PutItem on CUST#* (a document record, conditionally)
	CustomerRecords Access = "table:customers"       // GetItem on CUST#* (a customer's contact address and data key)
	CommandLedger   Access = "table:commands"        // GetItem/UpdateItem on CMD#*
	NoticeLedger    Access = "table:notices"         // GetItem/UpdateItem on NOTIFY#*
	SigninTokens    Access = "table:signin"          // PutItem on SIGNIN#* (conditional: each sign-in token is used once)
	TicketRecords   Access = "table:tickets"         // GetItem/PutItem/DeleteItem on TICKET#*: the open KYC case ticket of each customer

	// The documents bucket: uploads under docs/, the validator's reviewed
	// copies under reviewed/.
	SignUploads    Access = "s3:sign-uploads"    // PutObject on docs/*: the presigned POST forms
	ReadObjects    Access = "s3:read"            // GetObject(Version) on docs/*: validation, inspection, export links
	ReadReviewed   Access = "s3:read-reviewed"   // GetObject(Version) on reviewed/*: reviewers' links
	WriteReviewed  Access = "s3:write-reviewed"  // PutObject, PutObjectTagging on reviewed/*: the validator's re-encoded copies
	TagObjects     Access = "s3:tag"             // PutObject(Version)Tagging on docs/* and reviewed/*: mark versions submitted
	DeleteObjects  Access = "s3:delete"          // DeleteObject(Version), ListBucketVersions on docs/*
	DeleteReviewed Access = "s3:delete-reviewed" // DeleteObject(Version), ListBucketVersions on reviewed/*: purge

	// The keys.
	GenerateDataKeys Access = "kms:generate-data-key" // GenerateDataKey under the CMK (customer data keys, KMS-encrypted queues)
	DecryptData      Access = "kms:decrypt"           // Decrypt under the CMK
	Fingerprint      Access = "kms:mac"               // GenerateMac with the HMAC key (document numbers)

	// Everything else.
	PublishEvents     Access = "events:put"     // PutEvents on the bus
	ReadWebhookSecret Access = "secret:webhook" // GetSecretValue of the webhook secret
	ReadBillingSecret Access = "secret:billing" // GetSecretValue of the billing secret
	ReadSessionSecret Access = "secret:session" // GetSecretValue of the pages' session key
	SendEmail         Access = "ses:send"       // SendEmail from the configured sender only
	StartSweepDLQ     Access = "sqs:sweep-dlq"  // SendMessage to the sweep's DLQ (asynchronous invocations)
	RequeueCommands   Access = "sqs:requeue"    // SendMessage to the billing adapter's own queue: a command deferred until its order is paid comes back later
)

// Spec is what a function is and what it needs: the one place the CDK stack
// (role, environment, trigger), the wiring (configuration read once at cold
// start) and the local stack take a function's needs from.
type Spec struct {
	Name        string
	Description string
	Triggers    []Trigger
	// Env are the environment variables the function reads; all are
	// required. OptionalEnv are read when set.
	Env         []string
	OptionalEnv []string
	Access      []Access
	// TimeoutSeconds of one invocation.
	TimeoutSeconds int
	// MemoryMB is the function's memory (Lambda gives CPU in proportion);
	// 0 for the stack's default.
	MemoryMB int
	// LogRetentionDays: a year for the functions that serve requests and
	// take in billing events (their logs are the request trail an audit asks
	// for), three months for the rest.
	LogRetentionDays int
}

// Specs are every function of the system, in build order.
var Specs = []Spec{
	{
		Name:        FunctionCustomerAPI,
		Description: "Customer KYC API (documents, submissions, status) and verification page",
		Triggers:    []Trigger{TriggerHTTP},
		Env: []string{EnvTable, EnvBucket, EnvKeyID, EnvEventBus, EnvKYCProducts, EnvMaxUploadBytes, EnvRetention,
			EnvPublicURL, EnvSessionSecretARN, EnvSigninIssuer, EnvSigninAudience},
		OptionalEnv: []string{EnvSigninKeys},
		Access: []Access{TableItems, QueryTable, SignUploads, ReadObjects, TagObjects, GenerateDataKeys, DecryptData,
			PublishEvents, SigninTokens, ReadSessionSecret},
		TimeoutSeconds: 10, LogRetentionDays: 365,
	},
	{
		Name:        FunctionAdminAPI,
		Description: "Reviewer/admin API (queue, decisions, disclosures) and reviewer console",
		Triggers:    []Trigger{TriggerHTTP},
		Env: []string{EnvTable, EnvBucket, EnvKeyID, EnvMacKeyID, EnvEventBus, EnvRetention,
			EnvPublicURL, EnvSessionSecretARN, EnvOIDCIssuer, EnvOIDCClientID, EnvReviewSLA},
		Access: []Access{TableItems, QueryTable, QueryDue, QueryQueue, QueryDocNumber, ReadObjects, ReadReviewed, GenerateDataKeys, DecryptData, Fingerprint,
			PublishEvents, ReadSessionSecret},
		TimeoutSeconds: 10, LogRetentionDays: 365,
	},
	{
		Name:           FunctionBillingIntake,
		Description:    "Billing events in: EventBridge (via SQS) and the HMAC-signed webhook; the billing system's signed reads",
		Triggers:       []Trigger{TriggerQueue, TriggerHTTP},
		Env:            []string{EnvTable, EnvKeyID, EnvEventBus, EnvKYCProducts, EnvRegions, EnvWebhookSecretARN},
		OptionalEnv:    []string{EnvOtherProducts},
		Access:         []Access{TableItems, QueryQueue, GenerateDataKeys, DecryptData, PublishEvents, ReadWebhookSecret},
		TimeoutSeconds: 10, LogRetentionDays: 365,
	},
	{
		Name:        FunctionValidator,
		Description: "Validates uploaded documents (size, encryption, decoding, malware scan) and writes reviewers' copies, on S3 events and scan results",
		Triggers:    []Trigger{TriggerQueue},
		Env:         []string{EnvTable, EnvBucket, EnvKeyID, EnvMaxUploadBytes, EnvMetricsNamespace},
		// GenerateDataKeys: writing the SSE-KMS reviewed copy. AppendAudit:
		// a document refused for malware is audited (with its customer
		// record, the chain's head, and the document: DocumentRecords).
		Access:         []Access{DocumentRecords, AppendAudit, ReadObjects, WriteReviewed, DeleteObjects, GenerateDataKeys, DecryptData},
		TimeoutSeconds: 30, LogRetentionDays: 90,
		// Decoding an image of up to 40 MP (shared/filecheck) allocates up
		// to 128 MiB beside the 10 MiB file and its re-encoded copy, and a
		// 40 MP JPEG takes over a second of one core: 512 MB leaves room
		// and buys the CPU (measured ~75 MiB, 1.2 s on a laptop core).
		MemoryMB: 512,
	},
	{
		Name:           FunctionSweep,
		Description:    "Scheduled sweep: deadlines, reminders, outbox, purge, review SLA metric",
		Triggers:       []Trigger{TriggerSchedule},
		Env:            []string{EnvTable, EnvBucket, EnvEventBus, EnvReviewSLA, EnvMetricsNamespace, EnvRetention},
		Access:         []Access{TableItems, QueryDue, QueryQueue, DeleteObjects, DeleteReviewed, GenerateDataKeys, DecryptData, PublishEvents, StartSweepDLQ},
		TimeoutSeconds: 60, LogRetentionDays: 90,
	},
	{
		Name:           FunctionBillingAdapter,
		Description:    "Applies service commands to the billing system (WHMCS API or webhook)",
		Triggers:       []Trigger{TriggerQueue},
		Env:            []string{EnvTable, EnvBillingMode, EnvBillingURL, EnvBillingSecretARN, EnvBillingQueueURL},
		OptionalEnv:    []string{EnvProvisioningDeptID, EnvMailFrom, EnvWHMCSAdmin},
		Access:         []Access{CommandLedger, CustomerRecords, RequeueCommands, GenerateDataKeys, DecryptData, ReadBillingSecret},
		TimeoutSeconds: 60, LogRetentionDays: 90,
	},
	{
		Name:           FunctionNotifier,
		Description:    "Customer notices by e-mail (SES) and billing-system ticket",
		Triggers:       []Trigger{TriggerQueue},
		Env:            []string{EnvTable, EnvKeyID, EnvMailFrom, EnvPortalURL},
		OptionalEnv:    []string{EnvMailReplyTo, EnvTicketMode, EnvTicketDeptID, EnvWHMCSAdmin, EnvBillingURL, EnvBillingSecretARN},
		Access:         []Access{CustomerRecords, NoticeLedger, TicketRecords, DecryptData, ReadBillingSecret, SendEmail},
		TimeoutSeconds: 30, LogRetentionDays: 90,
	},
}

// Functions lists every function name, in the order of Specs.
var Functions = func() []string {
	var out []string
	for _, s := range Specs {
		out = append(out, s.Name)
	}
	return out
}()

// SpecOf returns the spec of a function; it panics for a name that is not a
// function (a programming error).
func SpecOf(name string) Spec {
	for _, s := range Specs {
		if s.Name == name {
			return s
		}
	}
	panic(fmt.Sprintf("contract: no function %q", name))
}

// Has reports whether the function has the access a.
func (s Spec) Has(a Access) bool {
	for _, x := range s.Access {
		if x == a {
			return true
		}
	}
	return false
}

// Triggered reports whether the function is invoked by t.
func (s Spec) Triggered(t Trigger) bool {
	for _, x := range s.Triggers {
		if x == t {
			return true
		}
	}
	return false
}
