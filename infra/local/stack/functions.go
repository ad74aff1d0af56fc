package stack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
)

// AWS::Lambda::Function is interpreted, not created: a function tagged
// contract.TagFunction becomes a Function with its environment (every
// intrinsic resolved to the emulator's names), timeout and memory. A function
// without the tag is CDK's own (a custom resource provider) and is skipped.
// Ref is <prefix>-<function name>; Arn is an attribute.
func applyFunction(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	var tags []struct{ Key, Value string }
	if _, err := p.decode(&tags, "Tags"); err != nil {
		return err
	}
	var name string
	for _, t := range tags {
		if t.Key == contract.TagFunction {
			name = t.Value
		}
	}
	if name == "" {
		return errSkip{"no " + contract.TagFunction + " tag: a function of CDK's own (such as the bucket notifications handler), not one of the system's"}
	}
	if other, dup := d.st.Functions[name]; dup {
		return fmt.Errorf("tag %s=%s is also on %s", contract.TagFunction, name, other.LogicalID)
	}
	var env struct{ Variables map[string]any }
	if _, err := p.decode(&env, "Environment"); err != nil {
		return err
	}
	fn := &Function{Name: name, LogicalID: id, Env: map[string]string{}, Timeout: 3 * time.Second, MemoryMB: 128}
	for k, v := range env.Variables {
		s, err := scalar(v)
		if err != nil {
			return fmt.Errorf("Properties.Environment.Variables.%s: %w", k, err)
		}
		fn.Env[k] = s
	}
	var timeout, memory *flexInt
	if _, err := p.decode(&timeout, "Timeout"); err != nil {
		return err
	}
	if _, err := p.decode(&memory, "MemorySize"); err != nil {
		return err
	}
	if timeout != nil {
		fn.Timeout = time.Duration(*timeout) * time.Second
	}
	if memory != nil {
		fn.MemoryMB = int(*memory)
	}
	fn.PhysicalName = d.name(nameFunction, name, "")
	arn := d.arn("lambda", "function:"+fn.PhysicalName)
	d.st.Functions[name] = fn
	d.fnByRef[fn.PhysicalName] = fn
	d.fnByRef[arn] = fn
	d.interpreted(id, physical{Ref: fn.PhysicalName, Attrs: map[string]string{"Arn": arn}})
	return nil
}

// function finds the function a FunctionName, function ARN (qualified or
// not) or API Gateway invocation URI designates.
func (d *deployer) function(ref string) (*Function, error) {
	if i := strings.Index(ref, "/functions/"); i >= 0 { // arn:aws:apigateway:...:lambda:path/2015-03-31/functions/<arn>/invocations
		ref = strings.TrimSuffix(ref[i+len("/functions/"):], "/invocations")
	}
	if fn := d.fnByRef[ref]; fn != nil {
		return fn, nil
	}
	if i := strings.LastIndex(ref, ":"); i > 0 && strings.Contains(ref[:i], ":function:") { // qualified ARN
		if fn := d.fnByRef[ref[:i]]; fn != nil {
			return fn, nil
		}
	}
	return nil, fmt.Errorf("%s is not one of the functions (tagged %s)", ref, contract.TagFunction)
}

// AWS::Lambda::EventSourceMapping from an SQS queue of the stack becomes a
// QueueTrigger of the function.
func applyEventSourceMapping(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	fnRef, err := p.str("FunctionName")
	if err != nil {
		return err
	}
	fn, err := d.function(fnRef)
	if err != nil {
		return fmt.Errorf("Properties.FunctionName: %w", err)
	}
	src, err := p.str("EventSourceArn")
	if err != nil {
		return err
	}
	url, ok := d.queueByARN[src]
	if !ok {
		return fmt.Errorf("Properties.EventSourceArn: %s is not an SQS queue of the stack (only SQS event sources run locally)", src)
	}
	var batch *flexInt
	if _, err := p.decode(&batch, "BatchSize"); err != nil {
		return err
	}
	var types []string
	if _, err := p.decode(&types, "FunctionResponseTypes"); err != nil {
		return err
	}
	enabled := flexBool(true)
	if _, err := p.decode(&enabled, "Enabled"); err != nil {
		return err
	}
	d.interpreted(id, physical{Ref: id})
	if !enabled {
		d.note(id, "Enabled", "the mapping is disabled in the template; the function gets no trigger from "+src)
		return nil
	}
	var maxConcurrency *flexInt
	if _, err := p.decode(&maxConcurrency, "ScalingConfig", "MaximumConcurrency"); err != nil {
		return err
	}
	t := QueueTrigger{URL: url, ARN: src, BatchSize: 10, Concurrency: DefaultQueueConcurrency}
	if batch != nil {
		t.BatchSize = int(*batch)
	}
	if maxConcurrency != nil && *maxConcurrency > 0 {
		t.Concurrency = int(*maxConcurrency)
	}
	for _, rt := range types {
		if rt == "ReportBatchItemFailures" {
			t.ReportBatchItemFailures = true
		}
	}
	fn.Queues = append(fn.Queues, t)
	return nil
}

