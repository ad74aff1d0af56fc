package ledger

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
)

// Table layout of the DynamoDB ledger.
const (
	attrState      = "state"
	attrSince      = "since" // unix nanoseconds
	attrAttempts   = "attempts"
	attrUncertain  = "uncertain"
	attrInDoubt    = "inDoubt"
	attrOutcome    = "outcome"
	attrErrorKind  = "errorKind"
	attrAppliedAt  = "appliedAt"
	attrFailedAt   = "failedAt"
	attrCheckpoint = "checkpoint"
)

// DynamoAPI is the part of the DynamoDB client the ledger uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Dynamo keeps entries in the stack's table, one item per id:
// pk = prefix + id, sk = the ledger's sort key. It reads with GetItem and
// writes with conditional UpdateItem only, so its IAM policy can be limited
// to those actions on keys starting with its prefix.
type Dynamo struct {
	db     DynamoAPI
	table  string
	prefix string
	sk     string
	// StaleAfter: see Ledger (default DefaultStaleAfter).
	StaleAfter time.Duration
	// TTL, if set, makes DynamoDB delete an entry that long after its last
	// change (contract.AttrTTL). Command entries never expire: an unsuspend
	// may come a year after its suspend and must find it.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ Ledger = (*Dynamo)(nil)

// NewDynamo returns a ledger of items pk = prefix + id, sk = sk in a table:
// the billing adapter keeps CMD#<eventId> / CMD with no expiry (an unsuspend
// may come a year after its suspend and must find it), the notifier
// NOTIFY#<eventId> / email|ticket for 30 days.
func NewDynamo(db DynamoAPI, table, prefix, sk string, ttl time.Duration) *Dynamo {
	return &Dynamo{db: db, table: table, prefix: prefix, sk: sk, TTL: ttl, StaleAfter: DefaultStaleAfter, Now: time.Now}
}

func (l *Dynamo) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: l.prefix + id},
		contract.AttrSK: &types.AttributeValueMemberS{Value: l.sk},
	}
}

// CheckID refuses an id no ledger can keep.
func CheckID(id string) error {
	if id == "" || len(id) > 512 {
		return fmt.Errorf("ledger id %q: must be 1-512 bytes", id)
	}
	return nil
}

// Entry implements Ledger.
func (l *Dynamo) Entry(ctx context.Context, id string) (Entry, bool, error) {
	if err := CheckID(id); err != nil {
		return Entry{}, false, err
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: l.key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Entry{}, false, fmt.Errorf("ledger get %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return Entry{}, false, nil
	}
	return entryOf(id, out.Item), true, nil
}

func entryOf(id string, item map[string]types.AttributeValue) Entry {
	e := Entry{ID: id}
	if v, ok := item[attrState].(*types.AttributeValueMemberS); ok {
		e.State = State(v.Value)
	}
	if v, ok := item[attrSince].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			e.Since = time.Unix(0, n).UTC()
		}
	}
	if v, ok := item[attrAttempts].(*types.AttributeValueMemberN); ok {
		e.Attempts, _ = strconv.Atoi(v.Value)
	}
	if v, ok := item[attrUncertain].(*types.AttributeValueMemberBOOL); ok {
		e.Uncertain = v.Value
	}
	if v, ok := item[attrInDoubt].(*types.AttributeValueMemberBOOL); ok {
		e.InDoubt = v.Value
	}
	if v, ok := item[attrOutcome].(*types.AttributeValueMemberS); ok {
		e.Outcome = v.Value
	}
	if v, ok := item[attrErrorKind].(*types.AttributeValueMemberS); ok {
		e.ErrorKind = v.Value
	}
	if v, ok := item[attrCheckpoint].(*types.AttributeValueMemberS); ok {
		e.Checkpoint = v.Value
	}
	return e
}

