// Package systemtest holds the tests that need the emulator or the
// synthesized template and belong to no single adapter: the kyc.Store
// contract suite (kyctest.TestStore) run on the DynamoDB store, each subtest
// on a table of its own deployed from the stack's definition of the table.
//
// It has no code but its tests; run them with
//
//	make synth   # once: the tests read cdk.out/KycGate.template.json (or $KYC_TEMPLATE)
//	go test -count=1 ./infra/local/systemtest/...
//
// The package's TestMain starts moto_server when AWS_ENDPOINT_URL is unset
// (infra/local/emulator); under -short every test skips.
package systemtest
