// Package guardduty is the malware scan of uploaded documents in AWS.
// GuardDuty Malware Protection for S3 (the stack's malware protection plan
// on the documents bucket, prefix docs/) scans every object created there on
// its own, tags it with the result, and publishes the result on the
// account's default EventBridge bus, whence the stack's rule delivers it to
// the validator's queue. Scanner is the kyc.Scanner port on it (the scan is
// under way already, so its answer is always pending); Result reads the
// event the validator then receives. No AWS SDK is needed for either.
package guardduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The scan result event (EventBridge, default bus).
const (
	Source               = contract.ScanResultSource
	DetailTypeScanResult = contract.ScanResultDetailType
	ResourceTypeS3Object = "S3_OBJECT"
)

// The scan result statuses of the event's scanResultDetails (also the
// values of the TagScanStatus object tag).
const (
	StatusNoThreatsFound = "NO_THREATS_FOUND"
	StatusThreatsFound   = "THREATS_FOUND"
	StatusUnsupported    = "UNSUPPORTED"
	StatusAccessDenied   = "ACCESS_DENIED"
	StatusFailed         = "FAILED"
)

// TagScanStatus is the object tag GuardDuty writes the result status into
// when the plan's tagging is enabled.
const TagScanStatus = "GuardDutyMalwareScanStatus"

// Scanner is the kyc.Scanner of a bucket protected by a malware protection
// plan: GuardDuty scans each new object by itself, so Scan asks for nothing
// and answers pending; the result arrives as an event (Result).
type Scanner struct{}

var _ kyc.Scanner = Scanner{}

// Scan answers pending: the plan's scan of the object is under way.
func (Scanner) Scan(context.Context, kyc.Document, string, []byte) (kyc.ScanResult, error) {
	return kyc.ScanResult{Status: kyc.ScanPending}, nil
}

// Detail is the detail of a "GuardDuty Malware Protection Object Scan
// Result" event.
type Detail struct {
	SchemaVersion   string          `json:"schemaVersion"`
	ScanStatus      string          `json:"scanStatus"`   // COMPLETED, SKIPPED, FAILED
	ResourceType    string          `json:"resourceType"` // S3_OBJECT
	S3ObjectDetails S3ObjectDetails `json:"s3ObjectDetails"`
	ScanResult      ScanResult      `json:"scanResultDetails"`
}

// S3ObjectDetails names the scanned object version.
type S3ObjectDetails struct {
	BucketName  string `json:"bucketName"`
	ObjectKey   string `json:"objectKey"`
	ETag        string `json:"eTag"`
	VersionID   string `json:"versionId"`
	S3Throttled bool   `json:"s3Throttled"`
}

// ScanResult is the verdict and what was found.
type ScanResult struct {
	Status  string   `json:"scanResultStatus"`
	Threats []Threat `json:"threats"`
}

// Threat is one thing found.
type Threat struct {
	Name string `json:"name"`
}

// Result reads a scan result event's detail as a kyc.ScanResult at the
// event's time: NO_THREATS_FOUND is clean, THREATS_FOUND a threat, and
// UNSUPPORTED, ACCESS_DENIED and FAILED a failed scan (not clean). A detail
// of no object, of another kind of resource, or with an unknown status is an
// error. (Which bucket it is about is the stack's rule's concern: it routes
// only the documents bucket's results to the validator.)
func Result(detail json.RawMessage, at time.Time) (kyc.ScanResult, error) {
	var d Detail
	if err := json.Unmarshal(detail, &d); err != nil {
		return kyc.ScanResult{}, fmt.Errorf("scan result detail: %w", err)
	}
	o := d.S3ObjectDetails
	switch {
	case d.ResourceType != "" && d.ResourceType != ResourceTypeS3Object:
		return kyc.ScanResult{}, fmt.Errorf("scan result of a %q, not an S3 object", d.ResourceType)
	case o.ObjectKey == "":
		return kyc.ScanResult{}, errors.New("scan result names no object")
	}
	r := kyc.ScanResult{Key: objectKey(o.ObjectKey), VersionID: o.VersionID, At: at.UTC()}
	switch d.ScanResult.Status {
	case StatusNoThreatsFound:
		r.Status = kyc.ScanClean
	case StatusThreatsFound:
		r.Status = kyc.ScanThreat
		for _, t := range d.ScanResult.Threats {
			r.Threats = append(r.Threats, t.Name)
		}
	case StatusUnsupported, StatusAccessDenied, StatusFailed:
		r.Status = kyc.ScanFailed
	default:
		return kyc.ScanResult{}, fmt.Errorf("scan result status %q", kyc.Short(d.ScanResult.Status))
	}
	return r, nil
}

// objectKey returns the key of the event, URL-decoded if it was encoded (as
// S3 encodes the keys of its notifications): document keys contain no '%'.
func objectKey(k string) string {
	if !strings.Contains(k, "%") {
		return k
	}
	if u, err := url.QueryUnescape(k); err == nil {
		if _, _, ok := kyc.ParseDocumentKey(u); ok {
			return u
		}
	}
	return k
}

// The EICAR anti-malware test file: 68 printable bytes that every malware
// scanner, GuardDuty's included, reports as a threat, and that harm
// nothing. It is assembled here, not written out whole, so that scanners do
// not flag this source file.
var eicar = []byte(strings.Join([]string{`X5O!P%@AP[4\PZX54(P^)7CC)7}$`, "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"}, ""))

// EICARThreat is the threat name GuardDuty reports for the test file.
const EICARThreat = "EICAR-Test-File (not a virus)"

// EICAR returns the EICAR test file.
func EICAR() []byte { return bytes.Clone(eicar) }

// HasEICAR reports whether content carries the EICAR test file anywhere
// (alone, or inside a picture or a PDF).
func HasEICAR(content []byte) bool { return bytes.Contains(content, eicar) }
