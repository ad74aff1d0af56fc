// Command admin-api serves the reviewer and admin API: queue, claims,
// decisions, customers, orders, legal holds and disclosures, behind the HTTP
// API's JWT authorizer.
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.AdminAPI) }
