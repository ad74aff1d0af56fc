package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Customer returns a customer's record.
func (st *Store) Customer(ctx context.Context, id string) (kyc.Customer, error) {
	it, err := st.get(ctx, pkCustomer+id, skCustomer)
	if err != nil {
		return kyc.Customer{}, err
	}
	return decodeCustomer(it)
}

func decodeCustomer(it map[string]types.AttributeValue) (kyc.Customer, error) {
	c, err := decode[kyc.Customer](it)
	if err != nil {
		return c, err
	}
	c.Version = intAttr(it, attrVersion) // the attribute the conditions test is authoritative
	return c, nil
}

// Account reads a customer's partition in one Query: the record, the
// documents and the closed holds (the data key item is not returned).
func (st *Store) Account(ctx context.Context, id string) (kyc.Account, error) {
	items, err := st.query(ctx, pkCustomer+id, "")
	if err != nil {
		return kyc.Account{}, err
	}
	var a kyc.Account
	for _, it := range items {
		switch sk := stringAttr(it, contract.AttrSK); {
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
	slices.SortFunc(a.Documents, func(x, y kyc.Document) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return a, nil
}

// OrderOwner returns the customer of an order.
func (st *Store) OrderOwner(ctx context.Context, orderID string) (string, error) {
	it, err := st.get(ctx, pkOrder+orderID, skOrder)
	if err != nil {
		return "", err
	}
	return stringAttr(it, attrOwner), nil
}

// ClosedHold returns a terminal hold.
func (st *Store) ClosedHold(ctx context.Context, customerID, orderID string) (kyc.Hold, error) {
	it, err := st.get(ctx, pkCustomer+customerID, skHold+orderID)
	if err != nil {
		return kyc.Hold{}, err
	}
	return decode[kyc.Hold](it)
}

// Document returns a customer's document.
func (st *Store) Document(ctx context.Context, customerID, documentID string) (kyc.Document, error) {
	it, err := st.get(ctx, pkCustomer+customerID, skDocument+documentID)
	if err != nil {
		return kyc.Document{}, err
	}
	return decodeDocument(it)
}

// documentItem returns a document's item at its next version.
func documentItem(d kyc.Document) (map[string]types.AttributeValue, error) {
	d.Version++
	extra := map[string]types.AttributeValue{attrState: s(string(d.State)), attrVersion: n(d.Version)}
	if !d.PurgeAt.IsZero() && d.State != kyc.DocPurged {
		extra[contract.AttrDuePK] = s(duePartition)
		extra[contract.AttrDueSK] = s(dueTime(d.PurgeAt) + "#D#" + d.CustomerID + "#" + d.ID)
	}
	return item(pkCustomer+d.CustomerID, skDocument+d.ID, d, extra)
}

// CreateDocument stores a new document record. A put whose response was
// lost is retried by the SDK and then fails its condition against the item
// its first attempt wrote: a record already there with exactly this content
// is that write (document ids are 128 random bits), not a taken id.
func (st *Store) CreateDocument(ctx context.Context, d kyc.Document) error {
	it, err := documentItem(d)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table, Item: it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		out, gerr := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{contract.AttrPK: it[contract.AttrPK], contract.AttrSK: it[contract.AttrSK]}})
		if gerr == nil && reflect.DeepEqual(out.Item, it) {
			return nil
		}
	}
	if err != nil {
		return stale("create document", err)
	}
	return nil
}

// UpdateDocument replaces a document record if its state is still expect and
// its version still d.Version.
func (st *Store) UpdateDocument(ctx context.Context, d kyc.Document, expect kyc.DocState) error {
	put, err := st.putDocument(kyc.DocumentUpdate{Document: d, Expect: expect})
	if err != nil {
		return err
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
	}); err != nil {
		return stale("update document", err)
	}
	return nil
}

