package kyctest

import (
	"context"
	"sync"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Scanner is an in-memory kyc.Scanner. Like the malware scanners the gate
// runs with (GuardDuty in AWS, the dev server's stand-in), it reports the
// EICAR test file (guardduty.HasEICAR) as a threat and anything else as
// clean. By default it answers at once; after Defer it answers pending, as
// GuardDuty does, and keeps each result until Results takes it (a World
// delivers them with DeliverScans). Fail makes it report failed scans.
type Scanner struct {
	mu       sync.Mutex
	deferred bool
	failing  bool
	queued   []kyc.ScanResult
	scanned  int
	hooks    hooks
}

var _ kyc.Scanner = (*Scanner)(nil)

// MethodScan is Scanner.Scan, for the test hooks.
const MethodScan Method = "Scan"

// NewScanner returns a scanner that answers at once.
func NewScanner() *Scanner { return &Scanner{} }

// Defer makes the scanner answer pending and keep the results.
func (s *Scanner) Defer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deferred = true
}

// Fail makes every later scan fail (kyc.ScanFailed), as an unsupported or
// unreadable object does.
func (s *Scanner) Fail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = true
}

// Scan scans content: a threat if it carries the EICAR test file, else
// clean (or failed, after Fail).
func (s *Scanner) Scan(ctx context.Context, d kyc.Document, versionID string, content []byte) (kyc.ScanResult, error) {
	defer s.hooks.exit(MethodScan)
	if err := s.hooks.enter(MethodScan); err != nil {
		return kyc.ScanResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return kyc.ScanResult{}, err
	}
	r := kyc.ScanResult{Key: d.Key, VersionID: versionID, Status: kyc.ScanClean}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scanned++
	switch {
	case guardduty.HasEICAR(content):
		r.Status, r.Threats = kyc.ScanThreat, []string{guardduty.EICARThreat}
	case s.failing:
		r.Status = kyc.ScanFailed
	}
	if s.deferred {
		s.queued = append(s.queued, r)
		return kyc.ScanResult{Status: kyc.ScanPending}, nil
	}
	return r, nil
}

// Results returns the results kept since the last call (after Defer).
func (s *Scanner) Results() []kyc.ScanResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.queued
	s.queued = nil
	return out
}

// Scanned counts the objects scanned.
func (s *Scanner) Scanned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scanned
}

// Calls counts the calls of Scan.
func (s *Scanner) Calls(m Method) int { return s.hooks.Calls(m) }

// FailNext makes the next call of Scan return err.
func (s *Scanner) FailNext(m Method, err error) { s.hooks.FailNext(m, err) }