// Claim implements Ledger with one conditional UpdateItem: the entry must be
// absent, failed, or applying since before the stale limit.
func (l *Dynamo) Claim(ctx context.Context, id string, note map[string]string) (Claim, error) {
	if err := CheckID(id); err != nil {
		return Claim{}, err
	}
	now := l.Now()
	since := now.UnixNano()
	names := map[string]string{"#pk": contract.AttrPK, "#st": attrState, "#since": attrSince, "#att": attrAttempts, "#doubt": attrInDoubt}
	values := map[string]types.AttributeValue{
		":applying": &types.AttributeValueMemberS{Value: string(StateApplying)},
		":failed":   &types.AttributeValueMemberS{Value: string(StateFailed)},
		":since":    num(since),
		":stale":    num(now.Add(-l.StaleAfter).UnixNano()),
		":one":      num(1),
		":false":    &types.AttributeValueMemberBOOL{Value: false},
	}
	set := "SET #st = :applying, #since = :since"
	i := 0
	for k, v := range note {
		if v == "" {
			continue
		}
		names[fmt.Sprintf("#n%d", i)] = k
		values[fmt.Sprintf(":n%d", i)] = &types.AttributeValueMemberS{Value: v}
		set += fmt.Sprintf(", #n%d = :n%d", i, i)
		i++
	}
	if l.TTL > 0 {
		names["#ttl"] = contract.AttrTTL
		values[":ttl"] = num(now.Add(l.TTL).Unix())
		set += ", #ttl = :ttl"
	}
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &l.table,
		Key:              l.key(id),
		UpdateExpression: aws.String(set + " ADD #att :one"),
		ConditionExpression: aws.String("attribute_not_exists(#pk)" +
			" OR (#st = :failed AND (attribute_not_exists(#doubt) OR #doubt = :false))" +
			" OR ((#st = :applying OR #st = :failed) AND #since < :stale)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		e, ok, gerr := l.Entry(ctx, id)
		switch {
		case gerr != nil:
			return Claim{}, gerr
		case ok && e.State == StateApplied:
			return Claim{}, ErrDone
		default:
			return Claim{}, ErrBusy
		}
	}
	if err != nil {
		return Claim{}, fmt.Errorf("ledger claim %s: %w", id, err)
	}
	old := entryOf(id, out.Attributes)
	resumed := len(out.Attributes) > 0 && (old.State == StateApplying || old.Uncertain)
	return Claim{ID: id, Since: time.Unix(0, since).UTC(), Attempt: old.Attempts + 1, Resumed: resumed, Checkpoint: old.Checkpoint}, nil
}

// Done implements Ledger.
func (l *Dynamo) Done(ctx context.Context, c Claim, outcome string) error {
	return l.finish(ctx, c, "SET #st = :applied, #out = :out, #at = :at",
		map[string]string{"#out": attrOutcome, "#at": attrAppliedAt},
		map[string]types.AttributeValue{
			":applied": &types.AttributeValueMemberS{Value: string(StateApplied)},
			":out":     &types.AttributeValueMemberS{Value: outcome},
			":at":      &types.AttributeValueMemberS{Value: l.Now().UTC().Format(time.RFC3339)},
		})
}

// Fail implements Ledger. The uncertain mark is sticky: once an attempt may
// have applied the command, every later claim is Resumed.
func (l *Dynamo) Fail(ctx context.Context, c Claim, uncertain bool, kind string) error {
	return l.finish(ctx, c, "SET #st = :failedSt, #unc = :unc, #doubt = :doubt, #kind = :kind, #at = :at",
		map[string]string{"#unc": attrUncertain, "#doubt": attrInDoubt, "#kind": attrErrorKind, "#at": attrFailedAt},
		map[string]types.AttributeValue{
			":failedSt": &types.AttributeValueMemberS{Value: string(StateFailed)},
			":unc":      &types.AttributeValueMemberBOOL{Value: uncertain || c.Resumed},
			":doubt":    &types.AttributeValueMemberBOOL{Value: uncertain},
			":kind":     &types.AttributeValueMemberS{Value: kind},
			":at":       &types.AttributeValueMemberS{Value: l.Now().UTC().Format(time.RFC3339)},
		})
}

// Checkpoint implements Ledger: one conditional UpdateItem, only while c
// holds the entry.
func (l *Dynamo) Checkpoint(ctx context.Context, c Claim, checkpoint string) error {
	return l.finish(ctx, c, "SET #cp = :cp",
		map[string]string{"#cp": attrCheckpoint},
		map[string]types.AttributeValue{":cp": &types.AttributeValueMemberS{Value: checkpoint}})
}

// finish updates an entry only if c still holds it.
func (l *Dynamo) finish(ctx context.Context, c Claim, set string, names map[string]string, values map[string]types.AttributeValue) error {
	names["#st"], names["#since"] = attrState, attrSince
	values[":applying"], values[":token"] = &types.AttributeValueMemberS{Value: string(StateApplying)}, num(c.Since.UnixNano())
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &l.table,
		Key:                       l.key(c.ID),
		UpdateExpression:          &set,
		ConditionExpression:       aws.String("#st = :applying AND #since = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLost
	}
	if err != nil {
		return fmt.Errorf("ledger update %s: %w", c.ID, err)
	}
	return nil
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
