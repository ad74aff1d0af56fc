package contract

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the HTTP API (openapi.yaml): every
// route of Routes with its parameters, bodies, answers and errors. The tests
// of shared/httpapi hold the handlers and Routes to it, and the dev server
// serves it at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