func (st *Store) putDocument(u kyc.DocumentUpdate) (*types.Put, error) {
	it, err := documentItem(u.Document)
	if err != nil {
		return nil, err
	}
	p := &types.Put{
		TableName: &st.table, Item: it,
		ConditionExpression:       aws.String("#state = :expect AND #v = :v"),
		ExpressionAttributeNames:  map[string]string{"#state": attrState, "#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":expect": s(string(u.Expect)), ":v": n(u.Document.Version)},
	}
	if u.Document.Version == 0 { // a document stored before documents had versions
		p.ConditionExpression = aws.String("#state = :expect AND attribute_not_exists(#v)")
		delete(p.ExpressionAttributeValues, ":v")
	}
	return p, nil
}

func decodeDocument(it map[string]types.AttributeValue) (kyc.Document, error) {
	d, err := decode[kyc.Document](it)
	if err != nil {
		return d, err
	}
	d.Version = intAttr(it, attrVersion)
	return d, nil
}

// Submission returns a submission.
func (st *Store) Submission(ctx context.Context, id string) (kyc.Submission, error) {
	it, err := st.get(ctx, pkSubmission+id, skSubmission)
	if err != nil {
		return kyc.Submission{}, err
	}
	return decodeSubmission(it)
}

func decodeSubmission(it map[string]types.AttributeValue) (kyc.Submission, error) {
	sub, err := decode[kyc.Submission](it)
	if err != nil {
		return sub, err
	}
	sub.Version = intAttr(it, attrVersion)
	return sub, nil
}

func (st *Store) putSubmission(sub kyc.Submission, expectVersion int) (*types.Put, error) {
	extra := map[string]types.AttributeValue{attrOwner: s(sub.CustomerID)}
	if sub.Status == kyc.SubPending {
		extra[contract.AttrQPK] = s(queuePartition)
		extra[contract.AttrQSK] = s(dueTime(sub.SubmittedAt) + "#" + sub.ID)
	}
	if sub.DocNumberHash != "" {
		extra[contract.AttrDocHash] = s(sub.DocNumberHash)
		extra[contract.AttrDocHashSK] = s(dueTime(sub.SubmittedAt) + "#" + sub.ID)
	}
	return st.putVersioned(pkSubmission+sub.ID, skSubmission, sub, sub.Version, expectVersion, extra)
}

// SaveSubmission replaces a submission if its version is still expectVersion.
func (st *Store) SaveSubmission(ctx context.Context, sub kyc.Submission, expectVersion int) error {
	p, err := st.putSubmission(sub, expectVersion)
	if err != nil {
		return err
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
	}); err != nil {
		return stale("save submission", err)
	}
	return nil
}

// PendingSubmissions returns submissions waiting for review, oldest first.
func (st *Store) PendingSubmissions(ctx context.Context, limit int) ([]kyc.Submission, error) {
	subs, err := st.submissionsOf(ctx, contract.IndexQueue, contract.AttrQPK, queuePartition, true, limit)
	if err != nil {
		return nil, fmt.Errorf("query review queue: %w", err)
	}
	return subs, nil
}

// SubmissionsByDocNumber returns the submissions whose document number has
// the keyed hash, newest first, from the document-number index only.
func (st *Store) SubmissionsByDocNumber(ctx context.Context, hash string, limit int) ([]kyc.Submission, error) {
	subs, err := st.submissionsOf(ctx, contract.IndexDocNumber, contract.AttrDocHash, hash, false, limit)
	if err != nil {
		return nil, fmt.Errorf("query document-number index: %w", err)
	}
	return subs, nil
}

