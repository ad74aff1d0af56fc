// Package systemtest holds the tests that need the emulator or the
// synthesized template: the contract suites of the in-memory ports run on the
// real adapters (kyctest.TestStore on the DynamoDB store, each subtest on a
// table of its own deployed from the stack's definition of the table;
// ledgertest.TestLedger on the DynamoDB ledger), and the adapters against the
// AWS APIs they call (S3, KMS, EventBridge, SES). The whole system's flows are
// in the flows subpackage.
//
// It has no code but its tests; run them with
//
//	make synth   # once: the tests read cdk.out/KycGate.template.json (or $KYC_TEMPLATE)
//	go test -count=1 ./infra/local/systemtest/...
//
// The package's TestMain starts moto_server when AWS_ENDPOINT_URL is unset
// (infra/local/emulator), or uses that endpoint (LocalStack works the same
// way); under -short every test skips.
package systemtest
