package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
)

// A Ledger records which commands have been applied, so each is applied
// once however often it is delivered. An entry goes
//
//	(none) ──Claim──▶ applying ──Done──▶ applied
//	                      │
//	                      └──Fail──▶ failed ──Claim──▶ applying …
//
// A claim is refused once the entry is applied (ErrDone), and while another
// attempt may still be at work (ErrBusy): an "applying" marker, or a failure
// whose outcome is unknown (the billing system may still be processing it),
// younger than the ledger's stale period. Past that period the entry may be
// claimed again, and that claim is Resumed: the earlier attempt may have
// carried the command out. The uncertain mark is kept until the command is
// applied, so every later claim is Resumed too. A failure known not to have
// changed anything may be claimed again at once.
type Ledger interface {
	// Entry returns the entry of an id; ok is false if there is none.
	Entry(ctx context.Context, id string) (e Entry, ok bool, err error)
	// Claim starts an attempt. note holds ids to keep with the entry (never
	// personal data).
	Claim(ctx context.Context, id string, note map[string]string) (Claim, error)
	// Done marks a claimed id applied, with the billing system's outcome.
	// ErrLost if another attempt has taken the claim over meanwhile.
	Done(ctx context.Context, c Claim, outcome string) error
	// Fail gives a claim back after a failed attempt. uncertain says the
	// billing system may have carried the command out; kind is the error
	// kind, kept for operators.
	Fail(ctx context.Context, c Claim, uncertain bool, kind string) error
}

// State is where a ledger entry stands.
type State string

const (
	StateApplying State = "applying"
	StateApplied  State = "applied"
	StateFailed   State = "failed"
)

// Entry is a ledger entry.
type Entry struct {
	ID        string
	State     State
	Since     time.Time // start of the current or last attempt
	Attempts  int
	Uncertain bool   // an attempt may have applied the command without our knowing
	InDoubt   bool   // the last attempt's outcome is unknown (it may still be running)
	Outcome   string // of the applied command
	ErrorKind string // of the last failed attempt
}

// Claim is an attempt's hold on an entry.
type Claim struct {
	ID      string
	Since   time.Time // identifies the attempt
	Attempt int
	// Resumed says an earlier attempt may already have applied the command.
	Resumed bool
}

// Ledger errors.
var (
	ErrDone = errors.New("already applied")
	ErrBusy = errors.New("another attempt is in progress")
	ErrLost = errors.New("claim taken over by another attempt")
)

// DefaultStaleAfter is how old an "applying" marker must be before another
// attempt may take over: longer than any billing call may take (the WHMCS
// client gives up after 30 s at most).
const DefaultStaleAfter = 2 * time.Minute

// Table layout of the DynamoDB ledger.
const (
	CommandPrefix = contract.PrefixCommand // pk of applied-command entries: CMD#<eventId>
	CommandSK     = "CMD"                  // their sk

	attrState     = "state"
	attrSince     = "since" // unix nanoseconds
	attrAttempts  = "attempts"
	attrUncertain = "uncertain"
	attrInDoubt   = "inDoubt"
	attrOutcome   = "outcome"
	attrErrorKind = "errorKind"
	attrAppliedAt = "appliedAt"
	attrFailedAt  = "failedAt"
)

// DynamoAPI is the part of the DynamoDB client the ledger uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DynamoLedger keeps entries in the stack's table, one item per id:
// pk = prefix + id, sk = the ledger's sort key. It reads with GetItem and
// writes with conditional UpdateItem only, so its IAM policy can be limited
// to those actions on keys starting with its prefix.
type DynamoLedger struct {
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

var _ Ledger = (*DynamoLedger)(nil)

// NewCommandLedger is the billing adapter's ledger of applied commands
// (pk CMD#<eventId>, sk CMD, no expiry).
func NewCommandLedger(db DynamoAPI, table string) *DynamoLedger {
	return NewDynamoLedger(db, table, CommandPrefix, CommandSK, 0)
}

// NewDynamoLedger is a ledger under another key prefix and sort key (the
// notifier keeps its sent notices as NOTIFY#<eventId> / email|ticket).
func NewDynamoLedger(db DynamoAPI, table, prefix, sk string, ttl time.Duration) *DynamoLedger {
	return &DynamoLedger{db: db, table: table, prefix: prefix, sk: sk, TTL: ttl, StaleAfter: DefaultStaleAfter, Now: time.Now}
}

func (l *DynamoLedger) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: l.prefix + id},
		contract.AttrSK: &types.AttributeValueMemberS{Value: l.sk},
	}
}

