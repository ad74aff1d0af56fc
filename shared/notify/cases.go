package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
)

// Case is a customer's open KYC case ticket in the billing system.
type Case struct {
	CustomerID string `json:"customerId"`
	TicketID   int    `json:"ticketId"`
	TID        string `json:"tid"`
	// OpenedBy is the notice that opened (or recovered) the ticket.
	OpenedBy string `json:"openedBy"`
	// Closing is the KycVerified notice whose closing reply has been sent.
	Closing string `json:"closing,omitempty"`
}

// Cases keeps the open case ticket of each customer.
type Cases interface {
	// Case returns the customer's open case; ok is false if there is none.
	Case(ctx context.Context, customerID string) (c Case, ok bool, err error)
	// SaveCase records (or replaces) a customer's open case.
	SaveCase(ctx context.Context, c Case) error
	// ForgetCase removes a customer's case; a missing one is fine.
	ForgetCase(ctx context.Context, customerID string) error
}

// CaseTableAPI is the part of the DynamoDB client DynamoCases uses.
type CaseTableAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoCases keeps cases in the gate's table: pk TICKET#<customerId>, sk
// OPEN, the case as JSON in "data" (ids only: nothing personal).
type DynamoCases struct {
	db    CaseTableAPI
	table string
}

var _ Cases = (*DynamoCases)(nil)

// NewDynamoCases returns the cases of a table.
func NewDynamoCases(db CaseTableAPI, table string) *DynamoCases {
	return &DynamoCases{db: db, table: table}
}

func caseKey(customerID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: contract.PrefixTicket + customerID},
		contract.AttrSK: &types.AttributeValueMemberS{Value: contract.SKTicketOpen},
	}
}

// Case implements Cases (a consistent read).
func (d *DynamoCases) Case(ctx context.Context, customerID string) (Case, bool, error) {
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: caseKey(customerID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Case{}, false, fmt.Errorf("get case: %w", err)
	}
	if out.Item == nil {
		return Case{}, false, nil
	}
	data, ok := out.Item["data"].(*types.AttributeValueMemberS)
	if !ok {
		return Case{}, false, errors.New("case record without data")
	}
	var c Case
	if err := json.Unmarshal([]byte(data.Value), &c); err != nil {
		return Case{}, false, fmt.Errorf("decode case: %w", err)
	}
	return c, true, nil
}

// SaveCase implements Cases.
func (d *DynamoCases) SaveCase(ctx context.Context, c Case) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	it := caseKey(c.CustomerID)
	it["data"] = &types.AttributeValueMemberS{Value: string(b)}
	if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: it}); err != nil {
		return fmt.Errorf("put case: %w", err)
	}
	return nil
}

// ForgetCase implements Cases.
func (d *DynamoCases) ForgetCase(ctx context.Context, customerID string) error {
	if _, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: caseKey(customerID)}); err != nil {
		return fmt.Errorf("delete case: %w", err)
	}
	return nil
}
