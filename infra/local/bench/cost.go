package bench

import (
	"fmt"
	"math"
	"strings"

	"github.com/kycgate/kycgate/shared/contract"
)

// The operations measured by the calls benchmark, by name.
const (
	OpRequirements   = "requirements (GET /v1/kyc/requirements)"
	OpStatus         = "customer status (GET /v1/kyc/status)"
	OpDocument       = "document create (POST /v1/kyc/documents)"
	OpValidate       = "upload validation (validator, one S3 event)"
	OpSubmit         = "submission (POST /v1/kyc/submissions)"
	OpQueue          = "review queue (GET /v1/admin/submissions)"
	OpClaim          = "claim (POST /v1/admin/submissions/{id}/claim)"
	OpView           = "submission view (GET /v1/admin/submissions/{id})"
	OpOpen           = "document opening (GET /v1/admin/submissions/{id}/documents/{category})"
	OpDecision1      = "decision: approval, one open hold (POST …/decision)"
	OpIntake         = "order intake: unverified customer (KYC product)"
	OpIntakeVerified = "order intake: verified customer (KYC product)"
	OpIntakeNoKYC    = "order intake: non-KYC product"
	OpIntakeEmail    = "order intake: unverified customer with an e-mail address"
	OpBilling        = "billing-adapter: one command (ServiceProvisionRequested)"
	OpNotify         = "notifier: one notice (KycVerified e-mail)"
)

// Prices are AWS list prices in us-east-1 (US East, N. Virginia), on-demand,
// without free tiers, as of 2025 (DynamoDB on-demand after its November 2024
// price cut). They are written from knowledge of the published price pages,
// not fetched: check https://aws.amazon.com/<service>/pricing/ before
// relying on them.
type Price struct {
	Service string
	Item    string
	USD     float64 // per Unit
	Unit    string
	Source  string
}

// Prices used by the cost model.
var Prices = struct {
	LambdaGBs, LambdaRequest, RRU, WRU, DDBStorageGBMonth, PITRGBMonth, KMSRequest,
	S3GBMonth, S3Put, S3Get, Event, SQSRequest, HTTPAPIRequest, SESEmail, LogsGB float64
}{
	LambdaGBs:         0.0000133334, // arm64
	LambdaRequest:     0.20 / 1e6,
	RRU:               0.125 / 1e6,
	WRU:               0.625 / 1e6,
	DDBStorageGBMonth: 0.25,
	PITRGBMonth:       0.20,
	KMSRequest:        0.03 / 1e4,
	S3GBMonth:         0.023,
	S3Put:             0.005 / 1e3,
	S3Get:             0.0004 / 1e3,
	Event:             1.00 / 1e6,
	SQSRequest:        0.40 / 1e6,
	HTTPAPIRequest:    1.00 / 1e6,
	SESEmail:          0.10 / 1e3,
	LogsGB:            0.50,
}

// PriceTable lists the prices for the report.
func PriceTable() []Price {
	p := Prices
	return []Price{
		{"AWS Lambda", "compute, arm64", p.LambdaGBs, "GB-second", "AWS Lambda pricing"},
		{"AWS Lambda", "requests", p.LambdaRequest * 1e6, "million requests", "AWS Lambda pricing"},
		{"Amazon DynamoDB", "on-demand read request units", p.RRU * 1e6, "million RRU", "Amazon DynamoDB pricing (on-demand)"},
		{"Amazon DynamoDB", "on-demand write request units", p.WRU * 1e6, "million WRU", "Amazon DynamoDB pricing (on-demand)"},
		{"Amazon DynamoDB", "storage (Standard table class)", p.DDBStorageGBMonth, "GB-month", "Amazon DynamoDB pricing"},
		{"Amazon DynamoDB", "point-in-time recovery", p.PITRGBMonth, "GB-month", "Amazon DynamoDB pricing"},
		{"AWS KMS", "API requests", p.KMSRequest * 1e4, "10,000 requests", "AWS KMS pricing"},
		{"Amazon S3", "S3 Standard storage (first 50 TB)", p.S3GBMonth, "GB-month", "Amazon S3 pricing"},
		{"Amazon S3", "PUT, COPY, POST, LIST requests (PutObjectTagging included)", p.S3Put * 1e3, "1,000 requests", "Amazon S3 pricing"},
		{"Amazon S3", "GET and all other requests", p.S3Get * 1e3, "1,000 requests", "Amazon S3 pricing"},
		{"Amazon EventBridge", "custom events (64 KB chunks)", p.Event * 1e6, "million events", "Amazon EventBridge pricing"},
		{"Amazon SQS", "standard queue requests", p.SQSRequest * 1e6, "million requests", "Amazon SQS pricing"},
		{"Amazon API Gateway", "HTTP API requests (first 300 million)", p.HTTPAPIRequest * 1e6, "million requests", "Amazon API Gateway pricing"},
		{"Amazon SES", "outbound e-mail", p.SESEmail * 1e3, "1,000 e-mails", "Amazon SES pricing"},
		{"Amazon CloudWatch", "Logs ingestion (standard)", p.LogsGB, "GB", "Amazon CloudWatch pricing"},
	}
}

