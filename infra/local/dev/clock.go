package dev

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Clock is the local stack's movable clock: real time plus an offset that a
// person or a test moves forward (POST /local/clock {"advance":"73h"}). Every
// function the dev server runs takes the policy's "now" from it
// (wiring.Host.Clock: when an order is received, a decision commits, a
// document is created), and so does the timer sweep's scheduled time. Token,
// sign-in and webhook-signature checks keep real time, so a token already
// issued stays valid after the clock moves. Since deadlines also run from
// when the gate received an order, a late customer can no longer be staged
// by back-dating orderedAt: the clock is moved instead.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	real   func() time.Time
}

// MaxAdvance bounds one move of the clock: far beyond a verification's
// 2 years, far below what a time can hold.
const MaxAdvance = 10 * 366 * 24 * time.Hour

// NewClock returns a clock at real time.
func NewClock() *Clock { return &Clock{real: time.Now} }

// Now returns the clock's time (for wiring.Host.Clock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.real().Add(c.offset)
}

// Advance moves the clock forward by d and returns the new time. The clock
// never moves back: d must be positive and at most MaxAdvance.
func (c *Clock) Advance(d time.Duration) (time.Time, error) {
	if d <= 0 || d > MaxAdvance {
		return time.Time{}, fmt.Errorf("advance must be a positive duration of at most %s; the clock only moves forward", MaxAdvance)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.real().Add(c.offset), nil
}

// clockView is the answer of GET and POST /local/clock.
type clockView struct {
	Now string `json:"now"` // RFC 3339, UTC, whole seconds
}

func viewOf(t time.Time) clockView { return clockView{Now: t.UTC().Format(time.RFC3339)} }

// clockRoutes are the local routes of the clock and of the fake billing
// system's due dates:
//
//	GET  /local/clock                       {"now": "<RFC 3339>"}
//	POST /local/clock {"advance": "73h"}    moves it forward; {"now": ...}
//	POST /local/billing/services/{serviceId} {"nextDueDate": "YYYY-MM-DD"}
//	                                        moves a service's due date as a payment does
func (s *Server) clockRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /local/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, viewOf(s.clock.Now()))
	})
	mux.HandleFunc("POST /local/clock", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Advance string `json:"advance"`
		}
		if err := decodeStrict(r, &body); err != nil {
			writeError(w, http.StatusBadRequest, "malformed", `the body must be {"advance": "<Go duration>"}, e.g. {"advance": "73h"}`)
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(body.Advance))
		if err != nil {
			writeError(w, http.StatusBadRequest, "malformed", `advance must be a Go duration such as "73h" or "30m"`)
			return
		}
		now, err := s.clock.Advance(d)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_advance", err.Error())
			return
		}
		s.log.Info("local clock moved", "by", d.String(), "now", now.UTC().Format(time.RFC3339))
		writeJSON(w, http.StatusOK, viewOf(now))
	})
	// The sink serves POST /services/{id}; the local route is its path under /local/billing.
	mux.Handle("POST /local/billing/services/{serviceId}", http.StripPrefix("/local/billing", s.sink))
	// Likewise an order's payment or cancellation, and a product without a
	// module (the billing adapter's checks before it provisions).
	mux.Handle("POST /local/billing/orders/{orderId}", http.StripPrefix("/local/billing", s.sink))
	mux.Handle("POST /local/billing/products/{productId}", http.StripPrefix("/local/billing", s.sink))
}

// decodeStrict reads a small JSON object with no unknown fields and nothing
// after it.
func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
