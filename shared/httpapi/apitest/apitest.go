// Package apitest holds HTTP exchanges with the KYC gate's API to its
// OpenAPI 3.1 document (contract.OpenAPI), for tests. The document is loaded,
// validated and routed by kin-openapi, which validates OpenAPI 3.1 schemas
// with a JSON Schema 2020-12 validator; nothing here validates a body by
// hand.
//
// An exchange passes when:
//   - the request matches an operation of the document and its answer is a
//     status that operation documents, with the documented content type,
//     headers and body schema;
//   - a request the document calls invalid (body, parameters, missing
//     credentials) is refused with a 4xx status: what the document refuses,
//     the handlers refuse too;
//   - a path the document has with other methods is answered 405 with an
//     Allow header listing exactly the document's methods, and a path it does
//     not have 404, both as problem details;
//   - every error answer's type is the type URI of its code.
//
// Only test code imports this package, so the Lambda binaries do not carry
// the validator.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/kycgate/kycgate/shared/contract"
)

// Checker holds exchanges to the document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	once    sync.Once
	shared  *Checker
	loadErr error
)

// Load returns the checker of contract.OpenAPI, loaded and validated once per
// test binary; a document that does not load or validate fails tb.
func Load(tb testing.TB) *Checker {
	tb.Helper()
	once.Do(func() { shared, loadErr = New(contract.OpenAPI) })
	if loadErr != nil {
		tb.Fatal(loadErr)
	}
	return shared
}

// New loads an OpenAPI 3.1 document and validates it.
func New(document []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("the document is OpenAPI %s, not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &Checker{doc: doc, router: router}, nil
}

// Doc returns the loaded document.
func (c *Checker) Doc() *openapi3.T { return c.doc }

// Operations returns every operation of the document as "METHOD /path",
// the form of contract.Routes' patterns.
func (c *Checker) Operations() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Operation returns the operation of "METHOD /path", or nil.
func (c *Checker) Operation(pattern string) *openapi3.Operation {
	method, path, _ := strings.Cut(pattern, " ")
	item := c.doc.Paths.Value(path)
	if item == nil {
		return nil
	}
	return item.GetOperation(method)
}

// Exchange is one request and its answer.
type Exchange struct {
	Request     *http.Request // its body is not read; RequestBody is
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Result is what Check found of an exchange.
type Result struct {
	// Operation is the operationId of the request's operation; "" when the
	// path or method is not in the document.
	Operation string
	// RequestErr is why the document calls the request invalid, or nil.
	RequestErr error
}

// Check checks one exchange against the document and returns what it found,
// and an error that says every way the exchange disagrees with it.
func (c *Checker) Check(ctx context.Context, x Exchange) (Result, error) {
	var res Result
	req := x.Request.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return res, c.checkUnrouted(req, x, err)
	}
	res.Operation = route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: credentialsPresent, MultiError: true},
	}
	var problems []error
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		res.RequestErr = err
		if x.Status < 400 || x.Status > 499 {
			problems = append(problems, fmt.Errorf("the document calls the request invalid, but it was answered %d: %w", x.Status, err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.Status, Header: x.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, fmt.Errorf("the answer %d does not match the document: %w", x.Status, err))
	}
	if err := problemType(x); err != nil {
		problems = append(problems, err)
	}
	return res, errors.Join(problems...)
}

// checkUnrouted checks the answer to a request that no operation matches:
// 405 with the document's methods in Allow, or 404.
func (c *Checker) checkUnrouted(req *http.Request, x Exchange, routeErr error) error {
	schema := "Problem404"
	var problems []error
	if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		schema = "Problem405"
		var want []string
		for _, m := range c.methods() {
			probe := req.Clone(req.Context())
			probe.Method = m
			if _, _, err := c.router.FindRoute(probe); err == nil {
				want = append(want, m)
			}
		}
		allow := strings.Split(x.Header.Get("Allow"), ", ")
		slices.Sort(allow)
		if !slices.Equal(allow, want) {
			problems = append(problems, fmt.Errorf("405 Allow is %q; the document has %v", x.Header.Get("Allow"), want))
		}
		if x.Status != http.StatusMethodNotAllowed {
			problems = append(problems, fmt.Errorf("%s %s is a path of the document with other methods, answered %d, want 405", req.Method, req.URL.Path, x.Status))
		}
	} else if x.Status != http.StatusNotFound {
		problems = append(problems, fmt.Errorf("%s %s is not in the document, answered %d, want 404 (%v)", req.Method, req.URL.Path, x.Status, routeErr))
	}
	if err := c.problemBody(schema, x); err != nil {
		problems = append(problems, err)
	}
	if err := problemType(x); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// methods returns the methods of the document's operations, sorted.
func (c *Checker) methods() []string {
	var out []string
	for _, p := range c.Operations() {
		m, _, _ := strings.Cut(p, " ")
		out = append(out, m)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// problemBody validates an answer against one of the document's problem
// schemas, with the JSON Schema 2020-12 validator of OpenAPI 3.1.
func (c *Checker) problemBody(name string, x Exchange) error {
	if c.doc.Components == nil || c.doc.Components.Schemas[name] == nil || c.doc.Components.Schemas[name].Value == nil {
		return fmt.Errorf("the document has no schema %s", name)
	}
	ref := c.doc.Components.Schemas[name]
	if ct := x.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("an error answer of type %q, want application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(x.Body, &v); err != nil {
		return fmt.Errorf("an error answer that is not JSON: %q", x.Body)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("the answer does not match %s: %w", name, err)
	}
	return nil
}

// problemType checks that an error answer's type is the type URI of its
// code (a relation between two members no schema states).
func problemType(x Exchange) error {
	if x.Status < 400 {
		return nil
	}
	var p struct{ Type, Code string }
	if err := json.Unmarshal(x.Body, &p); err != nil {
		return nil // the schema check reports it
	}
	if want := "urn:kycgate:problem:" + p.Code; p.Type != want {
		return fmt.Errorf("problem type %q for code %q, want %q", p.Type, p.Code, want)
	}
	return nil
}

// credentialsPresent is the document's security as a request can satisfy
// it before the server looks: the credentials are present and of the
// scheme's form. Whether they are valid the server decides (401).
func credentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch s := in.SecurityScheme; {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		scheme, token, _ := strings.Cut(h.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return errors.New("no bearer token")
		}
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	default:
		return fmt.Errorf("security scheme %s is not checked", in.SecuritySchemeName)
	}
	return nil
}

// Transport sends requests with base (http.DefaultTransport if nil) and
// checks every exchange, reporting a disagreement with the document as an
// error of tb. Requests to other hosts' paths than the API's (an upload
// form, a download link) are not checked: give the API client its own
// transport.
func (c *Checker) Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		res, err := base.RoundTrip(r)
		if err != nil {
			return res, err
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(got))
		if err != nil {
			return res, err
		}
		c.report(tb, Exchange{Request: r, RequestBody: body, Status: res.StatusCode, Header: res.Header, Body: got})
		return res, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (c *Checker) report(tb testing.TB, x Exchange) {
	if _, err := c.Check(context.Background(), x); err != nil {
		tb.Errorf("%s %s → %d: disagrees with the OpenAPI document:\n%v\nrequest body: %s\nanswer: %s",
			x.Request.Method, x.Request.URL.Path, x.Status, err, clip(x.RequestBody), clip(x.Body))
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}
