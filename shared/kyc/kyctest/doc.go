// Package kyctest holds in-memory implementations of the kyc ports, for fast
// use-case tests that run in-process: a Store that enforces exactly the
// conditions of the DynamoDB store, Files with object versions and the
// policy a presigned form pins, a Sealer that really encrypts, and a
// Publisher that records what it is given. World builds every use case of
// the kyc package on them with a clock a test moves and ids it can predict.
//
// TestStore is the contract suite of kyc.Store: the same assertions run on
// this package's Store (its own tests) and on the DynamoDB store against the
// emulator (infra/local/systemtest), so the fake cannot drift from the real
// adapter, in the way testing/fstest.TestFS checks file systems.
//
// Every fake has test hooks: Calls counts the calls of a method, FailNext
// makes the next call of a method fail without doing anything, and the
// Store's Before runs a function at the start of a method's next call (to
// stage a race: another write committing between a use case's read and its
// write).
//
// The package imports only the standard library and shared/kyc; no
// production package imports it.
package kyctest
