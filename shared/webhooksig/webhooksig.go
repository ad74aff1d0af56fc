// Package webhooksig is the signature scheme of the gate's webhooks, both
// ways: billing systems sign the events they post to POST /v1/billing/events,
// and the billing adapter signs the commands it posts to a generic billing
// webhook. A signature is "v1=" + hex(HMAC-SHA256(key, timestamp + "." +
// body)) with the unix-seconds timestamp in its own header.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed request.
const (
	HeaderTimestamp = "X-KYC-Timestamp" // unix seconds
	HeaderSignature = "X-KYC-Signature" // "v1=" + hex(HMAC-SHA256(key, timestamp + "." + body))
)

// Tolerance is how far from the receiver's clock a timestamp may be.
const Tolerance = 5 * time.Minute

// Sign returns the signature header value of a body sent at unix time ts.
func Sign(key []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed request as a receiver must: the timestamp is within
// tolerance of now, and one of the comma-separated signatures is the v1
// signature of timestamp + "." + body (compared in constant time; several are
// accepted so a key can be rotated).
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return errors.New("webhook: timestamp is not unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	want := []byte(Sign(key, ts, body))
	for _, s := range strings.Split(signature, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(s)), want) {
			return nil
		}
	}
	return errors.New("webhook: signature does not match")
}
