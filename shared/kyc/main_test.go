package kyc

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the property tests with 1,000 random timelines each unless
// -rapid.checks says otherwise: rare interleavings (a timely submission still
// pending at a sweep after the deadline) need a few hundred draws to appear.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue {
		_ = f.Value.Set("1000")
	}
	os.Exit(m.Run())
}
