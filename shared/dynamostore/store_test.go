package dynamostore_test

// The DynamoDB store's own tests, without an emulator: the requests it
// builds (keys, attributes, conditions, transaction items) are recorded and
// checked against the item layout of docs/architecture.md, its answers
// decoded back, and DynamoDB's errors mapped to the port's. The same store
// runs the kyc.Store contract suite against the emulator in
// infra/local/systemtest.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kyc"
)

const table = "kyc-table"

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
)

// dueTime is the index time format of docs/architecture.md: string order is
// time order.
func dueTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func openHold(customerID, orderID string, orderedAt time.Time) kyc.Hold {
	return kyc.Hold{Order: kyc.Order{OrderID: orderID, ServiceID: "svc-" + orderID, CustomerID: customerID, ProductID: "kyc-vps",
		ServerRegion: "hk", OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 4, 2)},
		State: kyc.AwaitingKYC, Deadline: orderedAt.Add(kyc.Window), OriginalDueDate: kyc.NewDate(2026, 4, 2), UpdatedAt: orderedAt}
}

func closedHold(customerID, orderID string) kyc.Hold {
	h := openHold(customerID, orderID, t0)
	h.State, h.ClosedAt, h.Rendered = kyc.Cancelled, t0.Add(time.Hour), true
	return h
}

func document(customerID, id string, st kyc.DocState) kyc.Document {
	return kyc.Document{ID: id, CustomerID: customerID, Category: kyc.Identity, Type: kyc.Passport, ContentType: kyc.JPEG,
		DeclaredSize: 2048, Key: kyc.DocumentKey(customerID, id), State: st, CreatedAt: t0, VersionID: "v1",
		FileName: &kyc.Sealed{V: 1, Nonce: []byte("123456789012"), Data: []byte{1, 2, 3}}}
}

func submission(customerID, id string) kyc.Submission {
	return kyc.Submission{ID: id, CustomerID: customerID, IdentityDocumentID: "d-1", AddressDocumentID: "d-2",
		Status: kyc.SubPending, SubmittedAt: t0, Version: 2, ClaimedBy: "rev-1", ClaimedAt: t0.Add(time.Minute)}
}

func disclosure(customerID, id string) kyc.Disclosure {
	return kyc.Disclosure{ID: id, CustomerID: customerID, Authority: "HKPF", Jurisdiction: "hk", LegalReference: "Cap. 1",
		Scope: []kyc.DisclosureData{kyc.DiscloseDocuments}, State: kyc.DisclosureApproved, RequestedBy: "admin-1", RequestedAt: t0, Version: 2}
}

// fullWork returns a unit of work with one record of every kind, for a
// customer stored at version 3 with an open hold.
func fullWork() kyc.Work {
	c := kyc.NewCustomer("c-1", t0)
	c.Holds = []kyc.Hold{openHold("c-1", "o-2", t0)}
	c.Version = 3
	head, audit := c.Audit.Chain([]kyc.AuditEntry{{At: t0, Actor: kyc.ByBilling, Action: "order.held"}, {At: t0, Actor: kyc.ByBilling, Action: "hold.cancelled"}})
	c.Audit = head
	sub := submission("c-1", "s-1")
	d := disclosure("c-1", "x-1")
	doc := document("c-1", "d-1", kyc.DocValid)
	doc.PurgeAt, doc.Version = t0.Add(90*24*time.Hour), 1 // as read
	return kyc.Work{
		Customer: c, Closed: []kyc.Hold{closedHold("c-1", "o-1")}, NewOrder: "o-2",
		Submission: &sub, SubmissionVersion: 1,
		Documents:  []kyc.DocumentUpdate{{Document: doc, Expect: kyc.DocPendingUpload}},
		Audit:      audit,
		Outbox:     &kyc.Outbox{ID: "out-1", CreatedAt: t0, Events: []kyc.Event{{Type: kyc.KycRequested, ID: "o-2:kyc-requested", At: t0, CustomerID: "c-1"}}},
		Disclosure: &d, DisclosureVersion: 1,
	}
}

// put is one Put of a transaction, readably.
type put struct {
	pk, sk    string
	attrs     map[string]string // every attribute but pk, sk and data, as text
	data      string
	condition string
	values    map[string]string
}

func readPut(p *types.Put) put {
	out := put{pk: str(p.Item[contract.AttrPK]), sk: str(p.Item[contract.AttrSK]), attrs: map[string]string{},
		data: str(p.Item["data"]), condition: aws.ToString(p.ConditionExpression), values: map[string]string{}}
	for k, v := range p.Item {
		if k == contract.AttrPK || k == contract.AttrSK || k == "data" {
			continue
		}
		out.attrs[k] = str(v) + num(v)
	}
	for k, v := range p.ExpressionAttributeValues {
		out.values[k] = str(v) + num(v)
	}
	// The condition with its names spelled out.
	for k, v := range p.ExpressionAttributeNames {
		out.condition = strings.ReplaceAll(out.condition, k, v)
	}
	return out
}

