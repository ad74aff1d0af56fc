package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kycgate/kycgate/shared/awsenv"
)

// DefaultAccount is the account the pseudo parameter AWS::AccountId takes
// when the emulator cannot tell (moto's default account).
const DefaultAccount = "123456789012"

// Deploy creates on the emulator that cfg points to the resources the
// synthesized template describes, in dependency order, and interprets the
// functions' wiring. If any step fails, what was created is removed again
// and the error names the resource (and the property path) at fault.
func Deploy(ctx context.Context, cfg aws.Config, template []byte, opts Options) (*Stack, error) {
	if opts.Prefix == "" {
		return nil, errors.New("deploy: Options.Prefix is required")
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint == "" {
		// A configuration without an endpoint reaches real AWS.
		return nil, errors.New("deploy: the AWS configuration names no emulator (BaseEndpoint is unset); the local stack is never created in a real account")
	}
	if cfg.Region == "" {
		return nil, errors.New("deploy: the AWS configuration has no region")
	}
	tpl, err := parseTemplate(template)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	d := &deployer{
		tpl:        tpl,
		c:          newClients(cfg),
		phys:       map[string]physical{},
		skipped:    map[string]string{},
		queueByARN: map[string]string{},
		fnByRef:    map[string]*Function{},
		fnOfInteg:  map[string]*Function{},
		st: &Stack{
			Prefix:    opts.Prefix,
			Endpoint:  *cfg.BaseEndpoint,
			Region:    cfg.Region,
			Account:   account(ctx, cfg),
			Functions: map[string]*Function{},
			Resources: map[string]Resource{},
			cfg:       &cfg,
		},
	}
	d.res = &resolver{
		pseudo: map[string]any{
			"AWS::Region":           d.st.Region,
			"AWS::AccountId":        d.st.Account,
			"AWS::Partition":        "aws",
			"AWS::URLSuffix":        "amazonaws.com",
			"AWS::StackName":        opts.Prefix,
			"AWS::StackId":          fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", d.st.Region, d.st.Account, opts.Prefix),
			"AWS::NotificationARNs": []any{},
		},
		params:     tpl.Parameters,
		overrides:  opts.Parameters,
		conditions: tpl.Conditions,
		mappings:   tpl.Mappings,
		resource:   d.lookup,
	}
	if err := d.run(ctx); err != nil {
		if derr := d.st.Destroy(ctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("and removing what was created: %w", derr))
		}
		return nil, fmt.Errorf("deploy %s: %w", opts.Prefix, err)
	}
	return d.st, nil
}

// account asks the emulator which account it runs (moto: 123456789012,
// LocalStack: 000000000000).
func account(ctx context.Context, cfg aws.Config) string {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || out.Account == nil {
		return DefaultAccount
	}
	return *out.Account
}

type deployer struct {
	tpl *template
	res *resolver
	c   *clients
	st  *Stack

	phys       map[string]physical  // created and interpreted resources
	skipped    map[string]string    // logical id → why it is not on the emulator
	queueByARN map[string]string    // queue ARN → URL
	fnByRef    map[string]*Function // function physical name and ARN → function
	fnOfInteg  map[string]*Function // API integration id → function
}

// errSkip from a handler means: not a resource of the local stack; record why.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

