// Command admin-api is the admin-api Lambda function (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/app"

func main() { app.Main(app.NewAdminAPI) }
