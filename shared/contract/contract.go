// Package contract holds the names that the CDK stack, the Lambda functions and
// the local stack must agree on. Each name is written here once; everything
// else imports it, so a resource can never be called two things.
package contract

// Function names: the folder under functions/, the tag that marks the Lambda
// in the synthesized template (TagFunction), and the name used by
// `make invoke FN=...`.
const (
	FunctionCustomerAPI    = "customer-api"
	FunctionAdminAPI       = "admin-api"
	FunctionBillingIntake  = "billing-intake"
	FunctionValidator      = "validator"
	FunctionSweep          = "sweep"
	FunctionBillingAdapter = "billing-adapter"
	FunctionNotifier       = "notifier"
)

// TagFunction is the resource tag whose value is one of the function names
// above. The local stack finds each function in the template by it.
const TagFunction = "kyc:function"

// Environment variables the stack sets on the functions. A function reads only
// the ones it needs.
const (
	EnvTable            = "KYC_TABLE"              // DynamoDB table name
	EnvBucket           = "KYC_BUCKET"             // documents bucket name
	EnvKeyID            = "KYC_KEY_ID"             // customer-managed KMS key ARN (SSE-KMS and sealing)
	EnvMacKeyID         = "KYC_MAC_KEY_ID"         // KMS HMAC key ARN (keyed hashes of document numbers)
	EnvEventBus         = "KYC_EVENT_BUS"          // EventBridge bus name
	EnvKYCProducts      = "KYC_PRODUCTS"           // comma-separated product ids that require KYC
	EnvOtherProducts    = "KYC_OTHER_PRODUCTS"     // comma-separated product ids an order may name that need no KYC
	EnvRegions          = "KYC_REGIONS"            // server regions and their time zones: "hk=Asia/Hong_Kong,tw=Asia/Taipei" (kyc.ParseRegions)
	EnvMaxUploadBytes   = "KYC_MAX_UPLOAD_BYTES"   // largest accepted document, bytes
	EnvWebhookSecretARN = "KYC_WEBHOOK_SECRET_ARN" // Secrets Manager secret: HMAC key of the billing webhook
	EnvBillingMode      = "KYC_BILLING_MODE"       // "whmcs" or "webhook"
	EnvBillingSecretARN = "KYC_BILLING_SECRET_ARN" // Secrets Manager secret: WHMCS credentials or outbound webhook key
	EnvBillingURL       = "KYC_BILLING_URL"        // WHMCS API URL (…/includes/api.php) or outbound webhook URL
	EnvMailFrom         = "KYC_MAIL_FROM"          // SES sender address
	EnvMailReplyTo      = "KYC_MAIL_REPLY_TO"      // optional Reply-To
	EnvPortalURL        = "KYC_PORTAL_URL"         // customer portal (emails link here; login required)
	EnvTicketMode       = "KYC_TICKETS"            // "whmcs" to also open WHMCS tickets, empty for none
	EnvTicketDeptID     = "KYC_TICKET_DEPT_ID"     // WHMCS support department for KYC tickets
	EnvReviewSLA        = "KYC_REVIEW_SLA"         // Go duration; the sweep reports the oldest pending review against it
	EnvMetricsNamespace = "KYC_METRICS_NAMESPACE"  // CloudWatch namespace of the embedded metrics
	EnvRetention        = "KYC_RETENTION"          // "unsubmitted=168h,rejected=2160h,afterExpiry=2160h" (kyc.ParseRetention)

	// The pages (shared/web).
	EnvPublicURL        = "KYC_PUBLIC_URL"         // the gate's base URL as browsers reach it (https://..., no path): OIDC redirects, sign-in audience
	EnvSessionSecretARN = "KYC_SESSION_SECRET_ARN" // Secrets Manager secret: the key of the pages' session cookies
	EnvSigninKeys       = "KYC_SIGNIN_KEYS"        // JSON list of the billing system's sign-in public keys (signin.ParseKeys); unset: no customer sign-in
	EnvSigninIssuer     = "KYC_SIGNIN_ISSUER"      // "iss" of the billing system's sign-in tokens
	EnvSigninAudience   = "KYC_SIGNIN_AUDIENCE"    // "aud" the sign-in tokens must name
	EnvOIDCIssuer       = "KYC_OIDC_ISSUER"        // staff OpenID Connect issuer (the stack's Cognito user pool by default)
	EnvOIDCClientID     = "KYC_OIDC_CLIENT_ID"     // the console's OIDC client id (a public client: code + PKCE)
)

