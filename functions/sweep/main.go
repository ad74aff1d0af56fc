// Command sweep is the sweep Lambda function (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/app"

func main() { app.Main(app.NewSweep) }