// Hosted KYC services' list prices per verification, for comparison. Only
// Stripe Identity's is taken from the issue; the others are from knowledge of
// their public price pages (2025) and may have changed.
var Hosted = []struct {
	Name, Price, Note string
}{
	{"Stripe Identity", "US$1.50", "per verification (document and selfie check), list price quoted in issue 8"},
	{"Sumsub", "from US$1.35", "per verification, Basic plan (public pricing page, 2025; from memory)"},
	{"Veriff", "US$0.80", "per verification, Essential self-serve plan with a monthly minimum (2025; from memory)"},
}

// Flow is how often each operation happens in one verification: a new
// customer orders a KYC product, is told, uploads two documents (each
// validated), checks their status three times, submits; a reviewer lists
// the queue, claims, views the submission, opens both documents (two
// audited openings, two downloads) and approves; the customer is told, and billing gets two commands (provision,
// due date extended).
var Flow = []struct {
	Op    string
	Times int
	API   bool // served through the HTTP API
}{
	{OpIntakeEmail, 1, false}, // the order carries the customer's address, so the notices can be sent
	{OpNotify, 2, false},      // KycRequested and KycVerified: the same calls
	{OpRequirements, 1, true},
	{OpStatus, 3, true},
	{OpDocument, 2, true},
	{OpValidate, 2, false},
	{OpSubmit, 1, true},
	{OpQueue, 1, true},
	{OpClaim, 1, true},
	{OpView, 1, true},
	{OpOpen, 2, true},
	{OpDecision1, 1, true},
	{OpBilling, 2, false},
}

// Assumptions of the cost model that no benchmark measures.
const (
	MemoryGB       = 0.25    // a function's memory unless its spec says otherwise (infra/cdk/functions.go: 256 MB)
	DocumentBytes  = 1 << 20 // each of the two documents
	StorageMonths  = 12      // documents and records kept a year
	RecordBytes    = 8 << 10 // the customer's DynamoDB items after a verification (record, documents, submission, audit, order, hold)
	LogBytesPerReq = 1500    // CloudWatch log bytes per invocation (JSON lines) and per API access log entry
	// Messages through SQS: OrderPlaced to the intake, two S3
	// notifications to the validator, two notices, two billing commands;
	// each sent, received and deleted.
	SQSRequests = 7 * 3
	// Events that billing itself puts on the bus (OrderPlaced).
	BillingEvents = 1
	// Downloads of the two documents by the reviewer.
	ReviewerGets = 2
	// Uploads of the two documents by the customer (presigned POST).
	CustomerPosts = 2
)

// Latency assumed per AWS call inside a region when estimating a Lambda's
// billed duration: in-process times against the emulator are not AWS's
// (moto copies the whole table on every transaction).
var callLatencyMS = map[string]float64{
	"DynamoDB.TransactWriteItems": 15,
	"EventBridge.PutEvents":       20,
	"S3.GetObject":                20,
	"S3.PutObjectTagging":         20,
	"SESv2.SendEmail":             50,
	"KMS.GenerateDataKey":         10,
	"KMS.Decrypt":                 10,
}

// DefaultCallLatencyMS is the latency of any other call (DynamoDB's
// single-item reads and writes, a Query).
const DefaultCallLatencyMS = 6

// ComputeMS is the time assumed for the function's own work per invocation.
const ComputeMS = 5

// EstimatedMS is the billed duration assumed for one invocation of op: its
// calls one after another at the latencies above, plus ComputeMS, rounded up
// to a millisecond.
func EstimatedMS(op OpResult) float64 {
	total := float64(ComputeMS)
	for call, n := range op.Calls {
		l, ok := callLatencyMS[call]
		if !ok {
			l = DefaultCallLatencyMS
		}
		total += l * float64(n)
	}
	return math.Ceil(total)
}

// memoryGB is a function's memory: its spec's (the validator decodes images
// in 512 MB), else MemoryGB.
func memoryGB(function string) float64 {
	for _, spec := range contract.Specs {
		if spec.Name == function && spec.MemoryMB > 0 {
			return float64(spec.MemoryMB) / 1024
		}
	}
	return MemoryGB
}

