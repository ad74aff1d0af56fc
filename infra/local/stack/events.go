package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// AWS::Events::EventBus: named <prefix>-<logical id>. Ref and Name are the
// name; Arn is an attribute.
func applyEventBus(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	p.read["Name"] = true // the local name derives from the prefix
	name := d.name(nameBus, id, "")
	var arn string
	out, err := d.c.events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &name})
	var exists *types.ResourceAlreadyExistsException
	switch {
	case errors.As(err, &exists): // our own retried request made it (the name is this deployment's)
		desc, err := d.c.events.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: &name})
		if err != nil {
			return err
		}
		arn = aws.ToString(desc.Arn)
	case err != nil:
		return err
	default:
		arn = aws.ToString(out.EventBusArn)
	}
	d.created(id, physical{Ref: name, Attrs: map[string]string{"Arn": arn, "Name": name}})
	p.unread("not applied on the emulator", "Tags", "Description")
	return nil
}

func destroyEventBus(ctx context.Context, c *clients, res Resource) error {
	_, err := c.events.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(res.PhysicalID)})
	return err
}

// AWS::Events::Rule: the rule on its bus, with its event pattern and its
// targets (SQS queues and other ARNs). A target that is one of the
// functions is not put on the emulator (it runs no Lambda): on a scheduled
// rule it becomes the function's Schedule. Retry policies and dead-letter
// targets are recorded as not applied. Ref is the name ("bus|name" on a
// custom bus, as in CloudFormation); Arn is an attribute.
func applyRule(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	bus, err := p.str("EventBusName")
	if err != nil {
		return err
	}
	if bus == "" {
		bus = "default"
	}
	pattern, err := p.jsonString("EventPattern")
	if err != nil {
		return err
	}
	schedule, err := p.str("ScheduleExpression")
	if err != nil {
		return err
	}
	state, err := p.str("State")
	if err != nil {
		return err
	}
	if state == "" {
		state = string(types.RuleStateEnabled)
	}
	p.read["Name"] = true
	name := d.name(nameEventRule, id, "")
	in := &eventbridge.PutRuleInput{Name: &name, EventBusName: &bus, State: types.RuleState(state)}
	if pattern != "" {
		in.EventPattern = &pattern
	}
	if schedule != "" {
		in.ScheduleExpression = &schedule
	}
	out, err := d.c.events.PutRule(ctx, in)
	if err != nil {
		return err
	}
	busName := bus
	if i := strings.LastIndex(bus, "event-bus/"); i >= 0 {
		busName = bus[i+len("event-bus/"):]
	}
	ref := name
	if busName != "default" {
		ref = busName + "|" + name
	}
	d.created(id, physical{Ref: ref, Attrs: map[string]string{"Arn": aws.ToString(out.RuleArn), "Name": name, "EventBusName": bus}})
	if schedule != "" {
		d.note(id, "ScheduleExpression", "scheduled rules do not fire on the emulator; the local runner drives the schedule")
	}

	var targets []types.Target
	for i := 0; i < p.len("Targets"); i++ {
		t, err := ruleTarget(d, p, i)
		if err != nil {
			return err
		}
		if fn := d.fnByRef[aws.ToString(t.Arn)]; fn != nil {
			if schedule == "" {
				d.note(id, fmt.Sprintf("Targets[%d]", i), "targets function "+fn.Name+", which the emulator cannot invoke; deliver the rule to an SQS queue the function consumes")
				continue
			}
			if err := setSchedule(fn, id, schedule, aws.ToString(t.Input), aws.ToString(out.RuleArn)); err != nil {
				return err
			}
			continue
		}
		targets = append(targets, t)
	}
	if len(targets) > 0 {
		out, err := d.c.events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, EventBusName: &bus, Targets: targets})
		if err != nil {
			return fmt.Errorf("Properties.Targets: %w", err)
		}
		if out.FailedEntryCount > 0 {
			e := out.FailedEntries[0]
			return fmt.Errorf("Properties.Targets: target %s: %s %s", aws.ToString(e.TargetId), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
		}
	}
	p.unread("not applied on the emulator", "Description", "Tags", "RoleArn")
	return nil
}

// ruleTarget reads Targets[i], resolving only what the emulator uses (not
// RoleArn, which names an IAM role).
func ruleTarget(d *deployer, p *props, i int) (types.Target, error) {
	var t types.Target
	for field, into := range map[string]**string{"Id": &t.Id, "Arn": &t.Arn, "Input": &t.Input, "InputPath": &t.InputPath} {
		s, err := p.str("Targets", i, field)
		if err != nil {
			return t, err
		}
		if s != "" {
			*into = aws.String(s)
		}
	}
	var tr *struct {
		InputPathsMap map[string]string
		InputTemplate string
	}
	if _, err := p.decode(&tr, "Targets", i, "InputTransformer"); err != nil {
		return t, err
	}
	if tr != nil {
		t.InputTransformer = &types.InputTransformer{InputPathsMap: tr.InputPathsMap, InputTemplate: aws.String(tr.InputTemplate)}
	}
	group, err := p.str("Targets", i, "SqsParameters", "MessageGroupId")
	if err != nil {
		return t, err
	}
	if group != "" {
		t.SqsParameters = &types.SqsParameters{MessageGroupId: &group}
	}
	for _, f := range []string{"DeadLetterConfig", "RetryPolicy"} {
		if _, _, ok := p.at([]any{"Targets", i, f}); ok {
			d.note(p.id, fmt.Sprintf("Targets[%d].%s", i, f), "recorded, not applied: the emulator delivers each event once, with no retries or dead-lettering")
		}
	}
	return t, nil
}

func destroyRule(ctx context.Context, c *clients, res Resource) error {
	name, bus := aws.String(res.Attrs["Name"]), aws.String(res.Attrs["EventBusName"])
	out, err := c.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: name, EventBusName: bus})
	if err != nil {
		return err
	}
	if len(out.Targets) > 0 {
		ids := make([]string, 0, len(out.Targets))
		for _, t := range out.Targets {
			ids = append(ids, aws.ToString(t.Id))
		}
		if _, err := c.events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: name, EventBusName: bus, Ids: ids}); err != nil {
			return err
		}
	}
	_, err = c.events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: name, EventBusName: bus})
	return err
}
