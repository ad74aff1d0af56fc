package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/kycgate/kycgate/shared/contract"
)

// maxReceiveCount is how often a message is tried before it moves to the DLQ.
const maxReceiveCount = 5

// sqsFedFunctions are the functions that consume a queue of their own.
var sqsFedFunctions = []string{
	contract.FunctionValidator,
	contract.FunctionBillingIntake,
	contract.FunctionBillingAdapter,
	contract.FunctionNotifier,
}

// WorkQueue is a function's input queue and the DLQ its poisoned messages
// move to after maxReceiveCount receives.
type WorkQueue struct {
	Queue awssqs.Queue
	DLQ   awssqs.Queue
}

// Queues holds every SQS queue of the stack: one work queue per SQS-fed
// function and every dead-letter queue (including those of the bus rules, the
// scheduler and the sweep), so the alarms can watch all DLQs.
type Queues struct {
	constructs.Construct
	keys *Keys
	Work map[string]WorkQueue
	// DLQs lists every dead-letter queue in creation order.
	DLQs []awssqs.Queue
}

func newQueues(scope constructs.Construct, id string, keys *Keys) *Queues {
	c := constructs.NewConstruct(scope, jsii.String(id))
	q := &Queues{Construct: c, keys: keys, Work: map[string]WorkQueue{}}
	for _, fn := range sqsFedFunctions {
		name := constructID(fn)
		dlq := q.newDLQ(c, name+"DLQ", "redrive DLQ of the "+fn+" queue", false)
		queue := awssqs.NewQueue(c, jsii.String(name+"Queue"), &awssqs.QueueProps{
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: keys.Data,
			EnforceSSL:          jsii.Bool(true),
			// AWS: at least 6x the function timeout, so a batch being retried
			// by the poller is not handed to a second invocation meanwhile.
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * functionTimeoutSeconds(fn))),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
			DeadLetterQueue: &awssqs.DeadLetterQueue{
				Queue:           dlq,
				MaxReceiveCount: jsii.Number(maxReceiveCount),
			},
		})
		q.Work[fn] = WorkQueue{Queue: queue, DLQ: dlq}
	}
	return q
}

// newDLQ creates a dead-letter queue (CMK-encrypted, TLS-only, 14 days of
// retention so a long weekend does not lose anything) and registers it for
// the depth alarm. notQueueRedrive says its producer is not an SQS redrive or
// a Lambda DeadLetterConfig (an EventBridge rule target, the scheduler), which
// cdk-nag cannot recognise as a DLQ user.
func (q *Queues) newDLQ(scope constructs.Construct, id, purpose string, notQueueRedrive bool) awssqs.Queue {
	dlq := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: q.keys.Data,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
	})
	sup := []*cdknag.NagPackSuppression{{
		Id: jsii.String("Serverless-SQSRedrivePolicy"),
		Reason: jsii.String(fmt.Sprintf("This queue is itself a dead-letter queue (%s). A DLQ of a DLQ would only move the "+
			"problem; instead an alarm fires on ApproximateNumberOfMessagesVisible > 0 and messages are kept 14 days for inspection and redrive.", purpose)),
	}}
	if notQueueRedrive {
		sup = append(sup, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String(fmt.Sprintf("This queue is a dead-letter queue (%s); cdk-nag only recognises DLQs referenced by an "+
				"SQS redrive policy or a Lambda DeadLetterConfig. Its depth is alarmed.", purpose)),
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &sup, jsii.Bool(false))
	q.DLQs = append(q.DLQs, dlq)
	return dlq
}