// Environment variables of the WHMCS integration (docs/whmcs.md §5, §6).
const (
	// EnvWHMCSAdmin is the username of the WHMCS admin the API credential
	// belongs to: ticket replies are that admin's (AddTicketReply
	// adminusername).
	EnvWHMCSAdmin = "KYC_WHMCS_ADMIN"
	// EnvProvisioningDeptID is the WHMCS support department of the staff
	// tickets that ask for a service of a product without a module to be
	// set up by hand.
	EnvProvisioningDeptID = "KYC_PROVISIONING_DEPT_ID"
	// EnvBillingQueueURL is the billing adapter's own queue: a command that
	// waits for its order's payment is sent back to it, delayed.
	EnvBillingQueueURL = "KYC_BILLING_QUEUE_URL"
)

// DynamoDB table layout. One table, single-table design (docs/architecture.md).
const (
	AttrPK  = "pk"
	AttrSK  = "sk"
	AttrTTL = "ttl" // epoch seconds; DynamoDB deletes the item some time after

	// IndexDue is a sparse GSI of everything the sweep must look at by a time:
	// customers with an open hold deadline or a verification reminder due,
	// outbox records to re-publish, documents to purge.
	IndexDue   = "due"
	AttrDuePK  = "duePk"
	AttrDueSK  = "dueSk"
	IndexQueue = "queue" // sparse GSI of submissions waiting for review, oldest first
	AttrQPK    = "queuePk"
	AttrQSK    = "queueSk"
	// IndexDocNumber is a sparse GSI of the submissions whose reviewer
	// recorded an identity document number, by its keyed hash (never the
	// number), newest first: the same document on other accounts.
	IndexDocNumber = "docnumber"
	AttrDocHash    = "docHash"
	AttrDocHashSK  = "docHashSk"
)

// Partition-key prefixes of the records the billing adapter and the notifier
// keep, and which their IAM policies limit them to (dynamodb:LeadingKeys).
const (
	PrefixCommand = "CMD#" // pk CMD#<eventId>, sk SKCommand: a service command applied to billing (billing-adapter)
	SKCommand     = "CMD"
	PrefixNotice  = "NOTIFY#" // pk NOTIFY#<eventId>, sk "email"|"ticket": a customer notice sent (notifier)
	PrefixSignin  = "SIGNIN#" // pk SIGNIN#<jti>, sk SKSignin: a used sign-in token id (customer-api), TTL
	SKSignin      = "SIGNIN"
	PrefixTicket  = "TICKET#" // pk TICKET#<customerId>, sk SKTicketOpen: the customer's open KYC case ticket (notifier)
	SKTicketOpen  = "OPEN"
)

// S3 layout of the documents bucket.
const (
	DocumentsPrefix = "docs/" // every uploaded object lives under docs/<customerId>/<documentId>
	// ReviewedPrefix holds the validator's re-encoded copy of each valid
	// image, reviewed/<customerId>/<documentId>: what reviewers are shown.
	ReviewedPrefix = "reviewed/"

	// Uploads (and reviewed copies) are tagged TagState=StateUnsubmitted; a
	// lifecycle rule expires such objects after the never-submitted retention.
	// Submission re-tags them StateSubmitted.
	TagState         = "kyc-state"
	StateUnsubmitted = "unsubmitted"
	StateSubmitted   = "submitted"
)

// Event sources on the bus.
const (
	SourceBilling = "billing" // events from the billing system (OrderPlaced, ...)
	SourceKYC     = "kyc"     // events this system emits
)

// Metric names (CloudWatch embedded metric format, written by the sweep and
// the validator).
const (
	MetricOldestPendingReview = "OldestPendingReviewSeconds"
	// MetricMalwareFound counts uploads the malware scan found a threat in;
	// MetricMalwareScanFailed those it could not scan (the validator).
	MetricMalwareFound      = "MalwareFound"
	MetricMalwareScanFailed = "MalwareScanFailed"
)

// The malware scan of the documents bucket (GuardDuty Malware Protection for
// S3): what its result events are, and the prefix it protects.
const (
	ScanResultSource     = "aws.guardduty"
	ScanResultDetailType = "GuardDuty Malware Protection Object Scan Result"
)
