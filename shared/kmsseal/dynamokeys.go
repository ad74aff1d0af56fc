package kmsseal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Item layout of a wrapped data key: pk=CUST#<customerId>, sk=KEY, beside the
// customer's other records, so deleting the customer's partition shreds too.
const (
	KeyPKPrefix   = "CUST#"
	KeySK         = "KEY"
	AttrWrapped   = "wrapped"   // B: the data key encrypted by KMS; never the plaintext
	AttrCreatedAt = "createdAt" // S: RFC 3339, UTC
)

// DynamoKeys is the KeyStore on the system's DynamoDB table.
type DynamoKeys struct {
	client *dynamodb.Client
	table  string
	now    func() time.Time
}

var _ KeyStore = (*DynamoKeys)(nil)

// NewDynamoKeys returns the key store on table.
func NewDynamoKeys(client *dynamodb.Client, table string) *DynamoKeys {
	return &DynamoKeys{client: client, table: table, now: time.Now}
}

func itemKey(customerID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: KeyPKPrefix + customerID},
		contract.AttrSK: &types.AttributeValueMemberS{Value: KeySK},
	}
}

// DataKey reads the customer's wrapped data key with a strongly consistent
// read (a key just stored by a concurrent writer, or just deleted, is seen).
func (k *DynamoKeys) DataKey(ctx context.Context, customerID string) ([]byte, error) {
	out, err := k.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(k.table),
		Key:                      itemKey(customerID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#w"),
		ExpressionAttributeNames: map[string]string{"#w": AttrWrapped},
	})
	if err != nil {
		return nil, fmt.Errorf("get data key: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get data key: %w", kyc.ErrNotExist)
	}
	b, ok := out.Item[AttrWrapped].(*types.AttributeValueMemberB)
	if !ok || len(b.Value) == 0 {
		return nil, errors.New("get data key: the record has no wrapped key")
	}
	return b.Value, nil
}

// PutDataKey stores the customer's wrapped data key if the customer has none;
// otherwise it fails with an error wrapping kyc.ErrStale.
func (k *DynamoKeys) PutDataKey(ctx context.Context, customerID string, wrapped []byte) error {
	if len(wrapped) == 0 {
		return errors.New("put data key: empty wrapped key")
	}
	item := itemKey(customerID)
	item[AttrWrapped] = &types.AttributeValueMemberB{Value: wrapped}
	item[AttrCreatedAt] = &types.AttributeValueMemberS{Value: k.now().UTC().Format(time.RFC3339)}
	_, err := k.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(k.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("put data key: %w", kyc.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("put data key: %w", err)
	}
	return nil
}

// DeleteDataKey deletes the customer's wrapped data key; a missing one is fine.
func (k *DynamoKeys) DeleteDataKey(ctx context.Context, customerID string) error {
	_, err := k.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(k.table),
		Key:       itemKey(customerID),
	})
	if err != nil {
		return fmt.Errorf("delete data key: %w", err)
	}
	return nil
}