// TestCommitWritesTheItemLayout: one Commit is one TransactWriteItems of the
// items of docs/architecture.md, each with its condition.
func TestCommitWritesTheItemLayout(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	w := fullWork()
	if err := st.Commit(ctx, w); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests); n != 1 {
		t.Fatalf("%d requests, want one transaction", n)
	}
	tx := last[*dynamodb.TransactWriteItemsInput](rec)
	var got []put
	for _, ti := range tx.TransactItems {
		if ti.Put == nil || aws.ToString(ti.Put.TableName) != table {
			t.Fatalf("transaction item %+v: want a Put on %s", ti, table)
		}
		got = append(got, readPut(ti.Put))
	}
	notExists := "attribute_not_exists(pk)"
	want := []put{
		{pk: "CUST#c-1", sk: "CUSTOMER", condition: "version = :v", values: map[string]string{":v": "3"},
			attrs: map[string]string{"version": "4", "duePk": "DUE", "dueSk": dueTime(t0.Add(kyc.Window+time.Nanosecond)) + "#C#c-1"}},
		{pk: "CUST#c-1", sk: "HOLD#o-1", condition: notExists, attrs: map[string]string{}},
		{pk: "ORDER#o-2", sk: "ORDER", condition: notExists, attrs: map[string]string{"customerId": "c-1"}},
		{pk: "SUB#s-1", sk: "SUB", condition: "version = :v", values: map[string]string{":v": "1"},
			attrs: map[string]string{"version": "2", "customerId": "c-1", "queuePk": "PENDING", "queueSk": dueTime(t0) + "#s-1"}},
		{pk: "CUST#c-1", sk: "DOC#d-1", condition: "state = :expect AND version = :v", values: map[string]string{":expect": "pending_upload", ":v": "1"},
			attrs: map[string]string{"state": "valid", "version": "2", "duePk": "DUE", "dueSk": dueTime(t0.Add(90*24*time.Hour)) + "#D#c-1#d-1"}},
		{pk: "AUDIT#c-1", sk: "000000000001", condition: notExists, attrs: map[string]string{}},
		{pk: "AUDIT#c-1", sk: "000000000002", condition: notExists, attrs: map[string]string{}},
		{pk: "DISC#x-1", sk: "DISC", condition: "version = :v", values: map[string]string{":v": "1"},
			attrs: map[string]string{"version": "2", "customerId": "c-1"}},
		{pk: "OUTBOX#out-1", sk: "OUTBOX", condition: notExists,
			attrs: map[string]string{"duePk": "DUE", "dueSk": dueTime(t0.Add(dynamostore.OutboxGrace)) + "#O#out-1"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.pk != w.pk || g.sk != w.sk || g.condition != w.condition || !reflect.DeepEqual(g.attrs, w.attrs) ||
			len(w.values) > 0 && !reflect.DeepEqual(g.values, w.values) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	// The data attribute is the record's JSON; the customer's carries its new version.
	var c kyc.Customer
	if err := json.Unmarshal([]byte(got[0].data), &c); err != nil || c.Version != 4 || len(c.Holds) != 1 {
		t.Fatalf("customer data %s: %v", got[0].data, err)
	}
	var e kyc.AuditEntry
	if err := json.Unmarshal([]byte(got[6].data), &e); err != nil || e.Seq != 2 || e.Hash != w.Audit[1].Hash {
		t.Fatalf("audit data %s: %v", got[6].data, err)
	}
	if got[2].data != "" {
		t.Fatalf("the order mapping carries data %s", got[2].data)
	}
}

func TestCommitConditionsOfNewRecords(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	c := kyc.NewCustomer("c-1", t0) // version 0: must not exist; nothing due
	sub := submission("c-1", "s-1")
	sub.Status = kyc.SubApproved // decided: off the queue
	d := disclosure("c-1", "x-1")
	doc := document("c-1", "d-1", kyc.DocPurged)
	doc.PurgeAt = t0 // purged: off the due index whatever PurgeAt says
	// Version 0: a document stored before documents had versions.
	if err := st.Commit(ctx, kyc.Work{Customer: c, Submission: &sub, Disclosure: &d, Documents: []kyc.DocumentUpdate{{Document: doc, Expect: kyc.DocValid}}}); err != nil {
		t.Fatal(err)
	}
	tx := last[*dynamodb.TransactWriteItemsInput](rec)
	for i, want := range []struct {
		condition string
		absent    []string
	}{
		{"attribute_not_exists(pk)", []string{contract.AttrDuePK, contract.AttrDueSK}},
		{"attribute_not_exists(pk)", []string{contract.AttrQPK, contract.AttrQSK}},
		{"state = :expect AND attribute_not_exists(version)", []string{contract.AttrDuePK, contract.AttrDueSK}},
		{"attribute_not_exists(pk)", nil},
	} {
		p := readPut(tx.TransactItems[i].Put)
		if p.condition != want.condition {
			t.Errorf("item %d (%s): condition %q, want %q", i, p.pk, p.condition, want.condition)
		}
		for _, a := range want.absent {
			if _, ok := p.attrs[a]; ok {
				t.Errorf("item %d (%s) has %s", i, p.pk, a)
			}
		}
	}
}

func TestCommitRefusedBeforeAnyRequest(t *testing.T) {
	t.Run("more than one transaction's items", func(t *testing.T) {
		rec := newRecorder()
		c := kyc.NewCustomer("c-1", t0)
		var entries []kyc.AuditEntry
		for range dynamostore.MaxTransactItems {
			entries = append(entries, kyc.AuditEntry{At: t0, Action: "x"})
		}
		head, chained := c.Audit.Chain(entries)
		c.Audit = head
		err := dynamostore.New(rec, table).Commit(ctx, kyc.Work{Customer: c, Audit: chained})
		if !errors.Is(err, dynamostore.ErrTooLarge) || errors.Is(err, kyc.ErrStale) || len(rec.requests) != 0 {
			t.Fatalf("commit of %d items: %v, %d requests", len(entries)+1, err, len(rec.requests))
		}
	})
	t.Run("a record JSON cannot hold", func(t *testing.T) {
		rec := newRecorder()
		c := kyc.NewCustomer("c-1", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
		err := dynamostore.New(rec, table).Commit(ctx, kyc.Work{Customer: c})
		if err == nil || errors.Is(err, kyc.ErrStale) || len(rec.requests) != 0 {
			t.Fatalf("commit: %v, %d requests", err, len(rec.requests))
		}
	})
}

func TestDocumentWrites(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	d := document("c-1", "d-1", kyc.DocPendingUpload)
	d.PurgeAt = t0.Add(7 * 24 * time.Hour)
	if err := st.CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	in := last[*dynamodb.PutItemInput](rec)
	p := readPut(&types.Put{Item: in.Item, ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames})
	if p.pk != "CUST#c-1" || p.sk != "DOC#d-1" || p.condition != "attribute_not_exists(pk)" || p.attrs["state"] != "pending_upload" || p.attrs["version"] != "1" ||
		p.attrs["dueSk"] != dueTime(d.PurgeAt)+"#D#c-1#d-1" || aws.ToString(in.TableName) != table {
		t.Fatalf("create document: %+v", p)
	}
	d.State, d.Version = kyc.DocValid, 1
	if err := st.UpdateDocument(ctx, d, kyc.DocPendingUpload); err != nil {
		t.Fatal(err)
	}
	in = last[*dynamodb.PutItemInput](rec)
	p = readPut(&types.Put{Item: in.Item, ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
		ExpressionAttributeValues: in.ExpressionAttributeValues})
	if p.condition != "state = :expect AND version = :v" || p.values[":expect"] != "pending_upload" || p.values[":v"] != "1" ||
		p.attrs["state"] != "valid" || p.attrs["version"] != "2" {
		t.Fatalf("update document: %+v", p)
	}
}

func TestSaveSubmission(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	sub := submission("c-1", "s-1")
	for _, expect := range []int{0, 1} {
		if err := st.SaveSubmission(ctx, sub, expect); err != nil {
			t.Fatal(err)
		}
		in := last[*dynamodb.PutItemInput](rec)
		p := readPut(&types.Put{Item: in.Item, ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
			ExpressionAttributeValues: in.ExpressionAttributeValues})
		want := "attribute_not_exists(pk)"
		if expect > 0 {
			want = "version = :v"
		}
		if p.pk != "SUB#s-1" || p.sk != "SUB" || p.condition != want || p.attrs["version"] != "2" || p.attrs["queuePk"] != "PENDING" {
			t.Fatalf("save at %d: %+v", expect, p)
		}
	}
}

// TestErrorMapping: a lost condition (alone, or as a transaction's
// cancellation reason, or a transaction conflict) is kyc.ErrStale; anything
// else is an error that says what failed and is not ErrStale.
func TestErrorMapping(t *testing.T) {
	reasons := func(codes ...string) error {
		var rs []types.CancellationReason
		for _, c := range codes {
			rs = append(rs, types.CancellationReason{Code: aws.String(c)})
		}
		return &types.TransactionCanceledException{Message: aws.String("cancelled"), CancellationReasons: rs}
	}
	tests := []struct {
		name  string
		err   error
		stale bool
	}{
		{"conditional check failed", &types.ConditionalCheckFailedException{Message: aws.String("failed")}, true},
		{"a transaction cancelled by a condition", reasons("None", "ConditionalCheckFailed", "None"), true},
		{"a transaction cancelled by a conflict", reasons("TransactionConflict"), true},
		{"a transaction conflict", &types.TransactionConflictException{Message: aws.String("conflict")}, true},
		{"a transaction cancelled for another reason", reasons("None", "ValidationError"), false},
		{"throttling", errThrottled, false},
		{"wrapped", fmt.Errorf("operation error: %w", &types.ConditionalCheckFailedException{}), true},
	}
	writes := map[string]func(st *dynamostore.Store) error{
		"Commit": func(st *dynamostore.Store) error {
			return st.Commit(ctx, kyc.Work{Customer: kyc.NewCustomer("c-1", t0)})
		},
		"CreateDocument": func(st *dynamostore.Store) error {
			return st.CreateDocument(ctx, document("c-1", "d-1", kyc.DocPendingUpload))
		},
		"UpdateDocument": func(st *dynamostore.Store) error {
			return st.UpdateDocument(ctx, document("c-1", "d-1", kyc.DocValid), kyc.DocPendingUpload)
		},
		"SaveSubmission": func(st *dynamostore.Store) error { return st.SaveSubmission(ctx, submission("c-1", "s-1"), 1) },
		"Remember":       func(st *dynamostore.Store) error { return st.Remember(ctx, "evt-1", t0) },
	}
	for _, tt := range tests {
		for name, write := range writes {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				rec := newRecorder()
				rec.failNext(tt.err)
				err := write(dynamostore.New(rec, table))
				if err == nil || errors.Is(err, kyc.ErrStale) != tt.stale {
					t.Fatalf("error %v: stale=%v, want %v", err, errors.Is(err, kyc.ErrStale), tt.stale)
				}
				if !tt.stale && !errors.Is(err, tt.err) {
					t.Fatalf("error %v does not wrap the cause", err)
				}
			})
		}
	}
}

// TestReads: each read asks for its record by the key of the item layout,
// strongly consistent; a missing item is kyc.ErrNotExist.
func TestReads(t *testing.T) {
	reads := []struct {
		name   string
		pk, sk string
		read   func(st *dynamostore.Store) error
	}{
		{"Customer", "CUST#c-1", "CUSTOMER", func(st *dynamostore.Store) error { _, err := st.Customer(ctx, "c-1"); return err }},
		{"ClosedHold", "CUST#c-1", "HOLD#o-1", func(st *dynamostore.Store) error { _, err := st.ClosedHold(ctx, "c-1", "o-1"); return err }},
		{"Document", "CUST#c-1", "DOC#d-1", func(st *dynamostore.Store) error { _, err := st.Document(ctx, "c-1", "d-1"); return err }},
		{"OrderOwner", "ORDER#o-1", "ORDER", func(st *dynamostore.Store) error { _, err := st.OrderOwner(ctx, "o-1"); return err }},
		{"Submission", "SUB#s-1", "SUB", func(st *dynamostore.Store) error { _, err := st.Submission(ctx, "s-1"); return err }},
		{"Disclosure", "DISC#x-1", "DISC", func(st *dynamostore.Store) error { _, err := st.Disclosure(ctx, "x-1"); return err }},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			rec := newRecorder()
			st := dynamostore.New(rec, table)
			if err := r.read(st); !errors.Is(err, kyc.ErrNotExist) {
				t.Fatalf("missing item: %v, want kyc.ErrNotExist", err)
			}
			in := last[*dynamodb.GetItemInput](rec)
			if str(in.Key[contract.AttrPK]) != r.pk || str(in.Key[contract.AttrSK]) != r.sk || !aws.ToBool(in.ConsistentRead) || aws.ToString(in.TableName) != table {
				t.Fatalf("request %+v, want a consistent read of %s/%s", in, r.pk, r.sk)
			}
			rec.failNext(errThrottled)
			if err := r.read(st); !errors.Is(err, errThrottled) || errors.Is(err, kyc.ErrNotExist) {
				t.Fatalf("failed read: %v", err)
			}
			rec.put(item{contract.AttrPK: &types.AttributeValueMemberS{Value: r.pk}, contract.AttrSK: &types.AttributeValueMemberS{Value: r.sk},
				"data": &types.AttributeValueMemberS{Value: "{not json"}, "customerId": &types.AttributeValueMemberS{Value: "c-1"}})
			if err := r.read(st); r.name != "OrderOwner" && (err == nil || errors.Is(err, kyc.ErrNotExist)) {
				t.Fatalf("an item that does not decode: %v", err)
			}
		})
	}
}

