// Package dynamostore is the DynamoDB implementation of the policy engine's
// Store: one table, every write conditional, every change of a customer one
// TransactWriteItems (docs/architecture.md has the item layout).
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store keeps the KYC records in one DynamoDB table.
type Store struct {
	db    API
	table string
}

var _ kyc.Store = (*Store)(nil)

// New returns a store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// Key prefixes and sort keys of the item layout.
const (
	pkCustomer   = "CUST#"
	pkOrder      = "ORDER#"
	pkSubmission = "SUB#"
	pkAudit      = "AUDIT#"
	pkOutbox     = "OUTBOX#"
	skCustomer   = "CUSTOMER"
	skOrder      = "ORDER"
	skSubmission = "SUB"
	skOutbox     = "OUTBOX"
	skHold       = "HOLD#"
	skDocument   = "DOC#"

	duePartition   = "DUE"
	queuePartition = "PENDING"

	attrData    = "data"
	attrVersion = "version"
	attrState   = "state"
	attrOwner   = "customerId"
)

// OutboxGrace is how long an outbox record waits for its own function to
// publish it before the sweep does.
const OutboxGrace = time.Minute

// MaxTransactItems is DynamoDB's limit on the items of one transaction.
const MaxTransactItems = 100

// dueTime formats a time so that string order is time order.
func dueTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{contract.AttrPK: s(pk), contract.AttrSK: s(sk)}
}

// item returns a record's item: its key, its JSON data and extra attributes.
func item(pk, sk string, data any, extra map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	it := key(pk, sk)
	it[attrData] = s(string(b))
	for k, v := range extra {
		it[k] = v
	}
	return it, nil
}

func decode[T any](it map[string]types.AttributeValue) (T, error) {
	var v T
	d, ok := it[attrData].(*types.AttributeValueMemberS)
	if !ok {
		return v, fmt.Errorf("item %v has no data", it[contract.AttrPK])
	}
	if err := json.Unmarshal([]byte(d.Value), &v); err != nil {
		return v, fmt.Errorf("decode item: %w", err)
	}
	return v, nil
}

func intAttr(it map[string]types.AttributeValue, name string) int {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.Atoi(v.Value)
		return i
	}
	return 0
}

func stringAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// get reads one item consistently; kyc.ErrNotExist if absent.
func (st *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &st.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", pk, err)
	}
	if out.Item == nil {
		return nil, kyc.ErrNotExist
	}
	return out.Item, nil
}

// query reads every item of a partition whose sort key starts with prefix.
func (st *Store) query(ctx context.Context, pk, prefix string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:              &st.table,
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": contract.AttrPK, "#sk": contract.AttrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":prefix": s(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	if prefix == "" {
		in.KeyConditionExpression = aws.String("#pk = :pk")
		delete(in.ExpressionAttributeValues, ":prefix")
		delete(in.ExpressionAttributeNames, "#sk")
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", pk, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func decodeAll[T any](items []map[string]types.AttributeValue) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := decode[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// stale turns a lost condition into kyc.ErrStale, so the service re-reads.
func stale(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	var tce *types.TransactionCanceledException
	var tc *types.TransactionConflictException
	if errors.As(err, &ccf) || errors.As(err, &tc) {
		return fmt.Errorf("%s: %w", op, kyc.ErrStale)
	}
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if c := aws.ToString(r.Code); c == "ConditionalCheckFailed" || c == "TransactionConflict" {
				return fmt.Errorf("%s: %w", op, kyc.ErrStale)
			}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