// AWS::Scheduler::Schedule that targets a function becomes its Schedule.
// Retry policy and dead-letter queue are recorded as not applied.
func applySchedule(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	expr, err := p.str("ScheduleExpression")
	if err != nil {
		return err
	}
	target, err := p.str("Target", "Arn")
	if err != nil {
		return err
	}
	fn, err := d.function(target)
	if err != nil {
		return fmt.Errorf("Properties.Target.Arn: %w", err)
	}
	input, err := p.str("Target", "Input")
	if err != nil {
		return err
	}
	state, err := p.str("State")
	if err != nil {
		return err
	}
	name := d.name(nameEventRule, id, "")
	arn := d.arn("scheduler", "schedule/default/"+name)
	d.interpreted(id, physical{Ref: name, Attrs: map[string]string{"Arn": arn}})
	if state == "DISABLED" {
		d.note(id, "State", "the schedule is disabled in the template; "+fn.Name+" gets no schedule")
		return nil
	}
	for _, f := range []string{"RetryPolicy", "DeadLetterConfig"} {
		if _, _, ok := p.at([]any{"Target", f}); ok {
			d.note(id, "Target."+f, "recorded, not applied: the local runner invokes the function once per tick")
		}
	}
	return setSchedule(fn, id, expr, input, arn)
}

func setSchedule(fn *Function, id, expr, input, arn string) error {
	if fn.Schedule != nil {
		return fmt.Errorf("function %s already has the schedule %s; a second one (%s) cannot be represented", fn.Name, fn.Schedule.Expression, id)
	}
	every, err := ParseRate(expr)
	if err != nil {
		return err
	}
	fn.Schedule = &Schedule{Expression: expr, Every: every, Input: input, ARN: arn}
	return nil
}

var rateExpr = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$`)

// ParseRate returns the interval of a rate(N minutes|hours|days) schedule
// expression (singular units too), and zero for cron() and at() expressions,
// whose times the local runner does not model.
func ParseRate(expr string) (time.Duration, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "cron(") || strings.HasPrefix(expr, "at(") {
		return 0, nil
	}
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule expression %q: want rate(N minutes|hours|days), cron(...) or at(...)", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule expression %q: the rate must be a positive integer", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}

// AWS::ApiGatewayV2::Api is interpreted: the dev server plays it. Ref and
// ApiId are an id derived from the logical id.
func applyAPI(_ context.Context, d *deployer, id string, _ *resource) error {
	apiID := d.name(nameFunction, id, "")
	d.interpreted(id, physical{Ref: apiID, Attrs: map[string]string{"ApiId": apiID,
		"ApiEndpoint": fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com", apiID, d.st.Region)}})
	return nil
}

// AWS::ApiGatewayV2::Integration: which function serves the routes that
// target it. Ref is the logical id.
func applyIntegration(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	uri, err := p.str("IntegrationUri")
	if err != nil {
		return err
	}
	fn, err := d.function(uri)
	if err != nil {
		return fmt.Errorf("Properties.IntegrationUri: %w", err)
	}
	d.fnOfInteg[id] = fn
	d.interpreted(id, physical{Ref: id})
	return nil
}

// AWS::ApiGatewayV2::Route becomes a Route of the function its integration
// names, with its authorization type (JWT → contract.AuthJWT, NONE →
// contract.AuthNone).
func applyRoute(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	key, err := p.str("RouteKey")
	if err != nil {
		return err
	}
	target, err := p.str("Target")
	if err != nil {
		return err
	}
	integ, ok := strings.CutPrefix(target, "integrations/")
	fn := d.fnOfInteg[integ]
	if !ok || fn == nil {
		return fmt.Errorf("Properties.Target: %q does not name an integration with a function", target)
	}
	auth, err := p.str("AuthorizationType")
	if err != nil {
		return err
	}
	switch auth {
	case "JWT":
		auth = string(contract.AuthJWT)
	case "", "NONE":
		auth = string(contract.AuthNone)
	default:
		return fmt.Errorf("Properties.AuthorizationType: %s is not served locally (JWT or NONE)", auth)
	}
	fn.Routes = append(fn.Routes, Route{Key: key, Auth: contract.Auth(auth)})
	d.interpreted(id, physical{Ref: id})
	return nil
}

// AWS::ApiGatewayV2::Authorizer of type JWT becomes the Stack's Authorizer.
func applyAuthorizer(_ context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	typ, err := p.str("AuthorizerType")
	if err != nil {
		return err
	}
	if typ != "JWT" {
		return fmt.Errorf("Properties.AuthorizerType: %s is not served locally (JWT only)", typ)
	}
	var jwt struct {
		Issuer   string
		Audience []string
	}
	if _, err := p.decode(&jwt, "JwtConfiguration"); err != nil {
		return err
	}
	if jwt.Issuer == "" {
		return errors.New("Properties.JwtConfiguration.Issuer: missing")
	}
	if d.st.Authorizer != nil {
		return errors.New("a second JWT authorizer: the local stack models one")
	}
	d.st.Authorizer = &Authorizer{Issuer: jwt.Issuer, Audience: jwt.Audience}
	d.interpreted(id, physical{Ref: id, Attrs: map[string]string{"AuthorizerId": id}})
	return nil
}
