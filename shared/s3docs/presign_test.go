package s3docs_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/s3docs"
)

const (
	testRegion = "eu-central-1"
	testBucket = "kyc-documents-test"
	testKeyARN = "arn:aws:kms:eu-central-1:111122223333:key/0b7a6c1e-1111-4222-8333-944445555666"
	testSecret = "secret-for-tests-only"
)

// offlineFiles is a Files whose client never needs the network: presigning
// is computed locally.
func offlineFiles(tb testing.TB) *s3docs.Files {
	tb.Helper()
	client := s3.New(s3.Options{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", testSecret, ""),
	})
	return s3docs.New(client, testBucket, testKeyARN)
}

type policyDoc struct {
	Expiration string            `json:"expiration"`
	Conditions []json.RawMessage `json:"conditions"`
}

// conditionStrings renders each policy condition as one comparable line:
// {"a":"b"} as `eq a b`, ["op","$a","b"] as `op $a b`.
func conditionStrings(tb testing.TB, raw []json.RawMessage) []string {
	tb.Helper()
	var out []string
	for _, c := range raw {
		var m map[string]string
		if err := json.Unmarshal(c, &m); err == nil {
			if len(m) != 1 {
				tb.Fatalf("condition %s has %d entries, want 1", c, len(m))
			}
			for k, v := range m {
				out = append(out, "eq "+k+" "+v)
			}
			continue
		}
		var a []any
		dec := json.NewDecoder(bytes.NewReader(c))
		dec.UseNumber() // numbers as written: 10485760, not 1.048576e+07
		if err := dec.Decode(&a); err != nil {
			tb.Fatalf("condition %s is neither an object nor an array", c)
		}
		parts := make([]string, len(a))
		for i, v := range a {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	slices.Sort(out)
	return out
}

func TestPresignUploadPolicy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string
		size        int64 // declared
		ttl         time.Duration
	}{
		{"jpeg of 10 MiB, 15 minutes", kyc.JPEG, 10 << 20, 15 * time.Minute},
		{"pdf of 1 byte, 1 minute", kyc.PDF, 1, time.Minute},
		{"png of 5 MB, 10 minutes", kyc.PNG, 5_000_000, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := offlineFiles(t)
			d := kyc.Document{ID: "doc-1", CustomerID: "cust-1", Type: kyc.DocType("passport"),
				ContentType: tc.contentType, Key: kyc.DocumentKey("cust-1", "doc-1"), DeclaredSize: tc.size}

			before := time.Now()
			up, err := f.PresignUpload(context.Background(), d, 10<<20, tc.ttl)
			after := time.Now()
			if err != nil {
				t.Fatalf("PresignUpload: %v", err)
			}
			if want := "https://" + testBucket + ".s3." + testRegion + ".amazonaws.com"; up.URL != want {
				t.Errorf("URL = %q, want %q", up.URL, want)
			}

			raw, err := base64.StdEncoding.DecodeString(up.Fields["policy"])
			if err != nil {
				t.Fatalf("policy is not base64: %v", err)
			}
			var p policyDoc
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("policy is not JSON: %v\n%s", err, raw)
			}

			// Exactly these conditions: nothing missing, nothing looser
			// (no starts-with, no second key or content-type rule, no size
			// but the declared one).
			want := []string{
				"content-length-range " + fmt.Sprint(tc.size) + " " + fmt.Sprint(tc.size),
				"eq Content-Type " + tc.contentType,
				"eq X-Amz-Algorithm AWS4-HMAC-SHA256",
				"eq X-Amz-Credential " + up.Fields["X-Amz-Credential"],
				"eq X-Amz-Date " + up.Fields["X-Amz-Date"],
				"eq bucket " + testBucket,
				"eq key docs/cust-1/doc-1",
				"eq tagging <Tagging><TagSet><Tag><Key>kyc-state</Key><Value>unsubmitted</Value></Tag></TagSet></Tagging>",
				"eq x-amz-server-side-encryption aws:kms",
				"eq x-amz-server-side-encryption-aws-kms-key-id " + testKeyARN,
			}
			slices.Sort(want)
			got := conditionStrings(t, p.Conditions)
			if !slices.Equal(got, want) {
				t.Errorf("policy conditions:\n got %q\nwant %q", got, want)
			}
			if strings.Contains(strings.ToLower(string(raw)), "starts-with") {
				t.Errorf("policy has a starts-with condition: %s", raw)
			}
			if !strings.HasPrefix(up.Fields["X-Amz-Credential"], "AKIDEXAMPLE/") || !strings.HasSuffix(up.Fields["X-Amz-Credential"], "/"+testRegion+"/s3/aws4_request") {
				t.Errorf("X-Amz-Credential = %q", up.Fields["X-Amz-Credential"])
			}

			// Expiry: ttl after signing, to the second; ExpiresAt never later.
			exp, err := time.Parse(time.RFC3339, p.Expiration)
			if err != nil {
				t.Fatalf("expiration %q: %v", p.Expiration, err)
			}
			if lo, hi := before.Add(tc.ttl).Add(-time.Second), after.Add(tc.ttl); exp.Before(lo) || exp.After(hi) {
				t.Errorf("expiration %s not within ttl %s of signing (%s..%s)", exp, tc.ttl, lo, hi)
			}
			if up.ExpiresAt.After(exp) || exp.Sub(up.ExpiresAt) > time.Second {
				t.Errorf("ExpiresAt %s, policy expiration %s: want at most 1s earlier, never later", up.ExpiresAt, exp)
			}

			// Every field the browser sends is pinned by an exact condition
			// with the same value (S3 refuses unlisted fields), and the form
			// carries every pinned value.
			signed := map[string]bool{"policy": true, "X-Amz-Signature": true}
			for k, v := range up.Fields {
				if signed[k] {
					continue
				}
				if !slices.Contains(got, "eq "+k+" "+v) {
					t.Errorf("form field %s=%q has no exact policy condition", k, v)
				}
			}
			for _, name := range []string{"key", "Content-Type", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "tagging", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature", "policy"} {
				if up.Fields[name] == "" {
					t.Errorf("form field %s is missing", name)
				}
			}
			if _, ok := up.Fields["bucket"]; ok {
				t.Error("form has a bucket field; the URL names the bucket")
			}

			// The signature is the SigV4 HMAC of exactly this policy.
			if got, want := up.Fields["X-Amz-Signature"], sign(up.Fields["policy"], up.Fields["X-Amz-Date"][:8]); got != want {
				t.Errorf("signature %s, want %s: the signed policy is not the one in the form", got, want)
			}
		})
	}
}

