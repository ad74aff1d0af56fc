// Command customer-api serves the customer API: requirements, status,
// uploads and submissions, behind the HTTP API's JWT authorizer.
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.CustomerAPI) }