// submissionsOf queries one partition (attr = value) of a submission index
// (projection ALL), in sort-key order (oldest first if ascending), and
// decodes at most limit submissions.
func (st *Store) submissionsOf(ctx context.Context, index, attr, value string, ascending bool, limit int) ([]kyc.Submission, error) {
	out, err := st.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": s(value)},
		ScanIndexForward:          aws.Bool(ascending),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, err
	}
	subs := make([]kyc.Submission, 0, len(out.Items))
	for _, it := range out.Items {
		sub, err := decodeSubmission(it)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

// OldestPending returns the submission waiting longest for review.
func (st *Store) OldestPending(ctx context.Context) (kyc.Submission, error) {
	subs, err := st.PendingSubmissions(ctx, 1)
	if err != nil {
		return kyc.Submission{}, err
	}
	if len(subs) == 0 {
		return kyc.Submission{}, kyc.ErrNotExist
	}
	return subs[0], nil
}

// PendingCount counts the submissions on the review queue's index (a Query
// that returns the count only, page by page).
func (st *Store) PendingCount(ctx context.Context) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: &st.table, IndexName: aws.String(contract.IndexQueue),
		KeyConditionExpression:    aws.String("#q = :q"),
		ExpressionAttributeNames:  map[string]string{"#q": contract.AttrQPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": s(queuePartition)},
		Select:                    types.SelectCount,
	}
	n := 0
	for {
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count review queue: %w", err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Audit returns a customer's audit trail in sequence order.
func (st *Store) Audit(ctx context.Context, customerID string) ([]kyc.AuditEntry, error) {
	items, err := st.query(ctx, pkAudit+customerID, "")
	if err != nil {
		return nil, err
	}
	return decodeAll[kyc.AuditEntry](items)
}

// auditSK is an audit entry's sort key: its sequence number, zero-padded so
// string order is sequence order.
func auditSK(seq int64) string { return fmt.Sprintf("%012d", seq) }

// Due returns what a sweep at now must look at, from the due index only.
func (st *Store) Due(ctx context.Context, now time.Time, limit int) (kyc.Due, error) {
	out, err := st.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.table, IndexName: aws.String(contract.IndexDue),
		KeyConditionExpression:    aws.String("#p = :p AND #s < :bound"),
		ExpressionAttributeNames:  map[string]string{"#p": contract.AttrDuePK, "#s": contract.AttrDueSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s(duePartition), ":bound": s(dueTime(now.Add(time.Nanosecond)))},
		ScanIndexForward:          aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return kyc.Due{}, fmt.Errorf("query due index: %w", err)
	}
	var due kyc.Due
	for _, it := range out.Items {
		sk := stringAttr(it, contract.AttrSK)
		switch {
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
		case len(sk) > len(skDocument) && sk[:len(skDocument)] == skDocument:
			d, err := decodeDocument(it)
			if err != nil {
				return due, err
			}
			due.Documents = append(due.Documents, d)
		}
	}
	return due, nil
}

// DeleteOutbox removes a published outbox record.
func (st *Store) DeleteOutbox(ctx context.Context, id string) error {
	if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &st.table, Key: key(pkOutbox+id, skOutbox)}); err != nil {
		return fmt.Errorf("delete outbox: %w", err)
	}
	return nil
}

// Commit writes a unit of work in one transaction.
func (st *Store) Commit(ctx context.Context, w kyc.Work) error {
	var tx []types.TransactWriteItem
	add := func(p *types.Put, err error) error {
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Put: p})
		return nil
	}
	if err := add(st.putCustomer(w.Customer)); err != nil {
		return err
	}
	for _, h := range w.Closed {
		if err := add(st.putNew(pkCustomer+h.CustomerID, skHold+h.OrderID, h, nil)); err != nil {
			return err
		}
	}
	if w.NewOrder != "" {
		if err := add(st.putNew(pkOrder+w.NewOrder, skOrder, nil, map[string]types.AttributeValue{attrOwner: s(w.Customer.ID)})); err != nil {
			return err
		}
	}
	if w.Submission != nil {
		if err := add(st.putSubmission(*w.Submission, w.SubmissionVersion)); err != nil {
			return err
		}
	}
	for _, u := range w.Documents {
		if err := add(st.putDocument(u)); err != nil {
			return err
		}
	}
	for _, e := range w.Audit {
		if err := add(st.putNew(pkAudit+w.Customer.ID, auditSK(e.Seq), e, nil)); err != nil {
			return err
		}
	}
	if d := w.Disclosure; d != nil {
		if err := add(st.putVersioned(pkDisclosure+d.ID, skDisclosure, d, d.Version, w.DisclosureVersion,
			map[string]types.AttributeValue{attrOwner: s(d.CustomerID)})); err != nil {
			return err
		}
	}
	if o := w.Outbox; o != nil {
		extra := map[string]types.AttributeValue{
			contract.AttrDuePK: s(duePartition),
			contract.AttrDueSK: s(dueTime(o.CreatedAt.Add(OutboxGrace)) + "#O#" + o.ID),
		}
		if err := add(st.putNew(pkOutbox+o.ID, skOutbox, o, extra)); err != nil {
			return err
		}
	}
	if len(tx) > MaxTransactItems {
		return fmt.Errorf("commit customer %s: %d items: %w", w.Customer.ID, len(tx), ErrTooLarge)
	}
	if _, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		return stale("commit customer "+w.Customer.ID, err)
	}
	return nil
}

// putCustomer writes the customer record as version+1 if it is still at
// version (0: it must not exist), with its due index entry.
func (st *Store) putCustomer(c kyc.Customer) (*types.Put, error) {
	expect := c.Version
	c.Version++
	extra := map[string]types.AttributeValue{}
	if due := c.DueAt(); !due.IsZero() {
		extra[contract.AttrDuePK] = s(duePartition)
		extra[contract.AttrDueSK] = s(dueTime(due) + "#C#" + c.ID)
	}
	return st.putVersioned(pkCustomer+c.ID, skCustomer, c, c.Version, expect, extra)
}

