package kyctest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Store is an in-memory kyc.Store. It keeps the records as the DynamoDB store
// (shared/dynamostore) keeps its items: under the same keys, encoded as JSON,
// with the version, state, owner and index attributes that store's
// conditions and indexes use. It enforces exactly that store's conditions:
//
//   - Commit writes the customer record as Version+1 if its stored version is
//     still Customer.Version (0: it must not exist); closed holds, the new
//     order mapping, audit entries and the outbox must not exist yet; the
//     submission and the disclosure are written if their stored versions are
//     still SubmissionVersion and DisclosureVersion (0: they must not exist)
//     and take the version they carry; each document is written as
//     Version+1 if its stored state is still the expected one and its stored
//     version still Version (a missing document fails). Any failed
//     condition fails the whole commit with kyc.ErrStale and writes nothing,
//     as a transaction does. A unit of work of more than MaxTransactItems
//     items, or naming one item twice, is refused (not ErrStale).
//   - CreateDocument stores a document at version 1 and refuses a taken id;
//     UpdateDocument refuses a changed (or missing) document and
//     SaveSubmission a changed version: kyc.ErrStale.
//   - Reads of a missing record return kyc.ErrNotExist.
//   - Due and PendingSubmissions read the "due" and "queue" entries derived
//     as that store derives them: a customer is due at Customer.DueAt, a
//     document at PurgeAt until it is purged, an outbox OutboxGrace after it
//     was created; a submission is queued while pending, by submission time.
//     SubmissionsByDocNumber reads the "docnumber" entries: a submission
//     with a DocNumberHash, under it, by submission time, newest first.
//
// Values are encoded when written and decoded when read, so what a caller
// gets is its own copy, and a record that cannot be encoded fails here as it
// would there. A Store is safe for concurrent use. The zero value is not
// usable; call NewStore.
type Store struct {
	mu    sync.Mutex
	parts map[string]map[string]item // partition key → sort key → item
	hooks hooks
}

var _ kyc.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store { return &Store{parts: map[string]map[string]item{}} }

// MaxTransactItems is the most items one Commit may write (DynamoDB's limit
// on one transaction).
const MaxTransactItems = 100

// OutboxGrace is how long an outbox record waits for its own function to
// publish it before it is due for the sweep (the DynamoDB store's value).
const OutboxGrace = time.Minute

// Errors of Commit that are not lost races.
var (
	// ErrTooLarge: the unit of work has more than MaxTransactItems items.
	ErrTooLarge = errors.New("unit of work exceeds one transaction")
	// ErrSameItem: the unit of work writes one item twice, which a DynamoDB
	// transaction refuses.
	ErrSameItem = errors.New("transaction request cannot include multiple operations on one item")
)

// The item layout of the DynamoDB store (docs/architecture.md).
const (
	pkCustomer   = "CUST#"
	pkOrder      = "ORDER#"
	pkSubmission = "SUB#"
	pkAudit      = "AUDIT#"
	pkOutbox     = "OUTBOX#"
	pkDisclosure = "DISC#"
	skCustomer   = "CUSTOMER"
	skOrder      = "ORDER"
	skSubmission = "SUB"
	skOutbox     = "OUTBOX"
	skDisclosure = "DISC"
	skHold       = "HOLD#"
	skDocument   = "DOC#"
)

// item is one record with the attributes the conditions and indexes use.
type item struct {
	data     []byte // the record's JSON; nil for an order mapping
	version  int
	state    kyc.DocState
	owner    string
	dueKey   string // sort key on the due index; "" when not on it
	queueKey string // sort key on the queue index; "" when not on it
	docHash  string // partition key on the document-number index; "" when not on it
	docKey   string // its sort key there
}

// condition is what a write requires of the stored item.
type condition struct {
	kind    condKind
	version int
	state   kyc.DocState
}

type condKind int

const (
	mustNotExist condKind = iota
	versionIs             // the stored version is version
	stateIs               // the stored state is state and the stored version is version
)

// put is one conditional write.
type put struct {
	pk, sk string
	it     item
	cond   condition
}