// written returns the items a Commit of w puts, as GetItem would find them.
func written(t *testing.T, w kyc.Work) []item {
	t.Helper()
	rec := newRecorder()
	if err := dynamostore.New(rec, table).Commit(ctx, w); err != nil {
		t.Fatal(err)
	}
	var out []item
	for _, ti := range last[*dynamodb.TransactWriteItemsInput](rec).TransactItems {
		out = append(out, ti.Put.Item)
	}
	return out
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// TestRoundTrips: every record kind reads back as it was written (the
// versions from their attributes).
func TestRoundTrips(t *testing.T) {
	w := fullWork()
	rec := newRecorder()
	for _, it := range written(t, w) {
		rec.put(it)
	}
	st := dynamostore.New(rec, table)

	c, err := st.Customer(ctx, "c-1")
	wantC := w.Customer
	wantC.Version = 4
	if err != nil {
		t.Fatal(err)
	}
	same(t, "customer", c, wantC)
	h, err := st.ClosedHold(ctx, "c-1", "o-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "closed hold", h, w.Closed[0])
	if owner, err := st.OrderOwner(ctx, "o-2"); err != nil || owner != "c-1" {
		t.Fatalf("order owner %q, %v", owner, err)
	}
	sub, err := st.Submission(ctx, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "submission", sub, w.Submission)
	d, err := st.Document(ctx, "c-1", "d-1")
	if err != nil {
		t.Fatal(err)
	}
	wantD := w.Documents[0].Document
	wantD.Version = 2
	same(t, "document", d, wantD)
	disc, err := st.Disclosure(ctx, "x-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "disclosure", disc, w.Disclosure)
}

// TestVersionsComeFromTheAttribute: the version attribute the conditions
// test is authoritative over the one in the JSON.
func TestVersionsComeFromTheAttribute(t *testing.T) {
	rec := newRecorder()
	w := fullWork()
	for _, it := range written(t, w) {
		if _, ok := it["version"]; ok {
			it["version"] = &types.AttributeValueMemberN{Value: "9"}
		}
		rec.put(it)
	}
	st := dynamostore.New(rec, table)
	c, _ := st.Customer(ctx, "c-1")
	s, _ := st.Submission(ctx, "s-1")
	d, _ := st.Disclosure(ctx, "x-1")
	doc, _ := st.Document(ctx, "c-1", "d-1")
	if c.Version != 9 || s.Version != 9 || d.Version != 9 || doc.Version != 9 {
		t.Fatalf("versions %d %d %d, want 9 from the attribute", c.Version, s.Version, d.Version)
	}
}

// TestAccount: one Query of the customer's partition (every page), sorted
// into the record, the documents by creation time and the closed holds; the
// data key item is left out.
func TestAccount(t *testing.T) {
	w := fullWork()
	items := written(t, w)
	byKey := map[string]item{}
	for _, it := range items {
		byKey[str(it[contract.AttrPK])+"/"+str(it[contract.AttrSK])] = it
	}
	older := document("c-1", "d-2", kyc.DocValid)
	older.CreatedAt = t0.Add(-time.Hour)
	rec := newRecorder()
	if err := dynamostore.New(rec, table).CreateDocument(ctx, older); err != nil {
		t.Fatal(err)
	}
	olderItem := last[*dynamodb.PutItemInput](rec).Item
	key := item{contract.AttrPK: &types.AttributeValueMemberS{Value: "CUST#c-1"}, contract.AttrSK: &types.AttributeValueMemberS{Value: "KEY"},
		"wrapped": &types.AttributeValueMemberB{Value: []byte("key")}}

	rec = newRecorder()
	rec.pages = [][]item{{byKey["CUST#c-1/CUSTOMER"], byKey["CUST#c-1/DOC#d-1"]}, {olderItem, byKey["CUST#c-1/HOLD#o-1"], key}}
	a, err := dynamostore.New(rec, table).Account(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	wantC := w.Customer
	wantC.Version = 4
	if a.Customer == nil {
		t.Fatal("no customer record")
	}
	same(t, "customer", *a.Customer, wantC)
	older.Version = 1
	newer := w.Documents[0].Document
	newer.Version = 2
	same(t, "documents", a.Documents, []kyc.Document{older, newer})
	same(t, "closed holds", a.Closed, w.Closed)
	queries := all[*dynamodb.QueryInput](rec)
	if len(queries) != 2 || queries[1].ExclusiveStartKey == nil || aws.ToString(queries[0].IndexName) != "" ||
		aws.ToString(queries[0].KeyConditionExpression) != "#pk = :pk" || str(queries[0].ExpressionAttributeValues[":pk"]) != "CUST#c-1" ||
		!aws.ToBool(queries[0].ConsistentRead) {
		t.Fatalf("queries %+v", queries)
	}

	rec = newRecorder()
	rec.failNext(errThrottled)
	if _, err := dynamostore.New(rec, table).Account(ctx, "c-1"); !errors.Is(err, errThrottled) {
		t.Fatalf("failed query: %v", err)
	}
	for _, bad := range []string{"CUSTOMER", "DOC#d-9", "HOLD#o-9"} {
		rec = newRecorder()
		rec.pages = [][]item{{{contract.AttrPK: &types.AttributeValueMemberS{Value: "CUST#c-1"}, contract.AttrSK: &types.AttributeValueMemberS{Value: bad}}}}
		if _, err := dynamostore.New(rec, table).Account(ctx, "c-1"); err == nil {
			t.Fatalf("an item %s without data decoded", bad)
		}
	}
}

func TestAudit(t *testing.T) {
	w := fullWork()
	var entries []item
	for _, it := range written(t, w) {
		if strings.HasPrefix(str(it[contract.AttrPK]), "AUDIT#") {
			entries = append(entries, it)
		}
	}
	rec := newRecorder()
	rec.pages = [][]item{entries}
	trail, err := dynamostore.New(rec, table).Audit(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "audit trail", trail, w.Audit)
	if q := last[*dynamodb.QueryInput](rec); str(q.ExpressionAttributeValues[":pk"]) != "AUDIT#c-1" {
		t.Fatalf("query %+v", q)
	}
	rec = newRecorder()
	if trail, err := dynamostore.New(rec, table).Audit(ctx, "nobody"); err != nil || trail == nil || len(trail) != 0 {
		t.Fatalf("audit of nobody: %v, %v; want an empty trail", trail, err)
	}
}

// TestAuditSortKeysOrderBySequence: the zero-padded sequence numbers sort as
// numbers do, so the partition's order is the chain's.
func TestAuditSortKeysOrderBySequence(t *testing.T) {
	c := kyc.NewCustomer("c-1", t0)
	var entries []kyc.AuditEntry
	for range 12 {
		entries = append(entries, kyc.AuditEntry{At: t0, Action: "x"})
	}
	head, chained := c.Audit.Chain(entries)
	c.Audit = head
	var sks []string
	for _, it := range written(t, kyc.Work{Customer: c, Audit: chained})[1:] {
		sks = append(sks, str(it[contract.AttrSK]))
	}
	if !slices.IsSorted(sks) || sks[0] != "000000000001" || sks[11] != "000000000012" {
		t.Fatalf("sort keys %v", sks)
	}
}

// TestDue: one Query of the due index up to and including now, earliest
// first, at most limit; the items are told apart by their sort key.
func TestDue(t *testing.T) {
	w := fullWork()
	items := written(t, w)
	var page []item
	for _, it := range items {
		if _, ok := it[contract.AttrDueSK]; ok {
			page = append(page, it)
		}
	}
	rec := newRecorder()
	rec.pages = [][]item{page}
	now := t0.Add(100 * 24 * time.Hour)
	due, err := dynamostore.New(rec, table).Due(ctx, now, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(due.Customers) != 1 || due.Customers[0].Version != 4 || len(due.Documents) != 1 || len(due.Outboxes) != 1 {
		t.Fatalf("due %+v", due)
	}
	same(t, "due outbox", due.Outboxes[0], *w.Outbox)
	q := last[*dynamodb.QueryInput](rec)
	names := q.ExpressionAttributeNames
	if aws.ToString(q.IndexName) != contract.IndexDue || aws.ToInt32(q.Limit) != 7 || !aws.ToBool(q.ScanIndexForward) ||
		names["#p"] != contract.AttrDuePK || names["#s"] != contract.AttrDueSK || aws.ToString(q.KeyConditionExpression) != "#p = :p AND #s < :bound" ||
		str(q.ExpressionAttributeValues[":p"]) != "DUE" || str(q.ExpressionAttributeValues[":bound"]) != dueTime(now.Add(time.Nanosecond)) {
		t.Fatalf("query %+v", q)
	}
	rec = newRecorder()
	rec.failNext(errThrottled)
	if _, err := dynamostore.New(rec, table).Due(ctx, now, 7); !errors.Is(err, errThrottled) {
		t.Fatalf("failed query: %v", err)
	}
	for _, sk := range []string{"CUSTOMER", "OUTBOX", "DOC#d-1"} {
		rec = newRecorder()
		rec.pages = [][]item{{{contract.AttrPK: &types.AttributeValueMemberS{Value: "X"}, contract.AttrSK: &types.AttributeValueMemberS{Value: sk},
			"data": &types.AttributeValueMemberS{Value: "[]"}}}}
		if _, err := dynamostore.New(rec, table).Due(ctx, now, 7); err == nil {
			t.Fatalf("an item %s that does not decode", sk)
		}
	}
}

// TestDueTimesSortAsTimes: the due index sorts by its time text, so the
// text must order as the times do, to the nanosecond and across zones.
func TestDueTimesSortAsTimes(t *testing.T) {
	times := []time.Time{
		t0, t0.Add(time.Nanosecond), t0.Add(time.Millisecond), t0.Add(time.Second),
		time.Date(2026, 3, 2, 19, 0, 1, 0, time.FixedZone("HKT", 8*3600)), // 11:00:01 UTC
		t0.Add(24 * time.Hour),
	}
	var sks []string
	for _, due := range times {
		c := kyc.NewCustomer("c-1", t0)
		h := openHold("c-1", "o-1", due.Add(-kyc.Window-time.Nanosecond)) // due exactly at due
		c.Holds = []kyc.Hold{h}
		sks = append(sks, str(written(t, kyc.Work{Customer: c})[0][contract.AttrDueSK]))
	}
	if !slices.IsSorted(sks) {
		t.Fatalf("due keys out of time order: %v", sks)
	}
}

func TestPendingSubmissions(t *testing.T) {
	w := fullWork()
	rec := newRecorder()
	rec.pages = [][]item{{written(t, w)[3]}}
	st := dynamostore.New(rec, table)
	subs, err := st.PendingSubmissions(ctx, 25)
	if err != nil || len(subs) != 1 || subs[0].ID != "s-1" || subs[0].Version != 2 {
		t.Fatalf("pending %+v, %v", subs, err)
	}
	q := last[*dynamodb.QueryInput](rec)
	if aws.ToString(q.IndexName) != contract.IndexQueue || aws.ToInt32(q.Limit) != 25 || !aws.ToBool(q.ScanIndexForward) ||
		q.ExpressionAttributeNames["#k"] != contract.AttrQPK || str(q.ExpressionAttributeValues[":k"]) != "PENDING" {
		t.Fatalf("query %+v", q)
	}
	if _, err := st.OldestPending(ctx); !errors.Is(err, kyc.ErrNotExist) {
		t.Fatalf("oldest of an empty queue: %v", err)
	}
	if q := last[*dynamodb.QueryInput](rec); aws.ToInt32(q.Limit) != 1 {
		t.Fatalf("OldestPending reads %d items, want 1", aws.ToInt32(q.Limit))
	}
	rec.pages = [][]item{{written(t, w)[3]}}
	if oldest, err := st.OldestPending(ctx); err != nil || oldest.ID != "s-1" {
		t.Fatalf("oldest %+v, %v", oldest, err)
	}
	rec.failNext(errThrottled)
	if _, err := st.OldestPending(ctx); !errors.Is(err, errThrottled) {
		t.Fatalf("failed query: %v", err)
	}
	rec.pages = [][]item{{{"data": &types.AttributeValueMemberS{Value: "{"}}}}
	if _, err := st.PendingSubmissions(ctx, 1); err == nil {
		t.Fatal("an item that does not decode")
	}
}

func TestDeleteOutbox(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	if err := st.DeleteOutbox(ctx, "out-1"); err != nil {
		t.Fatal(err)
	}
	in := last[*dynamodb.DeleteItemInput](rec)
	if str(in.Key[contract.AttrPK]) != "OUTBOX#out-1" || str(in.Key[contract.AttrSK]) != "OUTBOX" || in.ConditionExpression != nil {
		t.Fatalf("delete %+v, want an unconditional delete of OUTBOX#out-1", in)
	}
	rec.failNext(errThrottled)
	if err := st.DeleteOutbox(ctx, "out-1"); !errors.Is(err, errThrottled) {
		t.Fatalf("failed delete: %v", err)
	}
}

// TestWebhookIDs: an applied webhook event id is remembered once, with a TTL.
func TestWebhookIDs(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	if seen, err := st.Seen(ctx, "evt-1"); err != nil || seen {
		t.Fatalf("seen %v, %v", seen, err)
	}
	if in := last[*dynamodb.GetItemInput](rec); str(in.Key[contract.AttrPK]) != "WEBHOOK#evt-1" || str(in.Key[contract.AttrSK]) != "WEBHOOK" {
		t.Fatalf("get %+v", in)
	}
	until := t0.Add(24 * time.Hour)
	if err := st.Remember(ctx, "evt-1", until); err != nil {
		t.Fatal(err)
	}
	in := last[*dynamodb.PutItemInput](rec)
	if num(in.Item[contract.AttrTTL]) != fmt.Sprint(until.Unix()) || aws.ToString(in.ConditionExpression) != "attribute_not_exists(#pk)" {
		t.Fatalf("put %+v", in)
	}
	rec.put(in.Item)
	if seen, err := st.Seen(ctx, "evt-1"); err != nil || !seen {
		t.Fatalf("seen %v, %v", seen, err)
	}
	rec.failNext(errThrottled)
	if _, err := st.Seen(ctx, "evt-2"); !errors.Is(err, errThrottled) {
		t.Fatalf("failed read: %v", err)
	}
}

// TestRateEvents: a rate limit's record is read consistently and written
// with one conditional PutItem on its version (the limiter's optimistic
// write); a lost condition is kyc.ErrStale, not a failure.
func TestRateEvents(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	times, v, err := st.RateEvents(ctx, "c-1#document")
	if err != nil || times != nil || v != 0 {
		t.Fatalf("no record: %v, %d, %v", times, v, err)
	}
	if g := last[*dynamodb.GetItemInput](rec); str(g.Key[contract.AttrPK]) != "RATE#c-1#document" || str(g.Key[contract.AttrSK]) != "RATE" ||
		!aws.ToBool(g.ConsistentRead) {
		t.Fatalf("get %+v", g)
	}
	want := []time.Time{t0, t0.Add(time.Minute)}
	if err := st.SaveRateEvents(ctx, "c-1#document", want, 0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	in := last[*dynamodb.PutItemInput](rec)
	if str(in.Item[contract.AttrPK]) != "RATE#c-1#document" || aws.ToString(in.ConditionExpression) != "attribute_not_exists(#pk)" ||
		num(in.Item[contract.AttrTTL]) != fmt.Sprint(t0.Add(time.Hour).Unix()) || num(in.Item["version"]) != "1" {
		t.Fatalf("first put %+v", in)
	}
	rec.put(in.Item)
	times, v, err = st.RateEvents(ctx, "c-1#document")
	if err != nil || v != 1 || !slices.EqualFunc(times, want, time.Time.Equal) {
		t.Fatalf("read back %v at version %d, %v", times, v, err)
	}
	if err := st.SaveRateEvents(ctx, "c-1#document", want[1:], 1, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if in := last[*dynamodb.PutItemInput](rec); aws.ToString(in.ConditionExpression) != "#v = :v" || num(in.ExpressionAttributeValues[":v"]) != "1" ||
		num(in.Item["version"]) != "2" {
		t.Fatalf("second put %+v", in)
	}
	rec.failNext(&types.ConditionalCheckFailedException{})
	if err := st.SaveRateEvents(ctx, "c-1#document", want, 1, t0); !errors.Is(err, kyc.ErrStale) {
		t.Fatalf("a lost race: %v, want kyc.ErrStale", err)
	}
	rec.failNext(errThrottled)
	if err := st.SaveRateEvents(ctx, "c-1#document", want, 1, t0); !errors.Is(err, errThrottled) || errors.Is(err, kyc.ErrStale) {
		t.Fatalf("a failed put: %v", err)
	}
	rec.failNext(errThrottled)
	if _, _, err := st.RateEvents(ctx, "c-1#document"); !errors.Is(err, errThrottled) {
		t.Fatalf("a failed read: %v", err)
	}
}

// A create whose first attempt wrote the record but whose response was lost
// is retried by the SDK into its own condition: the record found is exactly
// this one, so the create succeeded. A different record under the id is a
// taken id.
func TestCreateDocumentAdoptsItsOwnRetriedWrite(t *testing.T) {
	ctx := context.Background()
	d := document("c-1", "d-1", kyc.DocPendingUpload)
	ccf := &types.ConditionalCheckFailedException{Message: aws.String("failed")}

	rec := newRecorder()
	if err := dynamostore.New(rec, table).CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	written := last[*dynamodb.PutItemInput](rec).Item
	rec.put(written)
	rec.failNext(ccf)
	if err := dynamostore.New(rec, table).CreateDocument(ctx, d); err != nil {
		t.Fatalf("the retried write of the same record: %v, want success", err)
	}
	if g := last[*dynamodb.GetItemInput](rec); g == nil || !aws.ToBool(g.ConsistentRead) {
		t.Fatalf("the record was not read back consistently: %+v", g)
	}

	other := d
	other.ContentType = kyc.PDF
	rec.failNext(ccf)
	if err := dynamostore.New(rec, table).CreateDocument(ctx, other); !errors.Is(err, kyc.ErrStale) {
		t.Fatalf("another record under the id: %v, want ErrStale", err)
	}
}

// A submission with a document number's keyed hash is on the sparse
// document-number index (hash and submission time); the lookup is one Query
// of that index, newest first, never a scan.
func TestSubmissionsByDocNumber(t *testing.T) {
	rec := newRecorder()
	st := dynamostore.New(rec, table)
	sub := submission("c-1", "s-1")
	if err := st.SaveSubmission(ctx, sub, 0); err != nil {
		t.Fatal(err)
	}
	in := last[*dynamodb.PutItemInput](rec)
	if _, ok := in.Item[contract.AttrDocHash]; ok {
		t.Fatal("a submission without a hash is on the document-number index")
	}
	sub.DocNumberHash = "9f86d081"
	if err := st.SaveSubmission(ctx, sub, 1); err != nil {
		t.Fatal(err)
	}
	in = last[*dynamodb.PutItemInput](rec)
	if str(in.Item[contract.AttrDocHash]) != "9f86d081" || str(in.Item[contract.AttrDocHashSK]) != dueTime(sub.SubmittedAt)+"#s-1" {
		t.Fatalf("index attributes %v %v", in.Item[contract.AttrDocHash], in.Item[contract.AttrDocHashSK])
	}
	rec.pages = [][]item{{in.Item}}
	subs, err := st.SubmissionsByDocNumber(ctx, "9f86d081", 50)
	if err != nil || len(subs) != 1 || subs[0].ID != "s-1" || subs[0].DocNumberHash != "9f86d081" {
		t.Fatalf("lookup %+v, %v", subs, err)
	}
	q := last[*dynamodb.QueryInput](rec)
	if aws.ToString(q.IndexName) != contract.IndexDocNumber || aws.ToInt32(q.Limit) != 50 || aws.ToBool(q.ScanIndexForward) ||
		q.ExpressionAttributeNames["#k"] != contract.AttrDocHash || str(q.ExpressionAttributeValues[":k"]) != "9f86d081" {
		t.Fatalf("query %+v", q)
	}
	rec.failNext(errThrottled)
	if _, err := st.SubmissionsByDocNumber(ctx, "9f86d081", 50); !errors.Is(err, errThrottled) {
		t.Fatalf("failed query: %v", err)
	}
}
