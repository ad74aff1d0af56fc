package guarddutytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/guardduty/guarddutytest"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

type bus struct {
	in     []*eventbridge.PutEventsInput
	failed int32
	err    error
}

func (b *bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.in = append(b.in, in)
	return &eventbridge.PutEventsOutput{FailedEntryCount: b.failed}, b.err
}

// The stand-in publishes, on the default bus, the event GuardDuty publishes:
// the validator reads a threat for the EICAR test file (alone or inside a
// document) and no threat otherwise, and the scanner answers pending.
func TestScannerPublishesWhatGuardDutyPublishes(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		content []byte
		want    kyc.ScanStatus
	}{
		{"the test file", kyctest.EICAR(), kyc.ScanThreat},
		{"a PDF carrying it", kyctest.PDFWithEICAR(), kyc.ScanThreat},
		{"a clean PDF", kyctest.Content(kyc.PDF, 4096), kyc.ScanClean},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &bus{}
			s := guarddutytest.New(b, "kyc-docs", func() time.Time { return at })
			r, err := s.Scan(context.Background(), kyc.Document{Key: "docs/c-1/d-1"}, "v7", tt.content)
			if err != nil || r.Status != kyc.ScanPending {
				t.Fatalf("scan: %+v, %v", r, err)
			}
			if len(b.in) != 1 || len(b.in[0].Entries) != 1 || b.in[0].Entries[0].EventBusName != nil {
				t.Fatalf("published %+v, want one event on the default bus", b.in)
			}
			e := b.in[0].Entries[0]
			if aws.ToString(e.Source) != guardduty.Source || aws.ToString(e.DetailType) != guardduty.DetailTypeScanResult || !aws.ToTime(e.Time).Equal(at) {
				t.Fatalf("event %+v", e)
			}
			var d guardduty.Detail
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil || d.S3ObjectDetails.BucketName != "kyc-docs" {
				t.Fatalf("detail %s: %v", aws.ToString(e.Detail), err)
			}
			got, err := guardduty.Result(json.RawMessage(aws.ToString(e.Detail)), at)
			if err != nil || got.Status != tt.want || got.Key != "docs/c-1/d-1" || got.VersionID != "v7" {
				t.Fatalf("the validator reads %+v, %v; want %s", got, err, tt.want)
			}
		})
	}
	for _, b := range []*bus{{err: errors.New("down")}, {failed: 1}} {
		if _, err := guarddutytest.New(b, "kyc-docs", nil).Scan(context.Background(), kyc.Document{Key: "docs/c/d"}, "v", nil); err == nil {
			t.Errorf("a publication that failed (%v, %d failed) answered no error: the upload must be validated again", b.err, b.failed)
		}
	}
}