func (d *deployer) run(ctx context.Context) error {
	var ids, unknown []string
	deps := map[string][]string{}
	for _, id := range sortedKeys(d.tpl.Resources) {
		r := d.tpl.Resources[id]
		if r.Condition != "" {
			ok, err := d.res.condition(r.Condition)
			if err != nil {
				return fmt.Errorf("resource %s: Condition: %w", id, err)
			}
			if !ok {
				d.skip(id, r.Type, "condition "+r.Condition+" is false")
				continue
			}
		}
		if reason, ok := ignored(r.Type); ok {
			d.skip(id, r.Type, reason)
			continue
		}
		if _, ok := handlerFor(r.Type); !ok {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", id, r.Type))
			continue
		}
		refs := map[string]bool{}
		references(r.Properties, refs)
		explicit, err := r.dependsOn()
		if err != nil {
			return fmt.Errorf("resource %s: %w", id, err)
		}
		for _, e := range explicit {
			refs[e] = true
		}
		deps[id] = sortedKeys(refs)
		ids = append(ids, id)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the local stack has no rule for %s: add one to infra/local/stack (create, interpret, or ignore with a reason)", strings.Join(unknown, ", "))
	}
	ordered, err := order(ids, deps)
	if err != nil {
		return err
	}
	for _, id := range ordered {
		r := d.tpl.Resources[id]
		h, _ := handlerFor(r.Type)
		err := h.apply(ctx, d, id, r)
		var skip errSkip
		if errors.As(err, &skip) {
			d.skip(id, r.Type, skip.reason)
			continue
		}
		if err != nil {
			return fmt.Errorf("resource %s (%s): %w", id, r.Type, err)
		}
	}
	return nil
}

func (d *deployer) skip(id, typ, reason string) {
	d.skipped[id] = reason
	d.st.Skipped = append(d.st.Skipped, Skipped{LogicalID: id, Type: typ, Reason: reason})
}

func (d *deployer) note(id, what, reason string) {
	d.st.NotApplied = append(d.st.NotApplied, Note{LogicalID: id, Type: d.tpl.Resources[id].Type, What: what, Reason: reason})
}

// created records a resource made on the emulator (before anything else can
// fail, so a failed Deploy removes it again).
func (d *deployer) created(id string, ph physical) {
	d.interpreted(id, ph)
	d.st.Created = append(d.st.Created, id)
}

// interpreted records a resource that exists only in the Stack.
func (d *deployer) interpreted(id string, ph physical) {
	d.phys[id] = ph
	d.st.Resources[id] = Resource{Type: d.tpl.Resources[id].Type, PhysicalID: ph.Ref, Attrs: ph.Attrs}
}

// lookup is the resolver's view of the resources.
func (d *deployer) lookup(id string) (physical, error) {
	if ph, ok := d.phys[id]; ok {
		return ph, nil
	}
	r, ok := d.tpl.Resources[id]
	if !ok {
		return physical{}, fmt.Errorf("%s is neither a resource nor a parameter of the template", id)
	}
	if reason, ok := d.skipped[id]; ok {
		return physical{}, fmt.Errorf("%s (%s) is not on the emulator: %s", id, r.Type, reason)
	}
	return physical{}, fmt.Errorf("%s (%s) has not been created yet (a dependency the deployer missed)", id, r.Type)
}

func (d *deployer) name(rule nameRule, id, suffix string) string {
	return physicalName(rule, d.st.Prefix, id, suffix)
}

func (d *deployer) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, d.st.Region, d.st.Account, resource)
}

// props reads one resource's properties, resolving only what is read, so a
// property the emulator does not use (a role ARN, a key policy) can refer to
// resources that are not created.
type props struct {
	d    *deployer
	id   string
	raw  map[string]any
	read map[string]bool
}

func (d *deployer) props(id string, r *resource) *props {
	return &props{d: d, id: id, raw: r.Properties, read: map[string]bool{}}
}

// has reports whether the template sets the property.
func (p *props) has(name string) bool {
	_, ok := p.raw[name]
	return ok
}

// decode resolves the value at path (a property name, then keys or list
// indexes) and decodes it into v. It reports false if the path is absent.
func (p *props) decode(v any, path ...any) (bool, error) {
	raw, where, ok := p.at(path)
	if !ok {
		return false, nil
	}
	rv, err := p.d.res.resolve(raw, where)
	if err != nil {
		return false, err
	}
	if rv == noValue {
		return false, nil
	}
	b, err := json.Marshal(rv)
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	return true, nil
}

