package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Bus is the custom EventBridge bus and its three rules, each delivering to
// the work queue of one function (docs/architecture.md: every asynchronous
// consumer reads an SQS queue).
type Bus struct {
	constructs.Construct
	Bus   awsevents.EventBus
	Rules map[string]awsevents.Rule // by consuming function
}

// busRoute is one rule: events of a source and detail-types to a function's queue.
type busRoute struct {
	id          string
	description string
	source      string
	detailTypes []kyc.EventType
	function    string
}

var busRoutes = []busRoute{
	{"BillingEvents", "Billing-system events (orders, cancellations, expiries) to billing-intake",
		contract.SourceBilling, kyc.BillingEvents, contract.FunctionBillingIntake},
	{"ServiceCommands", "Provision/suspend/unsuspend/extend commands to billing-adapter",
		contract.SourceKYC, kyc.ServiceCommands, contract.FunctionBillingAdapter},
	{"CustomerNotices", "KYC status notices to notifier (e-mail, billing ticket)",
		contract.SourceKYC, kyc.CustomerNotices, contract.FunctionNotifier},
}

// Delivery retries of a rule target: EventBridge's maximum, since the only
// target is SQS and any failure there (throttling, KMS) is transient; what
// still fails goes to the rule's DLQ.
const (
	ruleRetryAttempts = 185
	ruleMaxEventAge   = 24 // hours
)

func newBus(scope constructs.Construct, id string, queues *Queues) *Bus {
	c := constructs.NewConstruct(scope, jsii.String(id))
	bus := awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		Description: jsii.String("KYC gate: billing-system events in, KYC and service-command events out"),
	})
	b := &Bus{Construct: c, Bus: bus, Rules: map[string]awsevents.Rule{}}
	for _, r := range busRoutes {
		types := make([]*string, len(r.detailTypes))
		for i, t := range r.detailTypes {
			types[i] = jsii.String(string(t))
		}
		dlq := queues.newDLQ(c, r.id+"DLQ", "events of rule "+r.id+" that EventBridge could not deliver to the "+r.function+" queue", true)
		rule := awsevents.NewRule(c, jsii.String(r.id+"Rule"), &awsevents.RuleProps{
			EventBus:    bus,
			Description: jsii.String(r.description),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(r.source),
				DetailType: &types,
			},
		})
		rule.AddTarget(awseventstargets.NewSqsQueue(queues.Work[r.function].Queue, &awseventstargets.SqsQueueProps{
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(ruleRetryAttempts),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(ruleMaxEventAge)),
		}))
		b.Rules[r.function] = rule
	}
	return b
}

// grantPut allows events:PutEvents on this bus only.
func (b *Bus) grantPut(g awsiam.IGrantable) {
	b.Bus.GrantPutEventsTo(g, nil)
}