func checkID(id string) error {
	if id == "" || len(id) > 512 {
		return fmt.Errorf("ledger id %q: must be 1-512 bytes", id)
	}
	return nil
}

// Entry implements Ledger.
func (l *DynamoLedger) Entry(ctx context.Context, id string) (Entry, bool, error) {
	if err := checkID(id); err != nil {
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
	return e
}

// Claim implements Ledger with one conditional UpdateItem: the entry must be
// absent, failed, or applying since before the stale limit.
func (l *DynamoLedger) Claim(ctx context.Context, id string, note map[string]string) (Claim, error) {
	if err := checkID(id); err != nil {
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
	return Claim{ID: id, Since: time.Unix(0, since).UTC(), Attempt: old.Attempts + 1, Resumed: resumed}, nil
}

// Done implements Ledger.
func (l *DynamoLedger) Done(ctx context.Context, c Claim, outcome string) error {
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
func (l *DynamoLedger) Fail(ctx context.Context, c Claim, uncertain bool, kind string) error {
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

// finish updates an entry only if c still holds it.
func (l *DynamoLedger) finish(ctx context.Context, c Claim, set string, names map[string]string, values map[string]types.AttributeValue) error {
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

// MemoryLedger is a Ledger in memory, with the same rules as DynamoLedger:
// for tests and single-process tools.
type MemoryLedger struct {
	StaleAfter time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	entries map[string]Entry
}

var _ Ledger = (*MemoryLedger)(nil)

// NewMemoryLedger returns an empty MemoryLedger.
func NewMemoryLedger() *MemoryLedger {
	return &MemoryLedger{StaleAfter: DefaultStaleAfter, Now: time.Now, entries: map[string]Entry{}}
}

// Entry implements Ledger.
func (m *MemoryLedger) Entry(_ context.Context, id string) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	return e, ok, nil
}

// Claim implements Ledger.
func (m *MemoryLedger) Claim(_ context.Context, id string, _ map[string]string) (Claim, error) {
	if err := checkID(id); err != nil {
		return Claim{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Now()
	old, exists := m.entries[id]
	switch {
	case exists && old.State == StateApplied:
		return Claim{}, ErrDone
	case exists && (old.State == StateApplying || (old.State == StateFailed && old.InDoubt)) && !old.Since.Before(now.Add(-m.StaleAfter)):
		return Claim{}, ErrBusy
	}
	e := old
	e.ID, e.State, e.Since, e.Attempts = id, StateApplying, now.UTC(), old.Attempts+1
	m.entries[id] = e
	return Claim{ID: id, Since: e.Since, Attempt: e.Attempts, Resumed: exists && (old.State == StateApplying || old.Uncertain)}, nil
}

// Done implements Ledger.
func (m *MemoryLedger) Done(_ context.Context, c Claim, outcome string) error {
	return m.finish(c, func(e *Entry) { e.State, e.Outcome = StateApplied, outcome })
}

// Fail implements Ledger.
func (m *MemoryLedger) Fail(_ context.Context, c Claim, uncertain bool, kind string) error {
	return m.finish(c, func(e *Entry) {
		e.State, e.Uncertain, e.InDoubt, e.ErrorKind = StateFailed, uncertain || c.Resumed, uncertain, kind
	})
}

func (m *MemoryLedger) finish(c Claim, f func(*Entry)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[c.ID]
	if !ok || e.State != StateApplying || !e.Since.Equal(c.Since) {
		return ErrLost
	}
	f(&e)
	m.entries[c.ID] = e
	return nil
}

// Set writes an entry directly (tests: a marker left by a crashed attempt).
func (m *MemoryLedger) Set(e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[e.ID] = e
}
