package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/signin"
)

// SigninGuard is the replay guard of the billing system's sign-in tokens
// (signin.ReplayGuard) on the table: each token id is one conditional
// PutItem of pk SIGNIN#<jti>, which fails if the id was used before. The
// item carries a TTL at the token's end (DynamoDB deletes it some time
// later; the Verifier refuses an expired token before it asks the guard).
type SigninGuard struct {
	db    API
	table string
}

var _ signin.ReplayGuard = (*SigninGuard)(nil)

// NewSigninGuard returns the guard on table.
func NewSigninGuard(db API, table string) *SigninGuard { return &SigninGuard{db: db, table: table} }

// Use records jti until the given time; a jti recorded before is
// signin.ErrReplayed, any other failure an error that refuses the token.
func (g *SigninGuard) Use(ctx context.Context, jti string, until time.Time) error {
	if jti == "" {
		return errors.New("signin guard: empty token id")
	}
	item := key(contract.PrefixSignin+jti, contract.SKSignin)
	item[contract.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(until.Unix(), 10)}
	_, err := g.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(g.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": contract.AttrPK,
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return signin.ErrReplayed
	case err != nil:
		return fmt.Errorf("signin guard: %w", err)
	}
	return nil
}