// putNew writes a record that must not exist yet (a closed hold, an order
// mapping, an audit entry, an outbox): the append-only records.
func (st *Store) putNew(pk, sk string, data any, extra map[string]types.AttributeValue) (*types.Put, error) {
	it := key(pk, sk)
	if data != nil {
		var err error
		if it, err = item(pk, sk, data, extra); err != nil {
			return nil, err
		}
	} else {
		for k, v := range extra {
			it[k] = v
		}
	}
	return &types.Put{
		TableName: &st.table, Item: it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK},
	}, nil
}

// ErrTooLarge is returned when a unit of work does not fit one transaction.
var ErrTooLarge = errors.New("unit of work exceeds one transaction")

const (
	pkWebhook = "WEBHOOK#"
	skWebhook = "WEBHOOK"
)

// Seen reports whether a webhook event id was applied before.
func (st *Store) Seen(ctx context.Context, id string) (bool, error) {
	_, err := st.get(ctx, pkWebhook+id, skWebhook)
	if errors.Is(err, kyc.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Remember records an applied webhook event id until the given time (a TTL
// attribute lets DynamoDB remove it later); kyc.ErrStale if it is recorded.
func (st *Store) Remember(ctx context.Context, id string, until time.Time) error {
	it := key(pkWebhook+id, skWebhook)
	it[contract.AttrTTL] = &types.AttributeValueMemberN{Value: fmt.Sprint(until.Unix())}
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table, Item: it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK},
	})
	if err != nil {
		return stale("remember webhook event", err)
	}
	return nil
}

const (
	pkRate = "RATE#"
	skRate = "RATE"
)

// rateRecord is a rate limit's record: the times of the last actions it
// counts.
type rateRecord struct {
	Times []time.Time `json:"times"`
}

// RateEvents returns the times recorded under a rate-limit key, oldest first,
// and the record's version (0: none). One consistent GetItem.
func (st *Store) RateEvents(ctx context.Context, name string) ([]time.Time, int, error) {
	it, err := st.get(ctx, pkRate+name, skRate)
	if errors.Is(err, kyc.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	r, err := decode[rateRecord](it)
	if err != nil {
		return nil, 0, err
	}
	return r.Times, intAttr(it, attrVersion), nil
}

// SaveRateEvents replaces the times recorded under a rate-limit key if the
// record's version is still version (0: it must not exist): one conditional
// PutItem; kyc.ErrStale if another request wrote it first. DynamoDB's TTL
// removes the record some time after until.
func (st *Store) SaveRateEvents(ctx context.Context, name string, times []time.Time, version int, until time.Time) error {
	p, err := st.putVersioned(pkRate+name, skRate, rateRecord{Times: times}, version+1, version,
		map[string]types.AttributeValue{contract.AttrTTL: &types.AttributeValueMemberN{Value: fmt.Sprint(until.Unix())}})
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	if err != nil {
		return stale("save "+pkRate, err)
	}
	return nil
}

const (
	pkDisclosure = "DISC#"
	skDisclosure = "DISC"
)

// Disclosure returns a disclosure.
func (st *Store) Disclosure(ctx context.Context, id string) (kyc.Disclosure, error) {
	it, err := st.get(ctx, pkDisclosure+id, skDisclosure)
	if err != nil {
		return kyc.Disclosure{}, err
	}
	d, err := decode[kyc.Disclosure](it)
	if err != nil {
		return d, err
	}
	d.Version = intAttr(it, attrVersion)
	return d, nil
}

// putVersioned writes a record at version if its stored version is still
// expect (0: it must not exist yet).
func (st *Store) putVersioned(pk, sk string, data any, version, expect int, extra map[string]types.AttributeValue) (*types.Put, error) {
	if extra == nil {
		extra = map[string]types.AttributeValue{}
	}
	extra[attrVersion] = n(version)
	it, err := item(pk, sk, data, extra)
	if err != nil {
		return nil, err
	}
	p := &types.Put{TableName: &st.table, Item: it, ExpressionAttributeNames: map[string]string{}}
	if expect == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		p.ExpressionAttributeNames["#pk"] = contract.AttrPK
	} else {
		p.ConditionExpression = aws.String("#v = :v")
		p.ExpressionAttributeNames["#v"] = attrVersion
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":v": n(expect)}
	}
	return p, nil
}