// str resolves a scalar property (or path) to a string; "" if absent.
func (p *props) str(path ...any) (string, error) {
	raw, where, ok := p.at(path)
	if !ok {
		return "", nil
	}
	rv, err := p.d.res.resolve(raw, where)
	if err != nil || rv == noValue {
		return "", err
	}
	s, err := scalar(rv)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// jsonString resolves a property that CloudFormation accepts as an object or
// a JSON string (a policy document, an event pattern) and returns the JSON.
func (p *props) jsonString(path ...any) (string, error) {
	var v any
	ok, err := p.decode(&v, path...)
	if err != nil || !ok {
		return "", err
	}
	if s, isString := v.(string); isString {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// len returns the length of a list property (0 if absent or not a list).
func (p *props) len(path ...any) int {
	raw, _, _ := p.at(path)
	list, _ := raw.([]any)
	return len(list)
}

func (p *props) at(path []any) (any, string, bool) {
	var cur any = p.raw
	where := "Properties"
	for i, step := range path {
		switch k := step.(type) {
		case string:
			if i == 0 {
				p.read[k] = true
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, where, false
			}
			if cur, ok = m[k]; !ok {
				return nil, where, false
			}
			where = join(where, k)
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil, where, false
			}
			cur = l[k]
			where = fmt.Sprintf("%s[%d]", where, k)
		}
	}
	return cur, where, true
}

// unread records a note for every property the handler did not read, except
// those listed as irrelevant on the emulator (tags, descriptions, names the
// deployer derives itself).
func (p *props) unread(reason string, irrelevant ...string) {
	skip := map[string]bool{}
	for _, k := range irrelevant {
		skip[k] = true
	}
	for _, k := range sortedKeys(p.raw) {
		if !p.read[k] && !skip[k] {
			p.d.note(p.id, k, reason)
		}
	}
}

// flexInt decodes a number given as a JSON number or string ("10").
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*f = flexInt(n)
	return nil
}

// flexBool decodes a boolean given as a JSON boolean or string ("true").
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseBool(strings.Trim(string(b), `"`))
	if err != nil {
		return fmt.Errorf("%s is not a boolean", b)
	}
	*f = flexBool(v)
	return nil
}

type clients struct {
	s3      *s3.Client
	ddb     *dynamodb.Client
	sqs     *sqs.Client
	kms     *kms.Client
	events  *eventbridge.Client
	secrets *secretsmanager.Client
	ses     *sesv2.Client
	sns     *sns.Client
}

func newClients(cfg aws.Config) *clients {
	return &clients{
		s3:      awsenv.S3(cfg),
		ddb:     dynamodb.NewFromConfig(cfg),
		sqs:     sqs.NewFromConfig(cfg),
		kms:     kms.NewFromConfig(cfg),
		events:  eventbridge.NewFromConfig(cfg),
		secrets: secretsmanager.NewFromConfig(cfg),
		ses:     sesv2.NewFromConfig(cfg),
		sns:     sns.NewFromConfig(cfg),
	}
}

// isNotFound reports an error saying the resource is already gone.
func isNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NoSuchBucket", "ResourceNotFoundException", "NotFoundException", "NotFound",
		"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist":
		return true
	}
	return false
}

// handler is the rule for one resource type.
type handler struct {
	// apply creates the resource on the emulator (and calls d.created) or
	// interprets it (and calls d.interpreted), or returns errSkip.
	apply func(ctx context.Context, d *deployer, id string, r *resource) error
	// destroy removes a created resource; nil for interpreted ones.
	destroy func(ctx context.Context, c *clients, res Resource) error
}

