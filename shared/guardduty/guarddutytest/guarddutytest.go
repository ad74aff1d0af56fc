// Package guarddutytest stands in for GuardDuty Malware Protection for S3
// where it cannot run: on the local emulator. Scanner reports what GuardDuty
// reports for the EICAR test file (a threat) and for anything else (no
// threat found), and publishes it as GuardDuty does: the scan result event,
// on the default EventBridge bus, where the stack's rule routes it to the
// validator's queue. So the validator runs exactly the code it runs in AWS;
// only the scanning engine is substituted (listed at GET
// /local/substitutions of the dev server).
package guarddutytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
)

// EventBridge is the part of the EventBridge client the scanner uses.
type EventBridge interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Scanner is a kyc.Scanner that scans what the validator gives it for the
// EICAR test file and publishes the result as GuardDuty would.
type Scanner struct {
	events EventBridge
	bucket string
	now    func() time.Time
}

var _ kyc.Scanner = (*Scanner)(nil)

// New returns a scanner publishing with events the results of the objects
// of bucket, at the times now gives (time.Now when nil).
func New(events EventBridge, bucket string, now func() time.Time) *Scanner {
	if now == nil {
		now = time.Now
	}
	return &Scanner{events: events, bucket: bucket, now: now}
}

// Scan publishes the scan result of an object version and answers pending,
// as the GuardDuty scanner does: the result reaches the validator as an
// event.
func (s *Scanner) Scan(ctx context.Context, d kyc.Document, versionID string, content []byte) (kyc.ScanResult, error) {
	detail, err := json.Marshal(Detail(s.bucket, d.Key, versionID, content))
	if err != nil {
		return kyc.ScanResult{}, err
	}
	out, err := s.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String(guardduty.Source), DetailType: aws.String(guardduty.DetailTypeScanResult),
		Detail: aws.String(string(detail)), Time: aws.Time(s.now()),
	}}})
	if err != nil {
		return kyc.ScanResult{}, fmt.Errorf("publish scan result: %w", err)
	}
	if out.FailedEntryCount > 0 {
		return kyc.ScanResult{}, errors.New("publish scan result: the bus refused the event")
	}
	return kyc.ScanResult{Status: kyc.ScanPending}, nil
}

// Detail is the detail GuardDuty publishes for an object version of bucket
// with content: THREATS_FOUND (the EICAR test file) or NO_THREATS_FOUND.
func Detail(bucket, key, versionID string, content []byte) guardduty.Detail {
	d := guardduty.Detail{SchemaVersion: "1.0", ScanStatus: "COMPLETED", ResourceType: guardduty.ResourceTypeS3Object,
		S3ObjectDetails: guardduty.S3ObjectDetails{BucketName: bucket, ObjectKey: key, VersionID: versionID, ETag: "local"},
		ScanResult:      guardduty.ScanResult{Status: guardduty.StatusNoThreatsFound, Threats: []guardduty.Threat{}}}
	if guardduty.HasEICAR(content) {
		d.ScanResult = guardduty.ScanResult{Status: guardduty.StatusThreatsFound, Threats: []guardduty.Threat{{Name: guardduty.EICARThreat}}}
	}
	return d
}