// dueTime formats a time so that string order is time order.
func dueTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// auditSK is an audit entry's sort key: its sequence number, zero-padded.
func auditSK(seq int64) string { return fmt.Sprintf("%012d", seq) }

func encode(pk, sk string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	return b, nil
}

func decode[T any](it item) (T, error) {
	var v T
	if it.data == nil {
		return v, errors.New("item has no data")
	}
	if err := json.Unmarshal(it.data, &v); err != nil {
		return v, fmt.Errorf("decode item: %w", err)
	}
	return v, nil
}

func decodeCustomer(it item) (kyc.Customer, error) {
	c, err := decode[kyc.Customer](it)
	c.Version = it.version
	return c, err
}

func decodeSubmission(it item) (kyc.Submission, error) {
	s, err := decode[kyc.Submission](it)
	s.Version = it.version
	return s, err
}

func decodeDocument(it item) (kyc.Document, error) {
	d, err := decode[kyc.Document](it)
	d.Version = it.version
	return d, err
}

func decodeDisclosure(it item) (kyc.Disclosure, error) {
	d, err := decode[kyc.Disclosure](it)
	d.Version = it.version
	return d, err
}

// versioned returns a put of a record at version if the stored version is
// still expect (0: it must not exist).
func versioned(pk, sk string, v any, version, expect int) (put, error) {
	b, err := encode(pk, sk, v)
	if err != nil {
		return put{}, err
	}
	p := put{pk: pk, sk: sk, it: item{data: b, version: version}, cond: condition{kind: versionIs, version: expect}}
	if expect == 0 {
		p.cond = condition{kind: mustNotExist}
	}
	return p, nil
}

// fresh returns a put of a record that must not exist yet.
func fresh(pk, sk string, v any) (put, error) {
	b, err := encode(pk, sk, v)
	return put{pk: pk, sk: sk, it: item{data: b}, cond: condition{kind: mustNotExist}}, err
}

func customerPut(c kyc.Customer) (put, error) {
	expect := c.Version
	c.Version++
	p, err := versioned(pkCustomer+c.ID, skCustomer, c, c.Version, expect)
	if due := c.DueAt(); !due.IsZero() {
		p.it.dueKey = dueTime(due) + "#C#" + c.ID
	}
	return p, err
}

// documentPut writes a document at its next version if its stored state is
// still expect and its stored version still the one it carries.
func documentPut(d kyc.Document, expect kyc.DocState) (put, error) {
	read := d.Version
	d.Version++
	b, err := encode(pkCustomer+d.CustomerID, skDocument+d.ID, d)
	p := put{pk: pkCustomer + d.CustomerID, sk: skDocument + d.ID, it: item{data: b, state: d.State, version: d.Version},
		cond: condition{kind: stateIs, state: expect, version: read}}
	if !d.PurgeAt.IsZero() && d.State != kyc.DocPurged {
		p.it.dueKey = dueTime(d.PurgeAt) + "#D#" + d.CustomerID + "#" + d.ID
	}
	return p, err
}

func submissionPut(s kyc.Submission, expect int) (put, error) {
	p, err := versioned(pkSubmission+s.ID, skSubmission, s, s.Version, expect)
	p.it.owner = s.CustomerID
	if s.Status == kyc.SubPending {
		p.it.queueKey = dueTime(s.SubmittedAt) + "#" + s.ID
	}
	if s.DocNumberHash != "" {
		p.it.docHash, p.it.docKey = s.DocNumberHash, dueTime(s.SubmittedAt)+"#"+s.ID
	}
	return p, err
}