// CostLine is one line of the cost of a verification.
type CostLine struct {
	Service  string
	Quantity string
	USD      float64
}

// Cost is the cost of one verification.
type Cost struct {
	Lines   []CostLine
	Total   float64
	Missing []string // operations of the flow without a measurement
	// WorstLambda is Lambda's cost if every invocation were a cold start
	// billed 300 ms more.
	ColdExtraUSD float64
}

// VerificationCost prices one verification (Flow) from the measured calls.
func VerificationCost(ops []OpResult) Cost {
	byName := map[string]OpResult{}
	for _, o := range ops {
		byName[o.Name] = o
	}
	var (
		c                                       Cost
		invocations, apiRequests                int
		gbSeconds, rru, wru                     float64
		kms, s3put, s3get, events, emails, sqsN int
	)
	for _, f := range Flow {
		o, ok := byName[f.Op]
		if !ok {
			c.Missing = append(c.Missing, f.Op)
			continue
		}
		invocations += f.Times
		if f.API {
			apiRequests += f.Times
		}
		gbSeconds += float64(f.Times) * EstimatedMS(o) / 1000 * memoryGB(o.Function)
		rru += float64(f.Times) * o.Capacity.RRU
		wru += float64(f.Times) * o.Capacity.WRU
		events += f.Times * o.Capacity.Events
		for call, n := range o.Calls {
			switch {
			case strings.HasPrefix(call, "KMS."):
				kms += f.Times * n
			case call == "S3.GetObject" || call == "S3.HeadObject":
				s3get += f.Times * n
			case strings.HasPrefix(call, "S3.Delete"):
			case strings.HasPrefix(call, "S3."):
				s3put += f.Times * n
			case call == "SESv2.SendEmail":
				emails += f.Times * n
			}
		}
	}
	s3put += CustomerPosts
	s3get += ReviewerGets
	events += BillingEvents
	sqsN = SQSRequests
	p := Prices
	storageGB := float64(2*DocumentBytes) / (1 << 30)
	recordGB := float64(RecordBytes) / (1 << 30)
	logGB := float64((invocations+apiRequests)*LogBytesPerReq) / (1 << 30)
	add := func(service, qty string, usd float64) {
		c.Lines = append(c.Lines, CostLine{service, qty, usd})
		c.Total += usd
	}
	add("Lambda compute", fmt.Sprintf("%.4f GB-s (%d invocations at 256 MB, the validator's at 512 MB, estimated durations)", gbSeconds, invocations), gbSeconds*p.LambdaGBs)
	add("Lambda requests", fmt.Sprintf("%d", invocations), float64(invocations)*p.LambdaRequest)
	add("API Gateway HTTP API", fmt.Sprintf("%d requests", apiRequests), float64(apiRequests)*p.HTTPAPIRequest)
	add("DynamoDB reads", fmt.Sprintf("%.1f RRU", rru), rru*p.RRU)
	add("DynamoDB writes", fmt.Sprintf("%.1f WRU", wru), wru*p.WRU)
	add("DynamoDB storage and PITR, a year", fmt.Sprintf("%d KB × %d months", RecordBytes>>10, StorageMonths),
		recordGB*StorageMonths*(p.DDBStorageGBMonth+p.PITRGBMonth))
	add("KMS requests", fmt.Sprintf("%d (S3 Bucket Keys make SSE-KMS's own KMS calls negligible)", kms), float64(kms)*p.KMSRequest)
	add("S3 PUT-class requests", fmt.Sprintf("%d (2 uploads, the reviewed copy, tagging)", s3put), float64(s3put)*p.S3Put)
	add("S3 GET-class requests", fmt.Sprintf("%d (validation reads, reviewer downloads)", s3get), float64(s3get)*p.S3Get)
	add("S3 storage, a year", fmt.Sprintf("2 documents × %d MB × %d months", DocumentBytes>>20, StorageMonths), storageGB*StorageMonths*p.S3GBMonth)
	add("EventBridge events", fmt.Sprintf("%d", events), float64(events)*p.Event)
	add("SQS requests", fmt.Sprintf("%d (7 messages: send, receive, delete)", sqsN), float64(sqsN)*p.SQSRequest)
	add("SES e-mails", fmt.Sprintf("%d", emails), float64(emails)*p.SESEmail)
	add("CloudWatch Logs ingestion", fmt.Sprintf("%.0f KB", float64((invocations+apiRequests)*LogBytesPerReq)/1024), logGB*p.LogsGB)
	c.ColdExtraUSD = float64(invocations) * 0.3 * MemoryGB * p.LambdaGBs
	return c
}
