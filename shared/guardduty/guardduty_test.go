package guardduty_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
)

const bucket = "kyc-docs"

// The sample (events/validator/sqs-guardduty-scan-result.json) is the event
// GuardDuty publishes, in the shape its documentation shows, as the
// validator's queue delivers it: it must keep reading as a threat.
func TestResultOfTheSampleEvent(t *testing.T) {
	raw, err := os.ReadFile("../../events/validator/sqs-guardduty-scan-result.json")
	if err != nil {
		t.Fatal(err)
	}
	var batch struct {
		Records []struct {
			Body string `json:"body"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &batch); err != nil || len(batch.Records) != 1 {
		t.Fatalf("sample: %v", err)
	}
	var e struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Time       time.Time       `json:"time"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(batch.Records[0].Body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Source != guardduty.Source || e.DetailType != guardduty.DetailTypeScanResult {
		t.Fatalf("sample is a %s %q", e.Source, e.DetailType)
	}
	r, err := guardduty.Result(e.Detail, e.Time)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != kyc.ScanThreat || r.Key != "docs/1001/k3v7q2m4n5p6r7s8t9u0w1x2y3" || r.VersionID == "" ||
		!slices.Equal(r.Threats, []string{guardduty.EICARThreat}) || !r.At.Equal(e.Time) {
		t.Fatalf("result %+v", r)
	}
}

func TestResult(t *testing.T) {
	detail := func(status, key, bkt string) json.RawMessage {
		return json.RawMessage(`{"schemaVersion":"1.0","scanStatus":"COMPLETED","resourceType":"S3_OBJECT",` +
			`"s3ObjectDetails":{"bucketName":"` + bkt + `","objectKey":"` + key + `","eTag":"e","versionId":"v1","s3Throttled":false},` +
			`"scanResultDetails":{"scanResultStatus":"` + status + `","threats":null}}`)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		status string
		want   kyc.ScanStatus
	}{
		{guardduty.StatusNoThreatsFound, kyc.ScanClean},
		{guardduty.StatusThreatsFound, kyc.ScanThreat},
		{guardduty.StatusUnsupported, kyc.ScanFailed},
		{guardduty.StatusAccessDenied, kyc.ScanFailed},
		{guardduty.StatusFailed, kyc.ScanFailed},
	} {
		r, err := guardduty.Result(detail(tt.status, "docs/c-1/d-1", bucket), at)
		if err != nil || r.Status != tt.want || r.Key != "docs/c-1/d-1" || r.VersionID != "v1" {
			t.Errorf("%s: %+v, %v", tt.status, r, err)
		}
	}
	if r, err := guardduty.Result(detail(guardduty.StatusNoThreatsFound, "docs/c%3A1/d-1", bucket), at); err != nil || r.Key != "docs/c:1/d-1" {
		t.Errorf("an encoded key: %+v, %v", r, err)
	}
	for name, d := range map[string]json.RawMessage{
		"no object":      detail(guardduty.StatusThreatsFound, "", bucket),
		"unknown status": detail("MAYBE", "docs/c-1/d-1", bucket),
		"not JSON":       json.RawMessage(`{`),
		"not an S3 scan": json.RawMessage(`{"resourceType":"EBS_VOLUME","s3ObjectDetails":{"bucketName":"kyc-docs","objectKey":"k"},"scanResultDetails":{"scanResultStatus":"NO_THREATS_FOUND"}}`),
		"a long status":  detail(strings.Repeat("X", 500), "docs/c-1/d-1", bucket),
	} {
		if _, err := guardduty.Result(d, at); err == nil {
			t.Errorf("%s: no error", name)
		} else if len(err.Error()) > 200 {
			t.Errorf("%s: the error quotes the input: %v", name, err)
		}
	}
}

// The scanner of a protected bucket asks for nothing: GuardDuty scans every
// new object and its result comes as an event.
func TestScannerIsPending(t *testing.T) {
	r, err := guardduty.Scanner{}.Scan(context.Background(), kyc.Document{Key: "docs/c/d"}, "v1", guardduty.EICAR())
	if err != nil || r.Status != kyc.ScanPending {
		t.Fatalf("%+v, %v", r, err)
	}
}

// The EICAR test file is the standard 68 bytes, found alone or inside
// another file, and nowhere else.
func TestEICAR(t *testing.T) {
	e := guardduty.EICAR()
	if len(e) != 68 || !strings.HasPrefix(string(e), "X5O!P%@AP[4") || !strings.HasSuffix(string(e), "$H+H*") {
		t.Fatalf("EICAR = %q", e)
	}
	e[0] = 'x' // a copy
	for _, tt := range []struct {
		content []byte
		want    bool
	}{
		{guardduty.EICAR(), true},
		{append([]byte("%PDF-1.7\n%"), guardduty.EICAR()...), true},
		{guardduty.EICAR()[:67], false},
		{[]byte("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"), false},
		{nil, false},
	} {
		if got := guardduty.HasEICAR(tt.content); got != tt.want {
			t.Errorf("HasEICAR(%q) = %v", tt.content, got)
		}
	}
}
