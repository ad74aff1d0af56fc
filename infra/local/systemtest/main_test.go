// Package systemtest holds the tests that need the emulator or the deployed
// template: the adapters against the AWS APIs they call (S3, KMS,
// EventBridge, SES, DynamoDB), and the contract suites of the in-memory
// ports (kyctest, ledgertest) run on the real adapters. The emulator is
// AWS_ENDPOINT_URL (LocalStack or moto), or a moto_server started for the
// test binary; under -short nothing here runs.
package systemtest

import (
	"testing"

	"github.com/kycgate/kycgate/infra/local/emulator"
)

func TestMain(m *testing.M) { emulator.Main(m) }
