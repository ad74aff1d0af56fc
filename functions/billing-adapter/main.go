// Command billing-adapter applies the service commands on its SQS queue to
// the billing system, each exactly once.
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.BillingAdapter) }
