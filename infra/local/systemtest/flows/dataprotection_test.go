package flows

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
)

// placeWithContact places a KYC order in region with the customer's e-mail.
func (s *sys) placeWithContact(order, cust, region, email string) {
	s.t.Helper()
	if r := s.webhook(kyc.OrderPlaced, "evt-"+order, kyc.BillingEvent{OrderID: order, ServiceID: "svc-" + order, CustomerID: cust, ProductID: "kyc-vps",
		OrderedAt: s.clock.Now().Add(-time.Hour), NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: region, Email: email, Language: "en"}); r.status != http.StatusOK {
		s.t.Fatalf("order %s: %d %s", order, r.status, r.body)
	}
}

// approvedWithFields verifies a customer, the reviewer recording personal fields.
func (s *sys) approvedWithFields(cust string) string {
	s.t.Helper()
	id := s.uploaded(cust, kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded(cust, kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token(cust), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	rev := s.reviewer("rev-1")
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
	s.open(rec.SubmissionID, rev, kyc.Identity)
	s.open(rec.SubmissionID, rev, kyc.Address)
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, map[string]any{
		"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
		"version":   item.Version, "extracted": map[string]string{"fullName": "Chan Tai Man", "documentNumber": "K123456(7)"}}, nil)
	return rec.SubmissionID
}

// TestDisclosure: P10. An admin records an authority's request for the
// jurisdiction of the customer's server; a second admin approves; the export
// (links of at most an hour, decrypted personal fields) is audited and
// time-limited.
func TestDisclosure(t *testing.T) {
	s := newSys(t)
	s.placeWithContact("o-d", "cust-d", "hk", "chan@example.com")
	s.approvedWithFields("cust-d")
	a1, a2 := s.token("adm-1", contract.GroupAdmins), s.token("adm-2", contract.GroupAdmins)
	req := map[string]any{"customerId": "cust-d", "authority": "Hong Kong Police Force", "jurisdiction": "hk",
		"legalReference": "Court order 2026/123", "scope": []string{"documents", "personal_data"}}

	refuse := func(name, method, path, token string, body any, status int, code string) {
		t.Helper()
		before := s.snapshot()
		if r := s.do(method, path, token, body); r.status != status || r.code() != code {
			t.Fatalf("%s = %d %s, want %d %s", name, r.status, r.body, status, code)
		}
		if s.snapshot() != before {
			t.Fatalf("%s changed the table", name)
		}
	}
	wrong := map[string]any{"customerId": "cust-d", "authority": "Singapore Police", "jurisdiction": "sg", "legalReference": "x", "scope": []string{"documents"}}
	refuse("jurisdiction without a server of the customer", "POST", "/v1/admin/disclosures", a1, wrong, 422, "jurisdiction_mismatch")
	refuse("reviewer requests", "POST", "/v1/admin/disclosures", s.reviewer("rev-1"), req, 403, "forbidden")
	refuse("customer requests", "POST", "/v1/admin/disclosures", s.token("cust-d"), req, 403, "forbidden")
	refuse("unknown customer", "POST", "/v1/admin/disclosures", a1, map[string]any{"customerId": "nobody", "authority": "x", "jurisdiction": "hk", "legalReference": "x", "scope": []string{"documents"}}, 404, "customer_not_found")
	refuse("empty scope", "POST", "/v1/admin/disclosures", a1, map[string]any{"customerId": "cust-d", "authority": "x", "jurisdiction": "hk", "legalReference": "x", "scope": []string{}}, 422, "invalid_scope")
	refuse("missing legal reference", "POST", "/v1/admin/disclosures", a1, map[string]any{"customerId": "cust-d", "authority": "x", "jurisdiction": "hk", "scope": []string{"documents"}}, 422, "invalid_legalReference")

	var d kyc.Disclosure
	s.must(http.StatusCreated, "POST", "/v1/admin/disclosures", a1, req, &d)
	if d.State != kyc.DisclosurePending || d.RequestedBy != "adm-1" {
		t.Fatalf("disclosure = %+v", d)
	}
	refuse("export before approval", "GET", "/v1/admin/disclosures/"+d.ID+"/export", a1, nil, 409, "not_approved")
	refuse("requester approves own request", "POST", "/v1/admin/disclosures/"+d.ID+"/approve", a1, nil, 403, "self_approval")
	refuse("reviewer approves", "POST", "/v1/admin/disclosures/"+d.ID+"/approve", s.reviewer("rev-2"), nil, 403, "forbidden")
	refuse("unknown disclosure", "POST", "/v1/admin/disclosures/nosuchdisc/approve", a2, nil, 404, "disclosure_not_found")

	s.must(http.StatusOK, "POST", "/v1/admin/disclosures/"+d.ID+"/approve", a2, nil, &d)
	if d.State != kyc.DisclosureApproved || d.ApprovedBy != "adm-2" {
		t.Fatalf("approved = %+v", d)
	}
	refuse("second approval", "POST", "/v1/admin/disclosures/"+d.ID+"/approve", s.token("adm-3", contract.GroupAdmins), nil, 409, "already_approved")

	var exp kyc.DisclosureExport
	s.must(http.StatusOK, "GET", "/v1/admin/disclosures/"+d.ID+"/export", a1, nil, &exp)
	if exp.Contact != "chan@example.com" || len(exp.Extracted) != 1 || exp.Extracted[0].FullName != "Chan Tai Man" || len(exp.Documents) != 2 {
		t.Fatalf("export = %+v", exp)
	}
	for _, doc := range exp.Documents {
		u, _ := url.Parse(doc.Link.URL)
		if n, _ := strconv.Atoi(u.Query().Get("X-Amz-Expires")); n < 1 || n > 3600 {
			t.Fatalf("export link lives %ds", n)
		}
	}
	s.clock.Add(kyc.ExportWindow)
	refuse("export after its window", "GET", "/v1/admin/disclosures/"+d.ID+"/export", s.token("adm-1", contract.GroupAdmins), nil, 409, "export_expired")

	var cust kyc.CustomerAdminView
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-d", s.token("adm-1", contract.GroupAdmins), nil, &cust)
	var steps []string
	for _, e := range cust.Audit {
		if strings.HasPrefix(e.Action, "disclosure.") {
			steps = append(steps, e.Action+" by "+e.Actor.ID)
		}
	}
	if !slices.Equal(steps, []string{"disclosure.requested by adm-1", "disclosure.approved by adm-2", "disclosure.exported by adm-1"}) {
		t.Fatalf("disclosure audit = %v", steps)
	}
}

// TestRetention: never-submitted files go after 7 days, rejected ones 90 days
// after the decision, approved ones 90 days after the verification expires;
// the decision records and audit stay; a legal hold stops every purge; purging
// twice is harmless.
func TestRetention(t *testing.T) {
	s := newSys(t)
	start := s.clock.Now()
	stray := s.uploaded("cust-ret", kyc.Identity, kyc.Visa, kyc.JPEG, jpegBytes) // never submitted
	s.verified("cust-ok", "rev-1")
	okDocs := s.docIDs("cust-ok")

	id := s.uploaded("cust-ret", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-ret", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-ret"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	s.decide(rec.SubmissionID, "rev-1", false)

	if rep := s.sweep(start.Add(7*24*time.Hour - time.Minute)); rep.Purged != 0 {
		t.Fatalf("purged before 7 days: %+v", rep)
	}
	if rep := s.sweep(start.Add(7*24*time.Hour + time.Minute)); rep.Purged != 1 {
		t.Fatalf("the never-submitted file at 7 days: %+v", rep)
	}
	s.assertPurged("cust-ret", stray, true)
	s.assertPurged("cust-ret", id, false)

	// A legal hold stops the purge of the rejected files at 90 days.
	adm := func() string { return s.token("adm-1", contract.GroupAdmins) }
	s.clock.Set(start.Add(89 * 24 * time.Hour))
	s.must(http.StatusOK, "POST", "/v1/admin/customers/cust-ret/legal-hold", adm(), map[string]any{"hold": true, "reason": "HK police preservation request 2026/7"}, nil)
	if rep := s.sweep(start.Add(91 * 24 * time.Hour)); rep.Purged != 0 {
		t.Fatalf("purged under a legal hold: %+v", rep)
	}
	s.assertPurged("cust-ret", id, false)
	// Lifting it takes two admins: one admin's request leaves it on.
	s.clock.Set(start.Add(100 * 24 * time.Hour))
	var held kyc.CustomerAdminView
	s.must(http.StatusAccepted, "POST", "/v1/admin/customers/cust-ret/legal-hold", adm(), map[string]any{"hold": false, "reason": "request closed"}, &held)
	if !held.LegalHold || held.LegalHoldLift == nil || held.LegalHoldLift.RequestedBy != "adm-1" {
		t.Fatalf("after one admin's lift: %+v %+v", held.LegalHold, held.LegalHoldLift)
	}
	before := s.snapshot()
	if r := s.do("POST", "/v1/admin/customers/cust-ret/legal-hold", adm(), map[string]any{"hold": false, "reason": "again"}); r.status != 403 || r.code() != "self_approval" {
		t.Fatalf("the same admin lifts again = %d %s", r.status, r.body)
	}
	if s.snapshot() != before {
		t.Fatal("a refused lift changed the table")
	}
	if rep := s.sweep(start.Add(101 * 24 * time.Hour)); rep.Purged != 0 {
		t.Fatalf("purged after one admin asked to lift the hold: %+v", rep)
	}
	s.must(http.StatusOK, "POST", "/v1/admin/customers/cust-ret/legal-hold", s.token("adm-2", contract.GroupAdmins),
		map[string]any{"hold": false, "reason": "confirmed with legal"}, &held)
	if held.LegalHold {
		t.Fatal("the second admin did not lift the hold")
	}
	if rep := s.sweep(start.Add(102 * 24 * time.Hour)); rep.Purged != 2 {
		t.Fatalf("after the hold was lifted: %+v", rep)
	}
	s.assertPurged("cust-ret", id, true)
	s.assertPurged("cust-ret", addr, true)
	if rep := s.sweep(start.Add(103 * 24 * time.Hour)); rep.Purged != 0 || rep.Failed != 0 {
		t.Fatalf("second purge: %+v", rep)
	}
	var sub kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, s.reviewer("rev-1"), nil, &sub)
	if r := s.do("GET", "/v1/admin/submissions/"+rec.SubmissionID+"/documents/address?purpose=audit", adm(), nil); r.status != 409 || r.code() != "document_purged" {
		t.Fatalf("opening a purged document = %d %s", r.status, r.body)
	}
	if sub.Status != kyc.SubRejected || sub.Address.Decision == nil || sub.Address.State != kyc.DocPurged {
		t.Fatalf("the decision record must stay: %+v", sub)
	}
	var audit kyc.ChainReport
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-ret/audit/verify", adm(), nil, &audit)
	if !audit.OK {
		t.Fatalf("audit after purges: %+v", audit)
	}

	// The approved customer's files stay until 90 days after expiry.
	s.clock.Set(start.AddDate(2, 0, 89))
	if rep := s.sweep(s.clock.Now()); rep.Purged != 0 {
		t.Fatalf("approved files purged early: %+v", rep)
	}
	if rep := s.sweep(start.AddDate(2, 0, 91)); rep.Purged != 2 {
		t.Fatalf("approved files after expiry + 90 days: %+v", rep)
	}
	for _, d := range okDocs {
		s.assertPurged("cust-ok", d, true)
	}
}

func (s *sys) docIDs(cust string) []string {
	s.t.Helper()
	var st kyc.StatusView
	s.must(http.StatusOK, "GET", "/v1/kyc/status", s.token(cust), nil, &st)
	var out []string
	for _, d := range st.Documents {
		out = append(out, d.ID)
	}
	return out
}

// assertPurged checks a document's record and its file (every version).
func (s *sys) assertPurged(cust, doc string, want bool) {
	s.t.Helper()
	var st kyc.StatusView
	s.must(http.StatusOK, "GET", "/v1/kyc/status", s.token(cust), nil, &st)
	i := slices.IndexFunc(st.Documents, func(d kyc.DocumentView) bool { return d.ID == doc })
	if i < 0 {
		s.t.Fatalf("document %s has no record (the record must stay)", doc)
	}
	if got := st.Documents[i].State == kyc.DocPurged; got != want {
		s.t.Fatalf("document %s is %s, purged want %v", doc, st.Documents[i].State, want)
	}
	bucket := s.st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvBucket]
	for _, key := range []string{kyc.DocumentKey(cust, doc), kyc.ReviewedKey(cust, doc)} {
		out, err := s.c.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String(key)})
		if err != nil {
			s.t.Fatal(err)
		}
		if has := len(out.Versions) > 0; has == want && (want || key == kyc.DocumentKey(cust, doc)) {
			s.t.Fatalf("%s: %d file versions left, purged %v", key, len(out.Versions), want)
		}
	}
}

