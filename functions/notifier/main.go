// Command notifier sends the customer notices on its SQS queue by e-mail,
// and optionally as WHMCS tickets.
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.Notifier) }