// workPuts returns the writes of a unit of work, in the DynamoDB store's
// order.
func workPuts(w kyc.Work) ([]put, error) {
	var puts []put
	add := func(p put, err error) error {
		if err != nil {
			return err
		}
		puts = append(puts, p)
		return nil
	}
	if err := add(customerPut(w.Customer)); err != nil {
		return nil, err
	}
	for _, h := range w.Closed {
		if err := add(fresh(pkCustomer+h.CustomerID, skHold+h.OrderID, h)); err != nil {
			return nil, err
		}
	}
	if w.NewOrder != "" {
		puts = append(puts, put{pk: pkOrder + w.NewOrder, sk: skOrder, it: item{owner: w.Customer.ID}, cond: condition{kind: mustNotExist}})
	}
	if w.Submission != nil {
		if err := add(submissionPut(*w.Submission, w.SubmissionVersion)); err != nil {
			return nil, err
		}
	}
	for _, u := range w.Documents {
		if err := add(documentPut(u.Document, u.Expect)); err != nil {
			return nil, err
		}
	}
	for _, e := range w.Audit {
		if err := add(fresh(pkAudit+w.Customer.ID, auditSK(e.Seq), e)); err != nil {
			return nil, err
		}
	}
	if d := w.Disclosure; d != nil {
		p, err := versioned(pkDisclosure+d.ID, skDisclosure, d, d.Version, w.DisclosureVersion)
		p.it.owner = d.CustomerID
		if err := add(p, err); err != nil {
			return nil, err
		}
	}
	if o := w.Outbox; o != nil {
		p, err := fresh(pkOutbox+o.ID, skOutbox, o)
		p.it.dueKey = dueTime(o.CreatedAt.Add(OutboxGrace)) + "#O#" + o.ID
		if err := add(p, err); err != nil {
			return nil, err
		}
	}
	return puts, nil
}

// get returns an item; the caller holds s.mu.
func (s *Store) get(pk, sk string) (item, bool) {
	it, ok := s.parts[pk][sk]
	return it, ok
}

// holds reports whether a put's condition holds; the caller holds s.mu.
func (s *Store) holds(p put) bool {
	it, exists := s.get(p.pk, p.sk)
	switch p.cond.kind {
	case mustNotExist:
		return !exists
	case versionIs:
		return exists && it.version == p.cond.version
	default:
		return exists && it.state == p.cond.state && it.version == p.cond.version
	}
}

// write stores an item; the caller holds s.mu.
func (s *Store) write(p put) {
	part := s.parts[p.pk]
	if part == nil {
		part = map[string]item{}
		s.parts[p.pk] = part
	}
	part[p.sk] = p.it
}

// apply writes puts if every condition holds, and nothing otherwise.
func (s *Store) apply(op string, puts ...put) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[[2]string]bool{}
	for _, p := range puts {
		k := [2]string{p.pk, p.sk}
		if seen[k] {
			return fmt.Errorf("%s: %w", op, ErrSameItem)
		}
		seen[k] = true
	}
	for _, p := range puts {
		if !s.holds(p) {
			return fmt.Errorf("%s: %w", op, kyc.ErrStale)
		}
	}
	for _, p := range puts {
		s.write(p)
	}
	return nil
}

// enter records a call and returns the error a hook or the context gives.
func (s *Store) enter(ctx context.Context, m Method) error {
	if err := s.hooks.enter(m); err != nil {
		return err
	}
	return ctx.Err()
}