// TestAuditTamperEvidence: editing or deleting audit entries directly in the
// table is reported, naming the first broken link.
func TestAuditTamperEvidence(t *testing.T) {
	s := newSys(t)
	s.order("o-t", "cust-t", "kyc-vps", s.clock.Now().Add(-time.Hour))
	s.verified("cust-t", "rev-1")
	adm := s.token("adm-1", contract.GroupAdmins)
	var rep kyc.ChainReport
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-t/audit/verify", adm, nil, &rep)
	if !rep.OK || rep.Entries < 5 {
		t.Fatalf("untouched chain = %+v", rep)
	}
	if r := s.do("GET", "/v1/admin/customers/cust-t/audit/verify", s.reviewer("rev-1"), nil); r.status != 403 {
		t.Fatalf("a reviewer verifies the audit: %d", r.status)
	}
	key := func(seq int) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{contract.AttrPK: &ddbtypes.AttributeValueMemberS{Value: "AUDIT#cust-t"},
			contract.AttrSK: &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("0", 12-len(strconv.Itoa(seq))) + strconv.Itoa(seq)}}
	}
	ctx := context.Background()
	got, err := s.c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(3)})
	if err != nil || got.Item == nil {
		t.Fatalf("entry 3: %v", err)
	}
	var e kyc.AuditEntry
	_ = json.Unmarshal([]byte(got.Item["data"].(*ddbtypes.AttributeValueMemberS).Value), &e)
	original := got.Item["data"]

	e.Actor.ID = "someone-else"
	b, _ := json.Marshal(e)
	got.Item["data"] = &ddbtypes.AttributeValueMemberS{Value: string(b)}
	if _, err := s.c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: got.Item}); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-t/audit/verify", adm, nil, &rep)
	if rep.OK || rep.Broken != 3 || !strings.Contains(rep.Problem, "hash") {
		t.Fatalf("edited entry 3: %+v", rep)
	}

	got.Item["data"] = original
	_, _ = s.c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: got.Item})
	if _, err := s.c.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(2)}); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-t/audit/verify", adm, nil, &rep)
	if rep.OK || rep.Broken != 2 || rep.Problem != "entry missing" {
		t.Fatalf("deleted entry 2: %+v", rep)
	}
}

