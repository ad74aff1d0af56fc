// Command billing-adapter is the billing-adapter Lambda function (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/app"

func main() { app.Main(app.NewBillingAdapter) }
