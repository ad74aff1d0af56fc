// Command customer-api is the customer-api Lambda function (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/app"

func main() { app.Main(app.NewCustomerAPI) }
