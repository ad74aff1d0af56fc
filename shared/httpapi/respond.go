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
	"net/http"
	"strconv"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

// errorBody is the shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
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
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the status of err's kind. A 500 says "internal
// error" and nothing else; the cause goes to the log with the request's
// method and route, never personal data.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var body errorBody
	status := http.StatusInternalServerError
	var ae *apiError
	var ke *kyc.Error
	switch {
	case errors.As(err, &ae):
		status, body.Error.Code, body.Error.Message = ae.status, ae.code, ae.message
	case errors.As(err, &ke):
		status, body.Error.Code, body.Error.Message = statusOf[ke.Kind], ke.Code, ke.Message
		if ke.Kind == kyc.KindRateLimited {
			w.Header().Set("Retry-After", strconv.Itoa(int(ke.RetryAfter.Seconds()+0.999)))
		}
	default:
		body.Error.Code, body.Error.Message = "internal", "internal error"
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	writeJSON(w, status, body)
}

// decode reads a JSON body of at most limit bytes into v. Unknown fields,
// trailing data and wrong JSON types are malformed (400); a body over the
// limit is 413.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return malformed("Content-Type must be application/json")
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
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
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

// notFound answers routes that do not exist in the API's own shape.
func notFound(log *slog.Logger) http.Handler {
	return serve(log, func(http.ResponseWriter, *http.Request) error {
		return &apiError{http.StatusNotFound, "not_found", "no such route"}
	})
}
