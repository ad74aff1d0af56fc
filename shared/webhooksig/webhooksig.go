// Package webhooksig is the signature scheme of the gate's webhooks, both
// ways: billing systems sign the events they post to POST /v1/billing/events,
// and the billing adapter signs the commands it posts to a generic billing
// webhook. A signature is "v1=" + hex(HMAC-SHA256(key, timestamp + "." +
// body)) with the unix-seconds timestamp in its own header.
//
// Billing systems also read from the gate with signed GETs (GET
// /v1/billing/customers/{id}/kyc, GET /v1/billing/review-queue), which have
// no body: their signature covers "GET " + the request path (no host, no
// query) in place of the body (SignGet, VerifyGet). A body never starts
// with "GET " (Verify refuses one that does), so a POST's signature is never
// a GET's and the other way round.
package webhooksig

import (
	"bytes"
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
	if bytes.HasPrefix(body, getPrefix) {
		return errors.New("webhook: a body cannot be a GET's signed message")
	}
	return verify(key, timestamp, signature, body, now, tolerance)
}

// getPrefix starts the message a GET's signature covers.
var getPrefix = []byte("GET ")

// SignGet returns the signature header value of a GET of path (the request
// path without host or query, e.g. /v1/billing/customers/1001/kyc) sent at
// unix time ts: the v1 signature of ts + "." + "GET " + path.
func SignGet(key []byte, ts int64, path string) string {
	return Sign(key, ts, append(bytes.Clone(getPrefix), path...))
}

// VerifyGet checks a signed GET of path as Verify checks a POST: the
// timestamp within tolerance of now, and one of the signatures the v1
// signature of ts + "." + "GET " + path.
func VerifyGet(key []byte, timestamp, signature, path string, now time.Time, tolerance time.Duration) error {
	if !strings.HasPrefix(path, "/") {
		return errors.New("webhook: a GET's path must start with /")
	}
	return verify(key, timestamp, signature, append(bytes.Clone(getPrefix), path...), now, tolerance)
}

func verify(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
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
