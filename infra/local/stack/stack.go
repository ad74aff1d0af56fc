// Package stack creates, on an AWS emulator and through the SDK, the resources
// a synthesized CloudFormation template (cdk.out/KycGate.template.json)
// describes, and reads from it how the functions are wired: their
// environment, queue triggers, schedule and HTTP routes.
//
// The emulator's own CloudFormation is not used (moto's crashes on a rule on
// a custom bus and drops bucket policies, public access blocks and table
// settings); the template is interpreted here instead, one rule per resource
// type:
//
//   - created: KMS keys and aliases, S3 buckets (encryption, versioning,
//     lifecycle, CORS) and their notifications (CDK's
//     Custom::S3BucketNotifications), DynamoDB tables (keys, GSIs, SSE, TTL,
//     PITR), SQS queues (redrive) and queue policies, EventBridge buses and
//     rules with their SQS targets, Secrets Manager secrets (generated values
//     included), SES email identities, SNS topics;
//   - interpreted, not created: Lambda functions tagged contract.TagFunction
//     (environment, timeout, memory), their SQS event source mappings,
//     EventBridge Scheduler schedules, HTTP API routes, integrations and the
//     JWT authorizer;
//   - skipped, with the reason recorded: IAM, logs, alarms, Lambda
//     permissions, the API stage, CDK metadata, CDK's own provider functions;
//   - not applied on the emulator, with the reason recorded: bucket policies
//     (a non-StringEquals Deny makes moto refuse every object request), public
//     access blocks, ownership controls, access logging, key policies, table
//     deletion protection, rule retry policies and dead-letter targets.
//
// A resource type with no rule is an error naming the resource, so a new
// resource in the stack is never silently missing locally.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kycgate/kycgate/shared/contract"
)

// Options of a deployment.
type Options struct {
	// Prefix starts every physical name (and is the stack name). Deployments
	// with different prefixes never share a resource. Required.
	Prefix string
	// Parameters sets template parameters; the others take their Default.
	Parameters map[string]string
}

// Stack is what Deploy created and found. It is saved as JSON (Save, Load) so
// that other local commands can find a running stack.
type Stack struct {
	Prefix   string `json:"prefix"`
	Endpoint string `json:"endpoint"` // the emulator's base endpoint
	Region   string `json:"region"`
	Account  string `json:"account"`

	// Functions by name (the value of their contract.TagFunction tag).
	Functions map[string]*Function `json:"functions"`
	// Authorizer is the HTTP API's JWT authorizer, if the template has one.
	Authorizer *Authorizer `json:"authorizer,omitempty"`

	// Resources by logical id: every resource created or interpreted.
	Resources map[string]Resource `json:"resources"`
	// Created lists the logical ids created on the emulator, in creation
	// order; Destroy removes them in reverse.
	Created []string `json:"created"`
	// Skipped lists the resources deliberately not created, and why.
	Skipped []Skipped `json:"skipped"`
	// NotApplied lists the settings (or whole resources) of the template that
	// the emulator does not get, and why.
	NotApplied []Note `json:"notApplied"`

	cfg *aws.Config
}

