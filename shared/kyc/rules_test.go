package kyc

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCatalogueIsBilingualAndComplete(t *testing.T) {
	t.Log("P3: two categories; every label exists in English and Traditional Chinese")
	want := map[Category][]DocType{
		Identity: {NationalID, DrivingLicense, Passport, Visa, BusinessRegistration},
		Address:  {BankStatement, UtilityBill, TaxReturn},
	}
	for _, c := range Catalogue {
		var got []DocType
		for _, ts := range c.Types {
			got = append(got, ts.Type)
			if ts.Label.En == "" || ts.Label.ZhHant == "" {
				t.Errorf("%s: missing label", ts.Type)
			}
			for _, u := range ts.Utilities {
				if u.Label.En == "" || u.Label.ZhHant == "" {
					t.Errorf("%s/%s: missing label", ts.Type, u.Utility)
				}
			}
		}
		if !slices.Equal(got, want[c.Category]) {
			t.Errorf("%s types = %v, want %v", c.Category, got, want[c.Category])
		}
	}
	_, bill, _ := LookupType(UtilityBill)
	var utils []Utility
	for _, u := range bill.Utilities {
		utils = append(utils, u.Utility)
	}
	if !slices.Equal(utils, []Utility{Water, Electricity, Gas, Landline, Internet, CableTV, MobilePhone}) {
		t.Errorf("utilities = %v", utils)
	}
	for _, r := range Reasons {
		if r.Text.En == "" || r.Text.ZhHant == "" {
			t.Errorf("reason %s: missing text", r.Code)
		}
	}
	for reason, text := range InvalidTexts {
		if text.En == "" || text.ZhHant == "" {
			t.Errorf("invalid reason %s: missing text", reason)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F'}, JPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n"), PNG},
		{"pdf", []byte("%PDF-1.7"), PDF},
		{"html declared as anything", []byte("<html><b"), ""},
		{"truncated png", []byte("\x89PNG"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: Sniff = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNewDocument(t *testing.T) {
	ok := DocumentRequest{Category: Address, Type: UtilityBill, Utility: Gas, ContentType: PDF, Size: 1000}
	tests := []struct {
		name     string
		mutate   func(*DocumentRequest)
		wantCode string
		wantKind Kind
	}{
		{"valid utility bill", func(*DocumentRequest) {}, "", KindInternal},
		{"unknown category", func(r *DocumentRequest) { r.Category = "selfie" }, "unknown_category", KindInvalid},
		{"unknown type", func(r *DocumentRequest) { r.Type = "library_card" }, "unknown_type", KindInvalid},
		{"type in the other category", func(r *DocumentRequest) { r.Type, r.Utility = Passport, "" }, "wrong_category", KindInvalid},
		{"utility bill without utility", func(r *DocumentRequest) { r.Utility = "" }, "unknown_utility", KindInvalid},
		{"utility bill with unknown utility", func(r *DocumentRequest) { r.Utility = "heating" }, "unknown_utility", KindInvalid},
		{"utility on a tax return", func(r *DocumentRequest) { r.Type = TaxReturn }, "unexpected_utility", KindInvalid},
		{"wrong content type", func(r *DocumentRequest) { r.ContentType = "text/html" }, "unsupported_content_type", KindInvalid},
		{"missing content type", func(r *DocumentRequest) { r.ContentType = "" }, "unsupported_content_type", KindInvalid},
		{"size 0", func(r *DocumentRequest) { r.Size = 0 }, "invalid_size", KindInvalid},
		{"negative size", func(r *DocumentRequest) { r.Size = -1 }, "invalid_size", KindInvalid},
		{"over the limit", func(r *DocumentRequest) { r.Size = DefaultMaxUploadBytes + 1 }, "too_large", KindTooLarge},
		{"at the limit", func(r *DocumentRequest) { r.Size = DefaultMaxUploadBytes }, "", KindInternal},
		{"file name too long", func(r *DocumentRequest) { r.FileName = strings.Repeat("a", 256) }, "invalid_file_name", KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mutate(&r)
			d, err := NewDocument("cust-1", "doc1", r, DefaultMaxUploadBytes, t0)
			if CodeOf(err) != tt.wantCode || (err != nil && KindOf(err) != tt.wantKind) {
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if err == nil && (d.Key != "docs/cust-1/doc1" || d.State != DocPendingUpload) {
				t.Fatalf("document = %+v", d)
			}
		})
	}
}

func TestDocumentCheck(t *testing.T) {
	d := Document{ContentType: JPEG, DeclaredSize: 100}
	const key = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"
	good := ObjectInfo{Exists: true, Size: 100, ContentType: JPEG, SSE: "aws:kms", KMSKeyID: key, Head: []byte{0xFF, 0xD8, 0xFF, 0xE0}}
	tests := []struct {
		name   string
		mutate func(*ObjectInfo)
		want   InvalidReason
	}{
		{"valid", func(*ObjectInfo) {}, ""},
		{"key id instead of ARN", func(o *ObjectInfo) { o.KMSKeyID = "1111-2222" }, ""},
		{"missing", func(o *ObjectInfo) { o.Exists = false }, InvalidMissing},
		{"empty", func(o *ObjectInfo) { o.Size = 0 }, InvalidEmpty},
		{"too large", func(o *ObjectInfo) { o.Size = 11 }, InvalidTooLarge},
		{"a byte more than declared", func(o *ObjectInfo) { o.Size = 101 }, InvalidSizeMismatch},
		{"a byte less than declared", func(o *ObjectInfo) { o.Size = 99 }, InvalidSizeMismatch},
		{"html bytes declared as image/jpeg", func(o *ObjectInfo) { o.Head = []byte("<html>") }, InvalidTypeMismatch},
		{"stored with another content type", func(o *ObjectInfo) { o.ContentType = PNG }, InvalidTypeMismatch},
		{"not encrypted", func(o *ObjectInfo) { o.SSE = "" }, InvalidEncryption},
		{"SSE-S3", func(o *ObjectInfo) { o.SSE = "AES256" }, InvalidEncryption},
		{"another KMS key", func(o *ObjectInfo) { o.KMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/9999" }, InvalidEncryption},
	}
	for _, tt := range tests {
		o := good
		tt.mutate(&o)
		max := int64(1000)
		if tt.name == "too large" {
			max = 10
		}
		got, ok := d.Check(o, key, max)
		if got != tt.want || ok != (tt.want == "") {
			t.Errorf("%s: Check = %q %v, want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestDocumentKey(t *testing.T) {
	c, d, ok := ParseDocumentKey(DocumentKey("cust-1", "abc"))
	if !ok || c != "cust-1" || d != "abc" {
		t.Fatalf("round trip = %q %q %v", c, d, ok)
	}
	for _, bad := range []string{"docs/cust-1", "other/cust-1/abc", "docs/cust-1/abc/def", "docs//abc", "docs/../abc"} {
		if _, _, ok := ParseDocumentKey(bad); ok {
			t.Errorf("ParseDocumentKey(%q) accepted", bad)
		}
	}
}

// rev is a reviewer actor.
func rev(id string) Actor { return Actor{Kind: ActorReviewer, ID: id} }

func TestDecision(t *testing.T) {
	pending := Submission{ID: "s1", CustomerID: "c1", Status: SubPending, Version: 2, ClaimedBy: "rev-1", ClaimedAt: t0}
	ownClaim := pending
	ownClaim.ClaimedBy = "c1"
	approve := Verdict{Result: "approve"}
	reject := func(r ...ReasonCode) Verdict { return Verdict{Result: "reject", Reasons: r} }
	tests := []struct {
		name     string
		sub      Submission
		by       string
		linked   string // the billing customer id the reviewer's staff account is linked to
		in       DecisionInput
		wantCode string
		want     SubmissionStatus
	}{
		{"both approved verifies", pending, "rev-1", "", DecisionInput{Identity: approve, Address: approve, Version: 2}, "", SubApproved},
		{"one rejected rejects", pending, "rev-1", "", DecisionInput{Identity: approve, Address: reject("too_old"), Version: 2}, "", SubRejected},
		{"stale version", pending, "rev-1", "", DecisionInput{Identity: approve, Address: approve, Version: 1}, "stale_version", ""},
		{"someone else's claim", pending, "rev-2", "", DecisionInput{Identity: approve, Address: approve, Version: 2}, "not_claimed", ""},
		{"already decided", Submission{ID: "s1", Status: SubApproved, Version: 3, ClaimedBy: "rev-1"}, "rev-1", "", DecisionInput{Identity: approve, Address: approve, Version: 3}, "already_decided", ""},
		{"unknown reason code", pending, "rev-1", "", DecisionInput{Identity: approve, Address: reject("ugly"), Version: 2}, "unknown_reason", ""},
		{"rejection without reasons", pending, "rev-1", "", DecisionInput{Identity: approve, Address: reject(), Version: 2}, "reasons_required", ""},
		{"approval with reasons", pending, "rev-1", "", DecisionInput{Identity: Verdict{Result: "approve", Reasons: []ReasonCode{"other"}}, Address: approve, Version: 2}, "reasons_on_approval", ""},
		{"unknown result", pending, "rev-1", "", DecisionInput{Identity: Verdict{Result: "maybe"}, Address: approve, Version: 2}, "invalid_result", ""},
		{"missing version", pending, "rev-1", "", DecisionInput{Identity: approve, Address: approve}, "version_required", ""},
		{"message too long", pending, "rev-1", "", DecisionInput{Identity: approve, Address: approve, Version: 2, CustomerMessage: strings.Repeat("字", MaxCustomerMessage+1)}, "message_too_long", ""},
		{"by the customer themself (their staff subject is their customer id)", ownClaim, "c1", "", DecisionInput{Identity: approve, Address: approve, Version: 2}, "own_account", ""},
		{"by a reviewer whose staff account is linked to the customer", pending, "rev-1", "c1", DecisionInput{Identity: approve, Address: approve, Version: 2}, "own_account", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sub.Decide(Actor{Kind: ActorReviewer, ID: tt.by, Customer: tt.linked}, tt.in, t0)
			if CodeOf(err) != tt.wantCode {
				t.Fatalf("err = %v, want %q", err, tt.wantCode)
			}
			if err != nil {
				return
			}
			if got.Status != tt.want || got.Version != tt.sub.Version+1 || got.DecidedBy != tt.by {
				t.Fatalf("decided = %+v", got)
			}
		})
	}
	t.Run("fixable reasons ask for a new document, altered rejects it", func(t *testing.T) {
		got, err := pending.Decide(rev("rev-1"), DecisionInput{Identity: reject("altered", "unreadable"), Address: reject("too_old"), Version: 2}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Identity.Result != ResultRejected || got.Address.Result != ResultResubmit {
			t.Fatalf("identity %s, address %s", got.Identity.Result, got.Address.Result)
		}
	})
}

func TestClaim(t *testing.T) {
	s := Submission{ID: "s1", CustomerID: "c1", Status: SubPending, Version: 1}
	for _, own := range []Actor{{Kind: ActorReviewer, ID: "c1"}, {Kind: ActorAdmin, ID: "adm-1", Customer: "c1"}} {
		if _, err := s.Claim(own, t0); CodeOf(err) != "own_account" || KindOf(err) != KindForbidden {
			t.Fatalf("%+v claims their own submission: %v", own, err)
		}
	}
	s, err := s.Claim(rev("rev-1"), t0)
	if err != nil || s.ClaimedBy != "rev-1" || s.Version != 2 {
		t.Fatalf("claim = %+v, %v", s, err)
	}
	if _, err := s.Claim(rev("rev-2"), t0.Add(ClaimTTL-time.Second)); CodeOf(err) != "claimed" {
		t.Fatalf("second reviewer during the claim: %v", err)
	}
	if again, err := s.Claim(rev("rev-1"), t0.Add(time.Minute)); err != nil || again.ClaimedAt != t0.Add(time.Minute) {
		t.Fatalf("renewal: %+v, %v", again, err)
	}
	if took, err := s.Claim(rev("rev-2"), t0.Add(ClaimTTL)); err != nil || took.ClaimedBy != "rev-2" {
		t.Fatalf("takeover after the claim expired: %+v, %v", took, err)
	}
}

func TestAuditChain(t *testing.T) {
	entries := []AuditEntry{
		{At: t0, Actor: ByBilling, Action: "order.held", OrderID: "o1"},
		{At: t0.Add(h), Actor: Actor{Kind: ActorCustomer, ID: "c1"}, Action: "submission.created", SubmissionID: "s1"},
		{At: t0.Add(2 * h), Actor: Actor{Kind: ActorReviewer, ID: "r1"}, Action: "submission.decided", Detail: map[string]string{"identity": "approved"}},
	}
	head, chained := AuditHead{}.Chain(entries[:2])
	head, more := head.Chain(entries[2:])
	chained = append(chained, more...)
	if r := VerifyChain(chained, head); !r.OK || r.Entries != 3 || head.Seq != 3 {
		t.Fatalf("intact chain reported %+v (head %d)", r, head.Seq)
	}
	edited := slices.Clone(chained)
	edited[1].Action = "submission.withdrawn"
	if r := VerifyChain(edited, head); r.OK || r.Broken != 2 {
		t.Fatalf("edited entry: %+v", r)
	}
	deleted := slices.Delete(slices.Clone(chained), 1, 2)
	if r := VerifyChain(deleted, head); r.OK || r.Broken != 2 {
		t.Fatalf("deleted entry: %+v", r)
	}
	if r := VerifyChain(chained[:2], head); r.OK || r.Broken != 3 {
		t.Fatalf("newest entry deleted: %+v", r)
	}
	relinked := slices.Clone(chained)
	relinked[2].Prev = "00"
	relinked[2].Hash = relinked[2].hash()
	if r := VerifyChain(relinked, head); r.OK || r.Broken != 3 {
		t.Fatalf("rehashed entry with a wrong link: %+v", r)
	}
}

func TestExtensionFor(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		days int
	}{{0, 0}, {-h, 0}, {1, 1}, {24 * h, 1}, {24*h + 1, 2}, {72 * h, 3}, {90 * h, 4}} {
		if got := ExtensionFor(t0, t0.Add(tt.d)); got.Days != tt.days || (tt.d > 0 && got.Exact != tt.d) {
			t.Errorf("ExtensionFor(%s) = %+v, want %d days", tt.d, got, tt.days)
		}
	}
}
