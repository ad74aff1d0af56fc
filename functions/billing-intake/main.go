// Command billing-intake is the billing-intake Lambda function (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/app"

func main() { app.Main(app.NewBillingIntake) }
