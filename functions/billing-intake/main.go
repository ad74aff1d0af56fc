// Command billing-intake takes billing events from its SQS queue (the bus
// rule for source "billing") and from the HMAC-signed webhook route.
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.BillingIntake) }