// Resource is one resource of the template as it exists on the emulator.
type Resource struct {
	Type string `json:"type"`
	// PhysicalID is what Ref returns: a bucket, table, bus or function name,
	// a queue URL, a key id, a secret or topic ARN.
	PhysicalID string `json:"physicalId"`
	// Attrs are the Fn::GetAtt attributes (Arn, QueueUrl, KeyId, ...).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Function is a Lambda function of the template, as the local runner needs it.
type Function struct {
	Name      string `json:"name"`      // contract name, e.g. "customer-api"
	LogicalID string `json:"logicalId"` // in the template
	// PhysicalName is what Ref on the function resolves to locally.
	PhysicalName string            `json:"physicalName"`
	Env          map[string]string `json:"env"` // every intrinsic resolved to the emulator's names
	Timeout      time.Duration     `json:"timeout"`
	MemoryMB     int               `json:"memoryMB"`
	Queues       []QueueTrigger    `json:"queues,omitempty"`
	Schedule     *Schedule         `json:"schedule,omitempty"`
	Routes       []Route           `json:"routes,omitempty"`
}

// QueueTrigger is an SQS event source mapping of a function.
type QueueTrigger struct {
	URL                     string `json:"url"`
	ARN                     string `json:"arn"`
	BatchSize               int    `json:"batchSize"`
	ReportBatchItemFailures bool   `json:"reportBatchItemFailures"`
	// Concurrency is how many batches run at once: the mapping's
	// ScalingConfig.MaximumConcurrency, else DefaultQueueConcurrency.
	Concurrency int `json:"concurrency"`
}

// DefaultQueueConcurrency is how many batches of a queue run at once when
// the mapping sets no maximum: Lambda starts an SQS event source with five
// concurrent batches (and scales up from there; the local stack stays at
// five).
const DefaultQueueConcurrency = 5

// Schedule is how often a function is invoked (EventBridge Scheduler, or a
// scheduled EventBridge rule).
type Schedule struct {
	Expression string        `json:"expression"` // as in the template: rate(15 minutes)
	Every      time.Duration `json:"every"`      // zero for cron() and at() expressions
	// Input is the payload as the template gives it; Event fills in the
	// scheduler's context attributes.
	Input string `json:"input,omitempty"`
	ARN   string `json:"arn"` // of the schedule (or scheduled rule)
}

// Event returns the payload the function receives for the invocation
// scheduled at: Input with EventBridge Scheduler's context attributes
// (<aws.scheduler.scheduled-time>, -execution-id, -schedule-arn,
// -attempt-number) filled in, or "{}" when the schedule has no input.
func (s *Schedule) Event(at time.Time) string {
	if s.Input == "" {
		return "{}"
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	return strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		"<aws.scheduler.schedule-arn>", s.ARN,
		"<aws.scheduler.attempt-number>", "1",
	).Replace(s.Input)
}

// Route is an HTTP API route served by a function.
type Route struct {
	Key  string        `json:"key"`  // "GET /v1/kyc/status"
	Auth contract.Auth `json:"auth"` // contract.AuthJWT or contract.AuthNone
}

// Authorizer is the HTTP API's JWT authorizer.
type Authorizer struct {
	Issuer   string   `json:"issuer"`
	Audience []string `json:"audience"`
}

// Skipped is a resource deliberately not created on the emulator.
type Skipped struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	Reason    string `json:"reason"`
}

// Note is a setting (What) of a resource that the emulator does not get.
type Note struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	What      string `json:"what"`
	Reason    string `json:"reason"`
}

// DefaultFile is where the local stack is saved, relative to the module
// root, so that the local commands (dev, token, invoke) find it.
const DefaultFile = ".local/stack.json"

// PhysicalID returns what Ref on a logical id resolves to locally ("" if
// the resource was neither created nor interpreted).
func (s *Stack) PhysicalID(logicalID string) string { return s.Resources[logicalID].PhysicalID }

// FunctionNames returns the names of the functions, sorted.
func (s *Stack) FunctionNames() []string {
	names := make([]string, 0, len(s.Functions))
	for n := range s.Functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Attach sets the SDK configuration Destroy uses on a stack read by Load.
func (s *Stack) Attach(cfg aws.Config) { s.cfg = &cfg }

// Save writes the stack as JSON to path (creating its directory), atomically.
func (s *Stack) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save stack: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save stack: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stack-*.json")
	if err != nil {
		return fmt.Errorf("save stack: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save stack: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save stack: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save stack: %w", err)
	}
	return nil
}

// Load reads a stack saved by Save. To Destroy it, Attach a configuration
// for its Endpoint first.
func Load(path string) (*Stack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load stack: %s does not exist (is the local stack running? start it with make dev)", path)
		}
		return nil, fmt.Errorf("load stack: %w", err)
	}
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("load stack %s: %w", path, err)
	}
	return &s, nil
}

// Destroy removes, in reverse creation order, every resource Deploy created.
// A resource already gone is not an error, so Destroy can be repeated. It
// keeps going past failures and reports them all.
func (s *Stack) Destroy(ctx context.Context) error {
	if s.cfg == nil {
		return errors.New("destroy stack: no AWS configuration (Attach one to a loaded stack)")
	}
	c := newClients(*s.cfg)
	var errs []error
	var left []string // what could not be removed, for a later Destroy
	for i := len(s.Created) - 1; i >= 0; i-- {
		id := s.Created[i]
		res := s.Resources[id]
		h, _ := handlerFor(res.Type)
		if h.destroy == nil {
			continue
		}
		if err := h.destroy(ctx, c, res); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("destroy %s (%s %s): %w", id, res.Type, res.PhysicalID, err))
			left = append([]string{id}, left...)
		}
	}
	s.Created = left
	return errors.Join(errs...)
}