func handlerFor(typ string) (handler, bool) {
	switch typ {
	case "AWS::KMS::Key":
		return handler{applyKey, destroyKey}, true
	case "AWS::KMS::Alias":
		return handler{applyAlias, destroyAlias}, true
	case "AWS::S3::Bucket":
		return handler{applyBucket, destroyBucket}, true
	case "AWS::S3::BucketPolicy":
		return handler{apply: applyBucketPolicy}, true
	case "Custom::S3BucketNotifications":
		return handler{apply: applyBucketNotifications}, true
	case "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable":
		return handler{applyTable, destroyTable}, true
	case "AWS::SQS::Queue":
		return handler{applyQueue, destroyQueue}, true
	case "AWS::SQS::QueuePolicy":
		return handler{apply: applyQueuePolicy}, true
	case "AWS::Events::EventBus":
		return handler{applyEventBus, destroyEventBus}, true
	case "AWS::Events::Rule":
		return handler{applyRule, destroyRule}, true
	case "AWS::SecretsManager::Secret":
		return handler{applySecret, destroySecret}, true
	case "AWS::SES::EmailIdentity":
		return handler{apply: applyEmailIdentity}, true
	case "AWS::SNS::Topic":
		return handler{applyTopic, destroyTopic}, true
	case "AWS::Lambda::Function":
		return handler{apply: applyFunction}, true
	case "AWS::Lambda::EventSourceMapping":
		return handler{apply: applyEventSourceMapping}, true
	case "AWS::Scheduler::Schedule":
		return handler{apply: applySchedule}, true
	case "AWS::ApiGatewayV2::Api":
		return handler{apply: applyAPI}, true
	case "AWS::ApiGatewayV2::Integration":
		return handler{apply: applyIntegration}, true
	case "AWS::ApiGatewayV2::Route":
		return handler{apply: applyRoute}, true
	case "AWS::ApiGatewayV2::Authorizer":
		return handler{apply: applyAuthorizer}, true
	case "AWS::Cognito::UserPool":
		return handler{apply: applyUserPool}, true
	case "AWS::Cognito::UserPoolClient":
		return handler{apply: applyUserPoolClient}, true
	}
	return handler{}, false
}

// ignoredTypes are deliberately not created on the emulator.
var ignoredTypes = map[string]string{
	"AWS::IAM::Role":                  "IAM is not enforced by the emulator; the CDK assertion tests prove least privilege",
	"AWS::IAM::Policy":                "IAM is not enforced by the emulator; the CDK assertion tests prove least privilege",
	"AWS::IAM::ManagedPolicy":         "IAM is not enforced by the emulator; the CDK assertion tests prove least privilege",
	"AWS::Lambda::Permission":         "the emulator runs no Lambda; the local runner invokes the handlers directly",
	"AWS::Lambda::EventInvokeConfig":  "asynchronous invocation settings: the local runner invokes the handlers directly",
	"AWS::Logs::LogGroup":             "local functions log to the terminal",
	"AWS::Logs::MetricFilter":         "local functions log to the terminal",
	"AWS::CloudWatch::Alarm":          "no metrics or alarms locally",
	"AWS::CloudWatch::CompositeAlarm": "no metrics or alarms locally",
	"AWS::CloudWatch::Dashboard":      "no metrics or alarms locally",
	"AWS::ApiGatewayV2::Stage":        "the dev server serves the routes on its own address",
	"AWS::CDK::Metadata":              "CDK bookkeeping",
	"AWS::SNS::Subscription":          "subscriptions deliver to real endpoints (e-mail, HTTPS); not made locally",
	"AWS::SNS::TopicPolicy":           "resource policies are not enforced by the emulator",
	"AWS::Events::EventBusPolicy":     "resource policies are not enforced by the emulator",
	"AWS::Events::Archive":            "event archives and replay are not used locally",
	"AWS::Scheduler::ScheduleGroup":   "a schedule's group only names it; schedules are read from AWS::Scheduler::Schedule",
	"Custom::LogRetention":            "CDK's log-retention custom resource; local functions log to the terminal",
	"Custom::S3AutoDeleteObjects":     "CDK's auto-delete custom resource; Destroy empties the buckets itself",
	"AWS::Cognito::UserPoolGroup":     "the dev server's local issuer puts the staff groups into the tokens it signs",
	"AWS::Cognito::UserPoolDomain":    "Cognito's hosted sign-in is not served locally; the dev server's local issuer has its own sign-in page",

	"AWS::GuardDuty::MalwareProtectionPlan": "GuardDuty cannot scan the emulator's bucket; the local runner's stand-in scanner " +
		"publishes the same scan result events on the default bus, which the template's rule routes to the validator (shared/guardduty/guarddutytest)",
}

func ignored(typ string) (string, bool) {
	reason, ok := ignoredTypes[typ]
	return reason, ok
}