// Customer returns a customer's record, or kyc.ErrNotExist.
func (s *Store) Customer(ctx context.Context, id string) (kyc.Customer, error) {
	defer s.hooks.exit(MethodCustomer)
	if err := s.enter(ctx, MethodCustomer); err != nil {
		return kyc.Customer{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pkCustomer+id, skCustomer)
	if !ok {
		return kyc.Customer{}, kyc.ErrNotExist
	}
	return decodeCustomer(it)
}

// Account returns a customer's record (nil if never stored), documents (by
// creation time) and closed holds (by order id).
func (s *Store) Account(ctx context.Context, id string) (kyc.Account, error) {
	defer s.hooks.exit(MethodAccount)
	if err := s.enter(ctx, MethodAccount); err != nil {
		return kyc.Account{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	part := s.parts[pkCustomer+id]
	var a kyc.Account
	for _, sk := range sortedKeys(part) {
		it := part[sk]
		switch {
		case sk == skCustomer:
			c, err := decodeCustomer(it)
			if err != nil {
				return a, err
			}
			a.Customer = &c
		case strings.HasPrefix(sk, skDocument):
			d, err := decodeDocument(it)
			if err != nil {
				return a, err
			}
			a.Documents = append(a.Documents, d)
		case strings.HasPrefix(sk, skHold):
			h, err := decode[kyc.Hold](it)
			if err != nil {
				return a, err
			}
			a.Closed = append(a.Closed, h)
		}
	}
	slices.SortStableFunc(a.Documents, func(x, y kyc.Document) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return a, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Commit writes a unit of work atomically, if every condition holds.
func (s *Store) Commit(ctx context.Context, w kyc.Work) error {
	defer s.hooks.exit(MethodCommit)
	if err := s.enter(ctx, MethodCommit); err != nil {
		return err
	}
	puts, err := workPuts(w)
	if err != nil {
		return err
	}
	op := "commit customer " + w.Customer.ID
	if len(puts) > MaxTransactItems {
		return fmt.Errorf("%s: %d items: %w", op, len(puts), ErrTooLarge)
	}
	return s.apply(op, puts...)
}

// OrderOwner returns the customer of an order, or kyc.ErrNotExist.
func (s *Store) OrderOwner(ctx context.Context, orderID string) (string, error) {
	defer s.hooks.exit(MethodOrderOwner)
	if err := s.enter(ctx, MethodOrderOwner); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pkOrder+orderID, skOrder)
	if !ok {
		return "", kyc.ErrNotExist
	}
	return it.owner, nil
}

// ClosedHold returns a hold that reached a terminal state, or
// kyc.ErrNotExist.
func (s *Store) ClosedHold(ctx context.Context, customerID, orderID string) (kyc.Hold, error) {
	defer s.hooks.exit(MethodClosedHold)
	if err := s.enter(ctx, MethodClosedHold); err != nil {
		return kyc.Hold{}, err
	}
	return getDecoded[kyc.Hold](s, pkCustomer+customerID, skHold+orderID)
}

func getDecoded[T any](s *Store, pk, sk string) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pk, sk)
	if !ok {
		var zero T
		return zero, kyc.ErrNotExist
	}
	return decode[T](it)
}

// Document returns one of a customer's documents, or kyc.ErrNotExist.
func (s *Store) Document(ctx context.Context, customerID, documentID string) (kyc.Document, error) {
	defer s.hooks.exit(MethodDocument)
	if err := s.enter(ctx, MethodDocument); err != nil {
		return kyc.Document{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pkCustomer+customerID, skDocument+documentID)
	if !ok {
		return kyc.Document{}, kyc.ErrNotExist
	}
	return decodeDocument(it)
}

// CreateDocument stores a new document record; kyc.ErrStale if the id is
// taken.
func (s *Store) CreateDocument(ctx context.Context, d kyc.Document) error {
	defer s.hooks.exit(MethodCreateDocument)
	if err := s.enter(ctx, MethodCreateDocument); err != nil {
		return err
	}
	p, err := documentPut(d, "")
	if err != nil {
		return err
	}
	p.cond = condition{kind: mustNotExist}
	return s.apply("create document", p)
}

// UpdateDocument replaces a document record, as d.Version+1, if its stored
// state is still expect and its stored version still d.Version; kyc.ErrStale
// otherwise, also for a missing document.
func (s *Store) UpdateDocument(ctx context.Context, d kyc.Document, expect kyc.DocState) error {
	defer s.hooks.exit(MethodUpdateDocument)
	if err := s.enter(ctx, MethodUpdateDocument); err != nil {
		return err
	}
	p, err := documentPut(d, expect)
	if err != nil {
		return err
	}
	return s.apply("update document", p)
}

// Submission returns a submission, or kyc.ErrNotExist.
func (s *Store) Submission(ctx context.Context, id string) (kyc.Submission, error) {
	defer s.hooks.exit(MethodSubmission)
	if err := s.enter(ctx, MethodSubmission); err != nil {
		return kyc.Submission{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pkSubmission+id, skSubmission)
	if !ok {
		return kyc.Submission{}, kyc.ErrNotExist
	}
	return decodeSubmission(it)
}

// SaveSubmission writes a submission at its Version if its stored version is
// still expectVersion (0: it must not exist); kyc.ErrStale otherwise.
func (s *Store) SaveSubmission(ctx context.Context, sub kyc.Submission, expectVersion int) error {
	defer s.hooks.exit(MethodSaveSubmission)
	if err := s.enter(ctx, MethodSaveSubmission); err != nil {
		return err
	}
	p, err := submissionPut(sub, expectVersion)
	if err != nil {
		return err
	}
	return s.apply("save submission", p)
}

// indexed returns the items on an index (by the key pick returns; "" is not
// on it) whose index key is below bound ("" for no bound), in index order,
// at most limit.
func (s *Store) indexed(pick func(item) string, bound string, limit int) ([]string, []item, error) {
	if limit < 1 {
		return nil, nil, fmt.Errorf("query index: limit %d is below 1", limit)
	}
	type entry struct {
		key, sk string
		it      item
	}
	var entries []entry
	for _, part := range s.parts {
		for sk, it := range part {
			if k := pick(it); k != "" && (bound == "" || k < bound) {
				entries = append(entries, entry{k, sk, it})
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	entries = entries[:min(limit, len(entries))]
	sks, items := make([]string, len(entries)), make([]item, len(entries))
	for i, e := range entries {
		sks[i], items[i] = e.sk, e.it
	}
	return sks, items, nil
}

// PendingSubmissions returns at most limit submissions waiting for review,
// oldest first.
func (s *Store) PendingSubmissions(ctx context.Context, limit int) ([]kyc.Submission, error) {
	defer s.hooks.exit(MethodPendingSubmissions)
	if err := s.enter(ctx, MethodPendingSubmissions); err != nil {
		return nil, err
	}
	return s.pending(limit)
}

func (s *Store) pending(limit int) ([]kyc.Submission, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, items, err := s.indexed(func(it item) string { return it.queueKey }, "", limit)
	if err != nil {
		return nil, err
	}
	out := make([]kyc.Submission, 0, len(items))
	for _, it := range items {
		sub, err := decodeSubmission(it)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// OldestPending returns the submission waiting longest, or kyc.ErrNotExist.
func (s *Store) OldestPending(ctx context.Context) (kyc.Submission, error) {
	defer s.hooks.exit(MethodOldestPending)
	if err := s.enter(ctx, MethodOldestPending); err != nil {
		return kyc.Submission{}, err
	}
	subs, err := s.pending(1)
	if err != nil {
		return kyc.Submission{}, err
	}
	if len(subs) == 0 {
		return kyc.Submission{}, kyc.ErrNotExist
	}
	return subs[0], nil
}

// PendingCount returns how many submissions are on the queue index.
func (s *Store) PendingCount(ctx context.Context) (int, error) {
	defer s.hooks.exit(MethodPendingCount)
	if err := s.enter(ctx, MethodPendingCount); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, part := range s.parts {
		for _, it := range part {
			if it.queueKey != "" {
				n++
			}
		}
	}
	return n, nil
}

// Due returns what a sweep at now must look at: at most limit entries of the
// due index at or before now, earliest first.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) (kyc.Due, error) {
	defer s.hooks.exit(MethodDue)
	if err := s.enter(ctx, MethodDue); err != nil {
		return kyc.Due{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sks, items, err := s.indexed(func(it item) string { return it.dueKey }, dueTime(now.Add(time.Nanosecond)), limit)
	if err != nil {
		return kyc.Due{}, err
	}
	var due kyc.Due
	for i, it := range items {
		switch sk := sks[i]; {
		case sk == skCustomer:
			c, err := decodeCustomer(it)
			if err != nil {
				return due, err
			}
			due.Customers = append(due.Customers, c)
		case sk == skOutbox:
			o, err := decode[kyc.Outbox](it)
			if err != nil {
				return due, err
			}
			due.Outboxes = append(due.Outboxes, o)
		case strings.HasPrefix(sk, skDocument):
			d, err := decodeDocument(it)
			if err != nil {
				return due, err
			}
			due.Documents = append(due.Documents, d)
		}
	}
	return due, nil
}

// DeleteOutbox removes an outbox record; a missing one is fine.
func (s *Store) DeleteOutbox(ctx context.Context, id string) error {
	defer s.hooks.exit(MethodDeleteOutbox)
	if err := s.enter(ctx, MethodDeleteOutbox); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if part := s.parts[pkOutbox+id]; part != nil {
		delete(part, skOutbox)
		if len(part) == 0 {
			delete(s.parts, pkOutbox+id)
		}
	}
	return nil
}

// Audit returns a customer's audit trail in sequence order (empty for a
// customer never seen).
func (s *Store) Audit(ctx context.Context, customerID string) ([]kyc.AuditEntry, error) {
	defer s.hooks.exit(MethodAudit)
	if err := s.enter(ctx, MethodAudit); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	part := s.parts[pkAudit+customerID]
	out := make([]kyc.AuditEntry, 0, len(part))
	for _, sk := range sortedKeys(part) {
		e, err := decode[kyc.AuditEntry](part[sk])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Disclosure returns a disclosure, or kyc.ErrNotExist.
func (s *Store) Disclosure(ctx context.Context, id string) (kyc.Disclosure, error) {
	defer s.hooks.exit(MethodDisclosure)
	if err := s.enter(ctx, MethodDisclosure); err != nil {
		return kyc.Disclosure{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.get(pkDisclosure+id, skDisclosure)
	if !ok {
		return kyc.Disclosure{}, kyc.ErrNotExist
	}
	return decodeDisclosure(it)
}

// SubmissionsByDocNumber returns at most limit submissions whose
// DocNumberHash is hash, newest first.
func (s *Store) SubmissionsByDocNumber(ctx context.Context, hash string, limit int) ([]kyc.Submission, error) {
	defer s.hooks.exit(MethodSubmissionsByDocNumber)
	if err := s.enter(ctx, MethodSubmissionsByDocNumber); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("query index: limit %d is below 1", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []item
	for _, part := range s.parts {
		for _, it := range part {
			if it.docHash != "" && it.docHash == hash {
				items = append(items, it)
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(b.docKey, a.docKey) })
	items = items[:min(limit, len(items))]
	out := make([]kyc.Submission, 0, len(items))
	for _, it := range items {
		sub, err := decodeSubmission(it)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// Records returns every stored record's JSON, as the table would hold it,
// one record a line ("<pk> <sk> <data>") in key order: for tests that look
// for personal data stored in clear.
func (s *Store) Records() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for pk, part := range s.parts {
		for sk, it := range part {
			lines = append(lines, pk+" "+sk+" "+string(it.data))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// Calls returns how many times the store's method m has been called.
func (s *Store) Calls(m Method) int { return s.hooks.Calls(m) }

// FailNext makes the next call of the store's method m return err and
// change nothing. Called n times, it fails the next n calls.
func (s *Store) FailNext(m Method, err error) { s.hooks.FailNext(m, err) }

// Before runs fn once, at the start of the next call of m, before that call
// reads or writes anything (and before a failure FailNext queued). fn may use
// the store, or a use case on it: it stages what happens just before a
// use case's write, e.g. another write that commits first.
func (s *Store) Before(m Method, fn func()) { s.hooks.queueBefore(m, fn) }

// After runs fn once, at the end of the next call of m, after it read or
// wrote and before its caller gets the result. fn may use the store, or a use
// case on it: After(MethodDocument, ...) stages what happens between a use
// case's read and whatever it does next, e.g. another write that commits
// while the use case still holds what it read.
func (s *Store) After(m Method, fn func()) { s.hooks.queueAfter(m, fn) }

// Snapshot returns every record in a stable form: tests compare two
// snapshots to show that a refused request changed nothing.
func (s *Store) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for pk, part := range s.parts {
		for sk, it := range part {
			lines = append(lines, fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s", pk, sk, it.version, it.state, it.dueKey, it.queueKey, it.data))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
