// Package httpapi serves the KYC gate's HTTP API with standard net/http
// handlers: the customer API, the reviewer/admin API and the signed billing
// webhook. In Lambda they run behind API Gateway through
// aws-lambda-go-api-proxy; `make dev` serves the very same handlers.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Problem is every error answer of the API: RFC 9457 problem details
// (application/problem+json) with the API's machine-readable code as the
// extension member "code". Type is ProblemType(code), a stable URN per code
// (it identifies the problem; it is not meant to be fetched); Title is the
// HTTP status text; Detail is the message, safe to show to the caller (it
// quotes at most a short prefix of any input, and a 500 says only "internal
// error"). Until 2026-12 errors were {"error": {"code", "message"}}.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// ProblemContentType is the media type of every error answer.
const ProblemContentType = "application/problem+json"

// problemTypePrefix starts every problem type URI.
const problemTypePrefix = "urn:kycgate:problem:"

// ProblemType is the type URI of the problems with a code:
// "urn:kycgate:problem:<code>".
func ProblemType(code string) string { return problemTypePrefix + code }

// NewProblem returns the problem of a status, code and detail.
func NewProblem(status int, code, detail string) Problem {
	return Problem{Type: ProblemType(code), Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// WriteProblem answers with a problem: the one place that writes error
// answers, for the API's handlers and the dev server's local routes alike.
func WriteProblem(w http.ResponseWriter, status int, code, detail string) {
	writeBody(w, status, ProblemContentType, NewProblem(status, code, detail))
}

// statusOf maps error kinds to HTTP statuses: the one table of the API.
var statusOf = map[kyc.Kind]int{
	kyc.KindInvalid:     http.StatusUnprocessableEntity,
	kyc.KindNotFound:    http.StatusNotFound,
	kyc.KindConflict:    http.StatusConflict,
	kyc.KindForbidden:   http.StatusForbidden,
	kyc.KindTooLarge:    http.StatusRequestEntityTooLarge,
	kyc.KindRateLimited: http.StatusTooManyRequests,
	kyc.KindInternal:    http.StatusInternalServerError,
}

// Errors the HTTP layer itself decides.
var (
	errUnauthenticated = &apiError{http.StatusUnauthorized, "unauthorized", "a valid bearer token is required"}
	errNotStaff        = &apiError{http.StatusForbidden, "forbidden", "this needs the kyc-reviewers or kyc-admins group"}
	errNotAdmin        = &apiError{http.StatusForbidden, "forbidden", "this needs the kyc-admins group"}
	errNoRoute         = &apiError{http.StatusNotFound, "not_found", "no such route"}
	errMethod          = &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "this route does not take this method; the Allow header lists those it takes"}
)

// apiError is an error with its HTTP status, decided by the HTTP layer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func malformed(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, "malformed", fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", v)
}

func writeBody(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the status of err's kind. A 500 says "internal
// error" and nothing else; the cause goes to the log with the request's
// method and route, never personal data.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, detail := http.StatusInternalServerError, "internal", "internal error"
	var ae *apiError
	var ke *kyc.Error
	switch {
	case errors.As(err, &ae):
		status, code, detail = ae.status, ae.code, ae.message
	case errors.As(err, &ke):
		if s, ok := statusOf[ke.Kind]; ok && ke.Kind != kyc.KindInternal {
			status, code, detail = s, ke.Code, ke.Message
		}
		if ke.Kind == kyc.KindRateLimited {
			w.Header().Set("Retry-After", strconv.Itoa(int(ke.RetryAfter.Seconds()+0.999)))
		}
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	WriteProblem(w, status, code, detail)
}

// decode reads a JSON body of at most limit bytes into v. Unknown fields,
// trailing data and wrong JSON types are malformed (400); a body over the
// limit is 413.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return malformed("Content-Type must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is over %d bytes", limit)}
		}
		if errors.Is(err, io.EOF) {
			return malformed("a JSON body is required")
		}
		return malformed("the body is not valid JSON for this request: %s", jsonProblem(err))
	}
	if dec.More() {
		return malformed("the body has data after the JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", kyc.Short(typ.Field), typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		if name, err := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field ")); err == nil {
			return fmt.Sprintf("unknown field %q", kyc.Short(name))
		}
		return "unknown field"
	}
	return "cannot be decoded"
}

// handler is an HTTP handler that returns its error.
type handler func(w http.ResponseWriter, r *http.Request) error

func serve(log *slog.Logger, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	})
}
