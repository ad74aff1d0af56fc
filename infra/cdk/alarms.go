package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/kycgate/kycgate/shared/contract"
)

// Alarms is the operators' alarm topic and every alarm of the stack: any
// message in any DLQ, any function error, the review SLA, and malware found
// in (or not scanned of) an upload.
type Alarms struct {
	constructs.Construct
	Topic  awssns.Topic
	DLQ    map[string]awscloudwatch.Alarm // by DLQ construct path
	Errors map[string]awscloudwatch.Alarm // by function
	SLA    awscloudwatch.Alarm
	// Malware are the alarms on the validator's malware metrics, by metric.
	Malware map[string]awscloudwatch.Alarm
}

const alarmPeriodMinutes = 5

func newAlarms(scope constructs.Construct, id string, cfg Config, keys *Keys, queues *Queues, fns *Functions) *Alarms {
	c := constructs.NewConstruct(scope, jsii.String(id))
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("KYC gate alarms"),
		MasterKey:   keys.Data,
		EnforceSSL:  jsii.Bool(true),
	})
	// The topic policy CDK writes for enforceSSL replaces SNS's default
	// policy, so CloudWatch needs an explicit allow: alarms of this account only.
	stack := awscdk.Stack_Of(c)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{
			"ArnLike": map[string]any{"aws:SourceArn": awscdk.Fn_Join(jsii.String(""), &[]*string{
				jsii.String("arn:"), stack.Partition(), jsii.String(":cloudwatch:"), stack.Region(), jsii.String(":"), stack.Account(), jsii.String(":alarm:*"),
			})},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	if cfg.AlarmEmail != "" {
		// SNS keeps e-mail deliveries it finally cannot make in this DLQ
		// (alarmed like the others), written by sns.amazonaws.com.
		dlq := queues.newDLQ(c, "EmailDLQ", "alarm e-mails SNS could not deliver", true)
		keys.allowServiceForQueues("sns.amazonaws.com", "SNSSubscriptionDLQ", stack)
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), &awssnssubscriptions.EmailSubscriptionProps{
			DeadLetterQueue: dlq,
		}))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	period := awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes))

	a := &Alarms{Construct: c, Topic: topic, DLQ: map[string]awscloudwatch.Alarm{}, Errors: map[string]awscloudwatch.Alarm{}}
	for _, dlq := range queues.DLQs {
		alarmID := *dlq.Node().Scope().Node().Id() + *dlq.Node().Id() + "NotEmpty"
		alarm := awscloudwatch.NewAlarm(c, jsii.String(alarmID), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("Messages in dead-letter queue " + *dlq.Node().Path() + ": something failed for good; inspect and redrive."),
			Metric: dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: period, Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		a.DLQ[*dlq.Node().Path()] = alarm
	}
	for _, name := range contract.Functions {
		fn := fns.Fn[name]
		alarm := awscloudwatch.NewAlarm(c, jsii.String(constructID(name)+"Errors"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("The " + name + " function reported errors (unhandled errors or timeouts)."),
			Metric: fn.MetricErrors(&awscloudwatch.MetricOptions{
				Period: period, Statistic: jsii.String("Sum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		a.Errors[name] = alarm
	}

	// The sweep writes OldestPendingReviewSeconds (embedded metric format,
	// no dimensions) on every run; missing data means no pending review.
	a.SLA = awscloudwatch.NewAlarm(c, jsii.String("ReviewSLA"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("A submission has waited for review longer than the %d h SLA.", cfg.ReviewSLAHours)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(cfg.MetricsNamespace),
			MetricName: jsii.String(contract.MetricOldestPendingReview),
			Statistic:  jsii.String("Maximum"),
			Period:     period,
		}),
		Threshold:          jsii.Number(float64(cfg.ReviewSLAHours * 3600)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.SLA.AddAlarmAction(action)

	// The validator counts the uploads the malware scan found a threat in,
	// and those it could not scan (embedded metric format, no dimensions):
	// either is for a person to look at.
	a.Malware = map[string]awscloudwatch.Alarm{}
	for _, m := range []struct{ metric, id, description string }{
		{contract.MetricMalwareFound, "MalwareFound", "The malware scan found a threat in an upload: the document was refused and the file deleted. See the customer's audit trail (document.malware) and docs/runbook.md."},
		{contract.MetricMalwareScanFailed, "MalwareScanFailed", "GuardDuty could not scan an upload (unsupported, access denied, failed): the document was refused. Check the malware protection plan's status (docs/runbook.md)."},
	} {
		alarm := awscloudwatch.NewAlarm(c, jsii.String(m.id), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(m.description),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:  jsii.String(cfg.MetricsNamespace),
				MetricName: jsii.String(m.metric),
				Statistic:  jsii.String("Sum"),
				Period:     period,
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		a.Malware[m.metric] = alarm
	}
	return a
}
