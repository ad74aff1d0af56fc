package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Sweep schedule settings.
const (
	sweepRate             = "rate(5 minutes)"
	sweepRetryAttempts    = 3
	sweepMaxEventAgeSec   = 300 // a sweep older than the next one is pointless
	schedulerExecutionID  = "<aws.scheduler.execution-id>"
	schedulerScheduledAt  = "<aws.scheduler.scheduled-time>"
	schedulerScheduleARN  = "<aws.scheduler.schedule-arn>"
	scheduledEventVersion = "0"
)

// SweepSchedule is the EventBridge Scheduler schedule that invokes the sweep
// every five minutes with an EventBridge-shaped "Scheduled Event" whose time is
// the scheduled time (the sweep's "now").
type SweepSchedule struct {
	constructs.Construct
	Schedule awsscheduler.CfnSchedule
	Role     awsiam.Role
	DLQ      awssqs.Queue
}

func newSweepSchedule(scope constructs.Construct, id string, sweep awslambda.Function, keys *Keys, queues *Queues) *SweepSchedule {
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)

	dlq := queues.newDLQ(c, "DLQ", "sweep invocations EventBridge Scheduler could not deliver after its retries", true)

	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}),
		Description: jsii.String("EventBridge Scheduler: invoke the sweep function, dead-letter what cannot be delivered"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{sweep.FunctionArn()},
	}))
	// Scheduler sends to its DLQ with the execution role; the queue is
	// encrypted with the data key, used here only through SQS.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{dlq.QueueArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{keys.Data.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("sqs."), stack.Region(), jsii.String("."), stack.UrlSuffix()}),
		}},
	}))

	schedule := awsscheduler.NewCfnSchedule(c, jsii.String("Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String("KYC gate: run the sweep (deadlines, reminders, outbox, purge, SLA metric)"),
		ScheduleExpression: jsii.String(sweepRate),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     sweep.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   scheduledEventInput(stack),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(sweepRetryAttempts),
				MaximumEventAgeInSeconds: jsii.Number(sweepMaxEventAgeSec),
			},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
		},
	})
	return &SweepSchedule{Construct: c, Schedule: schedule, Role: role, DLQ: dlq}
}

// scheduledEventInput is the exact JSON the sweep receives: an EventBridge
// "Scheduled Event" envelope filled in by Scheduler's context attributes.
func scheduledEventInput(stack awscdk.Stack) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(`{"version":"` + scheduledEventVersion + `","id":"` + schedulerExecutionID +
			`","detail-type":"Scheduled Event","source":"aws.scheduler","account":"`),
		stack.Account(),
		jsii.String(`","time":"` + schedulerScheduledAt + `","region":"`),
		stack.Region(),
		jsii.String(`","resources":["` + schedulerScheduleARN + `"],"detail":{}}`),
	})
}
