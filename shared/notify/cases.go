package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
)

// Case is a customer's open KYC case ticket in the billing system.
type Case struct {
	CustomerID string `json:"customerId"`
	// TicketID is 0 while the notice OpenedBy is opening the ticket (since
	// OpeningSince): other notices of the customer wait for it.
	TicketID int    `json:"ticketId"`
	TID      string `json:"tid"`
	// OpenedBy is the notice that opened (or recovered) the ticket, or is
	// opening it.
	OpenedBy string `json:"openedBy"`
	// Closing is the KycVerified notice whose closing reply has been sent.
	Closing      string    `json:"closing,omitempty"`
	OpeningSince time.Time `json:"openingSince,omitzero"`
}

// Opening reports whether the case's ticket is still being opened.
func (c Case) Opening() bool { return c.TicketID == 0 }

// Cases keeps the open case ticket of each customer.
type Cases interface {
	// Case returns the customer's open case; ok is false if there is none.
	Case(ctx context.Context, customerID string) (c Case, ok bool, err error)
	// StartCase records c as the customer's case only if the record is
	// still prev as read (nil: there was none), and ErrCaseChanged if
	// another notice has recorded or replaced it since. It is how a notice
	// claims the opening of a case's ticket.
	StartCase(ctx context.Context, c Case, prev *Case) error
	// SaveCase records (or replaces) a customer's open case.
	SaveCase(ctx context.Context, c Case) error
	// ForgetCase removes a customer's case; a missing one is fine.
	ForgetCase(ctx context.Context, customerID string) error
}

// ErrCaseChanged: the case record is no longer the one StartCase was given.
var ErrCaseChanged = errors.New("the case record has changed")

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
	data, ok := out.Item[attrCaseData].(*types.AttributeValueMemberS)
	if !ok {
		return Case{}, false, errors.New("case record without data")
	}
	var c Case
	if err := json.Unmarshal([]byte(data.Value), &c); err != nil {
		return Case{}, false, fmt.Errorf("decode case: %w", err)
	}
	return c, true, nil
}

// StartCase implements Cases: a PutItem on the condition that there is no
// item (prev nil) or that its data is still prev's (the record is written
// by this package only, so the same case encodes to the same text).
func (d *DynamoCases) StartCase(ctx context.Context, c Case, prev *Case) error {
	in, err := d.put(c)
	if err != nil {
		return err
	}
	if prev == nil {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": contract.AttrPK}
	} else {
		old, err := json.Marshal(prev)
		if err != nil {
			return err
		}
		in.ConditionExpression = aws.String("#data = :prev")
		in.ExpressionAttributeNames = map[string]string{"#data": attrCaseData}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberS{Value: string(old)}}
	}
	_, err = d.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return ErrCaseChanged
	case err != nil:
		return fmt.Errorf("put case: %w", err)
	}
	return nil
}

// SaveCase implements Cases.
func (d *DynamoCases) SaveCase(ctx context.Context, c Case) error {
	in, err := d.put(c)
	if err != nil {
		return err
	}
	if _, err := d.db.PutItem(ctx, in); err != nil {
		return fmt.Errorf("put case: %w", err)
	}
	return nil
}

// attrCaseData holds the case as JSON.
const attrCaseData = "data"

func (d *DynamoCases) put(c Case) (*dynamodb.PutItemInput, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	it := caseKey(c.CustomerID)
	it[attrCaseData] = &types.AttributeValueMemberS{Value: string(b)}
	return &dynamodb.PutItemInput{TableName: &d.table, Item: it}, nil
}

// ForgetCase implements Cases.
func (d *DynamoCases) ForgetCase(ctx context.Context, customerID string) error {
	if _, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: caseKey(customerID)}); err != nil {
		return fmt.Errorf("delete case: %w", err)
	}
	return nil
}