func sign(policy, date string) string {
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+testSecret), date)
	k = mac(k, testRegion)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, policy))
}

func TestPresignUploadRefuses(t *testing.T) {
	f := offlineFiles(t)
	d := kyc.Document{Key: "docs/c/d", ContentType: kyc.PDF, DeclaredSize: 100}
	for _, tc := range []struct {
		name    string
		d       kyc.Document
		maxSize int64
		ttl     time.Duration
		ok      bool
	}{
		{"15 minutes is the limit", d, 100, 15 * time.Minute, true},
		{"over 15 minutes", d, 100, 15*time.Minute + time.Second, false},
		{"an hour", d, 100, time.Hour, false},
		{"zero ttl", d, 100, 0, false},
		{"negative ttl", d, 100, -time.Minute, false},
		{"declared size at the limit", d, 100, time.Minute, true},
		{"declared size over the limit", d, 99, time.Minute, false},
		{"zero max size", d, 0, time.Minute, false},
		{"no declared size", kyc.Document{Key: "docs/c/d", ContentType: kyc.PDF}, 100, time.Minute, false},
		{"negative declared size", kyc.Document{Key: "docs/c/d", ContentType: kyc.PDF, DeclaredSize: -1}, 100, time.Minute, false},
		{"no key", kyc.Document{ContentType: kyc.PDF, DeclaredSize: 10}, 100, time.Minute, false},
		{"no content type", kyc.Document{Key: "docs/c/d", DeclaredSize: 10}, 100, time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, err := f.PresignUpload(context.Background(), tc.d, tc.maxSize, tc.ttl)
			if tc.ok {
				if err != nil || up.Fields["policy"] == "" {
					t.Fatalf("PresignUpload = %v, %v; want a form", up, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("PresignUpload accepted it: %+v", up)
			}
			if up.URL != "" || up.Fields != nil {
				t.Errorf("refused, but returned a form: %+v", up)
			}
		})
	}
}

func TestPresignUploadNeedsKey(t *testing.T) {
	client := s3.New(s3.Options{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	f := s3docs.New(client, testBucket, "")
	if _, err := f.PresignUpload(context.Background(), kyc.Document{Key: "docs/c/d", ContentType: kyc.PDF, DeclaredSize: 10}, 10, time.Minute); err == nil {
		t.Fatal("PresignUpload without a KMS key gave a form")
	}
}

// TestPresignViewAndExportURLs: a reviewer's link shows the reviewed copy
// (the re-encoded image; a PDF's validated original) inline for at most 5
// minutes; a disclosure's link downloads the validated original as an
// attachment for at most an hour. Both pin the version and forbid caching.
func TestPresignViewAndExportURLs(t *testing.T) {
	f := offlineFiles(t)
	image := kyc.Document{ID: "doc-1", CustomerID: "cust-1", Type: kyc.Passport, ContentType: kyc.JPEG, Key: "docs/cust-1/doc-1", VersionID: "v-123",
		Reviewed: &kyc.ReviewCopy{Key: "reviewed/cust-1/doc-1", VersionID: "r-7", ContentType: kyc.JPEG, Size: 10}}
	pdf := kyc.Document{ID: "doc-2", CustomerID: "cust-1", Type: kyc.UtilityBill, ContentType: kyc.PDF, Key: "docs/cust-1/doc-2", VersionID: "v-456"}
	view, export := f.PresignView, f.PresignExport
	for _, tc := range []struct {
		name    string
		presign func(context.Context, kyc.Document, time.Duration) (kyc.Link, error)
		d       kyc.Document
		ttl     time.Duration
		expires string // "" for refused
		path    string
		query   map[string]string
	}{
		{"view of an image: the reviewed copy, inline", view, image, 5 * time.Minute, "300", "/reviewed/cust-1/doc-1",
			map[string]string{"versionId": "r-7", "response-content-disposition": `inline; filename="passport.jpg"`, "response-content-type": kyc.JPEG}},
		{"view of a PDF: the validated original, inline", view, pdf, time.Minute, "60", "/docs/cust-1/doc-2",
			map[string]string{"versionId": "v-456", "response-content-disposition": `inline; filename="utility_bill.pdf"`, "response-content-type": kyc.PDF}},
		{"export of an image: the original, as an attachment", export, image, time.Hour, "3600", "/docs/cust-1/doc-1",
			map[string]string{"versionId": "v-123", "response-content-disposition": `attachment; filename="passport.jpg"`, "response-content-type": kyc.JPEG}},
		{"view over five minutes", view, image, 5*time.Minute + time.Second, "", "", nil},
		{"export over an hour", export, image, time.Hour + time.Second, "", "", nil},
		{"zero", view, image, 0, "", "", nil},
		{"view of a document never validated", view, kyc.Document{Type: kyc.Passport, ContentType: kyc.JPEG, Key: "docs/c/d"}, time.Minute, "", "", nil},
		{"export of a document never validated", export, kyc.Document{Type: kyc.Passport, ContentType: kyc.JPEG, Key: "docs/c/d"}, time.Minute, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			link, err := tc.presign(context.Background(), tc.d, tc.ttl)
			if tc.expires == "" {
				if err == nil {
					t.Fatalf("presigned %+v, want an error", link)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(link.URL)
			if err != nil {
				t.Fatalf("URL: %v", err)
			}
			q := u.Query()
			tc.query["X-Amz-Expires"], tc.query["X-Amz-Algorithm"], tc.query["response-cache-control"] = tc.expires, "AWS4-HMAC-SHA256", "no-store"
			for k, want := range tc.query {
				if got := q.Get(k); got != want {
					t.Errorf("query %s = %q, want %q", k, got, want)
				}
			}
			if u.Host != testBucket+".s3."+testRegion+".amazonaws.com" || u.Path != tc.path {
				t.Errorf("URL %s://%s%s does not name the object %s", u.Scheme, u.Host, u.Path, tc.path)
			}
			if lo, hi := before.Add(tc.ttl), time.Now().Add(tc.ttl); link.ExpiresAt.Before(lo) || link.ExpiresAt.After(hi) {
				t.Errorf("ExpiresAt %s not in [%s, %s]", link.ExpiresAt, lo, hi)
			}
		})
	}
}

func TestWriteReviewedRefuses(t *testing.T) {
	f := offlineFiles(t)
	for _, tc := range []struct {
		name    string
		d       kyc.Document
		content []byte
		ct      string
	}{
		{"no document id", kyc.Document{CustomerID: "c-1"}, []byte("x"), kyc.PNG},
		{"a customer id with a slash", kyc.Document{CustomerID: "c/1", ID: "d-1"}, []byte("x"), kyc.PNG},
		{"no content", kyc.Document{CustomerID: "c-1", ID: "d-1"}, nil, kyc.PNG},
		{"no content type", kyc.Document{CustomerID: "c-1", ID: "d-1"}, []byte("x"), ""},
	} {
		if _, err := f.WriteReviewed(context.Background(), tc.d, tc.content, tc.ct); err == nil {
			t.Errorf("%s: written", tc.name)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct {
		typ, ct, want string
	}{
		{"passport", kyc.JPEG, `attachment; filename="passport.jpg"`},
		{"bank_statement", kyc.PNG, `attachment; filename="bank_statement.png"`},
		{"national_id", kyc.PDF, `attachment; filename="national_id.pdf"`},
		{"x\"; filename=evil.html", kyc.PDF, `attachment; filename="x___filename_evil_html.pdf"`},
		{"", "text/html", `attachment; filename="document.bin"`},
	} {
		if got := s3docs.ContentDisposition(kyc.Document{Type: kyc.DocType(tc.typ), ContentType: tc.ct}); got != tc.want {
			t.Errorf("ContentDisposition(%q, %q) = %s, want %s", tc.typ, tc.ct, got, tc.want)
		}
	}
}

// In Lambda the credentials carry a session token: the form sends it and the
// policy pins it, and nothing else changes.
func TestPresignUploadSessionToken(t *testing.T) {
	client := s3.New(s3.Options{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("ASIAEXAMPLE", testSecret, "session-token-1"),
	})
	f := s3docs.New(client, testBucket, testKeyARN)
	up, err := f.PresignUpload(context.Background(), kyc.Document{Key: "docs/c/d", ContentType: kyc.PDF, DeclaredSize: 100}, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if up.Fields["X-Amz-Security-Token"] != "session-token-1" {
		t.Errorf("form token = %q", up.Fields["X-Amz-Security-Token"])
	}
	raw, _ := base64.StdEncoding.DecodeString(up.Fields["policy"])
	var p policyDoc
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	got := conditionStrings(t, p.Conditions)
	if !slices.Contains(got, "eq X-Amz-Security-Token session-token-1") || len(got) != 11 {
		t.Errorf("conditions %q: want the 10 usual ones and the token", got)
	}
}