// TestCryptoShredding: deleting a customer's data key makes every sealed
// personal field unreadable, and the views say so instead of failing.
func TestCryptoShredding(t *testing.T) {
	s := newSys(t)
	s.placeWithContact("o-x", "cust-x", "hk", "x@example.com")
	sub := s.approvedWithFields("cust-x")
	rev := s.token("adm-1", contract.GroupAdmins) // a decided submission opens for an admin's stated purpose
	sub += "?purpose=" + url.QueryEscape("erasure request check")
	var before kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+sub, rev, nil, &before)
	if before.Extracted == nil || before.Shredded {
		t.Fatalf("before = %+v", before)
	}
	sealer := kmsseal.New(s.c.KMS, kmsseal.NewDynamoKeys(s.c.DynamoDB, s.table), s.st.Functions[contract.FunctionAdminAPI].Env[contract.EnvKeyID], "")
	if err := sealer.Shred(context.Background(), "cust-x"); err != nil {
		t.Fatal(err)
	}
	// Another process (a new admin-api) has no cached key.
	fresh := newSysFrom(t, s)
	var after kyc.SubmissionView
	fresh.must(http.StatusOK, "GET", "/v1/admin/submissions/"+sub, rev, nil, &after)
	if after.Extracted != nil || !after.Shredded {
		t.Fatalf("after shredding = %+v", after)
	}
	c, err := s.c.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.table})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.Items {
		if strings.Contains(mustString(it), "Chan Tai Man") || strings.Contains(mustString(it), "x@example.com") {
			t.Fatal("personal data in clear")
		}
	}
}

func mustString(v any) string { b, _ := json.Marshal(v); return string(b) }
