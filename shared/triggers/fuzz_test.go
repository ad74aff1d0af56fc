package triggers_test

// Fuzz target for the S3 event notifications the validator decodes (from
// its SQS queue, or directly). It runs the real validator function on SDK
// clients whose HTTP transport answers in memory: no document record exists,
// so every object is removed, and the transport sees which records the
// validator looks up and which objects it deletes. Run it with -short
// (`make fuzz` does) so the emulator is not started for nothing.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/triggers"
	"github.com/kycgate/kycgate/shared/wiring"
)

// memAWS answers the validator's calls: no DynamoDB item exists, no S3
// object has versions, every delete succeeds.
type memAWS struct {
	mu      sync.Mutex
	lookups []string // DynamoDB GetItem keys, "pk sk"
	deletes []string // S3 keys deleted
	buckets []string // S3 buckets addressed
}

const fuzzBucket = "kyc-docs-fuzz"

func (m *memAWS) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	reply := func(status int, ct, s string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(strings.NewReader(s)),
			ContentLength: int64(len(s)), Request: r}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if strings.HasSuffix(target, ".GetItem") {
			var in struct {
				Key map[string]struct{ S string }
			}
			_ = json.Unmarshal(body, &in)
			m.lookups = append(m.lookups, in.Key[contract.AttrPK].S+" "+in.Key[contract.AttrSK].S)
		}
		return reply(200, "application/x-amz-json-1.0", `{}`), nil
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	m.buckets = append(m.buckets, bucket)
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("versions"):
		return reply(200, "application/xml", `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>`), nil
	case r.Method == http.MethodDelete:
		m.deletes = append(m.deletes, key)
		return reply(204, "application/xml", ""), nil
	}
	return reply(400, "application/xml", `<Error><Code>InvalidRequest</Code></Error>`), nil
}

// FuzzS3Notification: any body, as the message of an SQS batch of one (the
// validator queue's shape), never panics the validator; it looks up a document record
// only for a key docs/<customerId>/<documentId> of the notification, and
// removes every other object it is told of, by its own key, in the
// documents bucket.
func FuzzS3Notification(f *testing.F) {
	addS3NotificationSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		m := &memAWS{}
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			HTTPClient: m, BaseEndpoint: aws.String("http://aws.invalid"), RetryMaxAttempts: 1}
		env := map[string]string{contract.EnvTable: "kyc-fuzz", contract.EnvBucket: fuzzBucket,
			contract.EnvKeyID: "arn:aws:kms:us-east-1:000000000000:key/fuzz", contract.EnvMaxUploadBytes: "10485760",
			contract.EnvMetricsNamespace: "KycGateFuzz"}
		fn, err := wiring.Validator.Build(context.Background(), func(k string) string { return env[k] }, wiring.NewClients(cfg),
			wiring.Host{Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body), EventSource: "aws:sqs"}}})
		if _, err := fn.Invoke(context.Background(), raw); err != nil {
			t.Fatalf("an SQS batch is the validator's input; the invocation failed: %v", err)
		}

		// The keys the notification names, as the validator reads them.
		var n triggers.S3Notification
		_ = json.Unmarshal(body, &n)
		var keys []string
		for _, r := range n.Records {
			if k, err := url.QueryUnescape(r.S3.Object.Key); err == nil && strings.HasPrefix(r.EventName, "ObjectCreated:") {
				keys = append(keys, k)
			}
		}
		// or the object a malware scan result names
		var scan struct {
			Source string `json:"source"`
			Detail struct {
				S3ObjectDetails struct {
					ObjectKey string `json:"objectKey"`
				} `json:"s3ObjectDetails"`
			} `json:"detail"`
		}
		if json.Unmarshal(body, &scan) == nil && scan.Source == contract.ScanResultSource {
			k := scan.Detail.S3ObjectDetails.ObjectKey
			keys = append(keys, k)
			if u, err := url.QueryUnescape(k); err == nil {
				keys = append(keys, u)
			}
		}
		for _, l := range m.lookups {
			pk, sk, _ := strings.Cut(l, " ")
			key := kyc.DocumentKey(strings.TrimPrefix(pk, "CUST#"), strings.TrimPrefix(sk, "DOC#"))
			c, d, ok := kyc.ParseDocumentKey(key)
			if !ok || "CUST#"+c != pk || "DOC#"+d != sk || !slices.Contains(keys, key) {
				t.Fatalf("looked up %q for a notification of %q", l, keys)
			}
		}
		for _, k := range m.deletes {
			if !slices.Contains(keys, k) {
				t.Fatalf("deleted %q; the notification named %q", k, keys)
			}
		}
		for _, b := range m.buckets {
			if b != fuzzBucket {
				t.Fatalf("addressed bucket %q", b)
			}
		}
	})
}

func addS3NotificationSeeds(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Post","s3":{"bucket":{"name":"kyc-docs-fuzz"},"object":{"key":"docs/cust-1/k3v7q2m4n5p6r7s8t9u0w1x2y3","size":52000,"versionId":"3HL4kqtJlcpXroDTDmJ"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"kyc-docs-fuzz"},"object":{"key":"docs/cust-1/doc-1"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/cust%2D1/doc%201","versionId":"v1"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/..%2F..%2Fetc/passwd","versionId":"v1"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"other/file.txt","versionId":"v2"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/a/b/c","versionId":"v3"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/a/%zz","versionId":"v4"}}}]}`,
		`{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"docs/cust-1/doc-1"}}}]}`,
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-26T10:00:00.000Z","Bucket":"kyc-docs-fuzz"}`,
		`{"Records":[]}`, `{"Records":null}`, `{"Records":[{}]}`, `[]`, `null`, `{`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/c/d1","versionId":"a"}}},{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/c/d2+x","versionId":"b"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"docs/cust-1/doc-1","versionId":"v1"}}}]}`))
	// GuardDuty's scan results, which the stack's rule routes to the same queue.
	for _, s := range []string{
		`{"version":"0","id":"e1","source":"aws.guardduty","detail-type":"GuardDuty Malware Protection Object Scan Result","time":"2026-11-26T10:05:07Z","detail":{"schemaVersion":"1.0","scanStatus":"COMPLETED","resourceType":"S3_OBJECT","s3ObjectDetails":{"bucketName":"kyc-docs-fuzz","objectKey":"docs/cust-1/doc-1","eTag":"e","versionId":"v1","s3Throttled":false},"scanResultDetails":{"scanResultStatus":"THREATS_FOUND","threats":[{"name":"EICAR-Test-File (not a virus)"}]}}}`,
		`{"source":"aws.guardduty","detail-type":"GuardDuty Malware Protection Object Scan Result","detail":{"s3ObjectDetails":{"objectKey":"docs/c/d","versionId":"v2"},"scanResultDetails":{"scanResultStatus":"NO_THREATS_FOUND"}}}`,
		`{"source":"aws.guardduty","detail-type":"GuardDuty Malware Protection Object Scan Result","detail":{"s3ObjectDetails":{"objectKey":"other/x","versionId":"v3"},"scanResultDetails":{"scanResultStatus":"THREATS_FOUND"}}}`,
		`{"source":"billing","detail-type":"OrderPlaced","detail":{}}`, `{"source":null,"Records":[]}`,
	} {
		f.Add([]byte(s))
	}
}
