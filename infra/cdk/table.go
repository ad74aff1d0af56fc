package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/kycgate/kycgate/shared/contract"
)

// Table is the single DynamoDB table (docs/architecture.md): customers, holds,
// orders, documents, submissions, outbox and audit records, with the sparse
// "due" index the sweep reads and the "queue" index of pending reviews.
type Table struct {
	constructs.Construct
	Table awsdynamodb.Table
}

func newTable(scope constructs.Construct, id string, keys *Keys) *Table {
	c := constructs.NewConstruct(scope, jsii.String(id))
	str := awsdynamodb.AttributeType_STRING
	t := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(contract.AttrPK), Type: str},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(contract.AttrSK), Type: str},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       keys.Data,
		TimeToLiveAttribute: jsii.String(contract.AttrTTL),
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(contract.IndexDue),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(contract.AttrDuePK), Type: str},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.AttrDueSK), Type: str},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(contract.IndexQueue),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(contract.AttrQPK), Type: str},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.AttrQSK), Type: str},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	// The same identity document on other accounts: submissions by the keyed
	// hash of their recorded document number (sparse), newest first.
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(contract.IndexDocNumber),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(contract.AttrDocHash), Type: str},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.AttrDocHashSK), Type: str},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return &Table{Construct: c, Table: t}
}

// Item actions. There is no IAM action for TransactWriteItems or
// TransactGetItems: DynamoDB authorises a transaction by the item actions it
// contains (PutItem, UpdateItem, DeleteItem, ConditionCheckItem; GetItem), so
// granting those is all a transaction needs. dynamodb:Scan is never granted.
var (
	itemReadWrite = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
)

// grantItems allows item actions on the table itself (not its indexes).
// leadingKeys, when given, restricts every request to items whose partition
// key matches one of the patterns (dynamodb:LeadingKeys, StringLike).
func (t *Table) grantItems(g awsiam.IGrantable, actions []string, leadingKeys ...string) {
	props := &awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{t.Table.TableArn()},
	}
	if len(leadingKeys) > 0 {
		props.Conditions = &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": leadingKeys},
		}
	}
	g.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(props))
}

// grantQuery allows Query on the table (when onTable) and on the named
// indexes, each by its own ARN (no index/* wildcard).
func (t *Table) grantQuery(g awsiam.IGrantable, onTable bool, indexes ...string) {
	var res []*string
	if onTable {
		res = append(res, t.Table.TableArn())
	}
	for _, ix := range indexes {
		res = append(res, t.indexArn(ix))
	}
	g.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:Query"),
		Resources: &res,
	}))
}

func (t *Table) indexArn(name string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{t.Table.TableArn(), jsii.String("/index/" + name)})
}
