package apitest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/httpapi/apitest"
)

const tiny = `openapi: %s
info: {title: t, version: "1"}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [id, note]
                properties:
                  id: {type: string}
                  note: {type: [string, "null"]}
`

func TestNewLoadsOnly31(t *testing.T) {
	if _, err := apitest.New([]byte(strings.Replace(tiny, "%s", "3.1.0", 1))); err != nil {
		t.Fatalf("a valid 3.1 document: %v", err)
	}
	if _, err := apitest.New([]byte(strings.Replace(tiny, "%s", "3.0.3", 1))); err == nil {
		t.Error("a 3.0 document was accepted")
	}
	if _, err := apitest.New([]byte(strings.Replace(strings.Replace(tiny, "%s", "3.1.0", 1), "required: true", "required: false", 1))); err == nil {
		t.Error("a path parameter that is not required was accepted")
	}
}

// Check applies 3.1 schemas (a type array with null), refuses undocumented
// statuses, extra members and unrouted answers that are not 404.
func TestCheck(t *testing.T) {
	c, err := apitest.New([]byte(strings.Replace(tiny, "%s", "3.1.0", 1)))
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name   string
		method string
		status int
		body   string
		ok     bool
	}{
		{"documented answer", "GET", 200, `{"id":"a","note":null}`, true},
		{"3.1 type array", "GET", 200, `{"id":"a","note":"n"}`, true},
		{"wrong type", "GET", 200, `{"id":"a","note":1}`, false},
		{"extra member", "GET", 200, `{"id":"a","note":null,"x":1}`, false},
		{"undocumented status", "GET", 418, `{}`, false},
		{"405 without Allow", "POST", 405, `{}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Check(context.Background(), apitest.Exchange{Request: httptest.NewRequest(tc.method, "/things/1", nil),
				Status: tc.status, Header: json, Body: []byte(tc.body)})
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
