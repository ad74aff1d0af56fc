package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// shared is the emulator of the current test binary, set by Main.
var (
	shared    *Emulator
	sharedErr error
)

// Main is a TestMain for packages with integration tests:
//
//	func TestMain(m *testing.M) { emulator.Main(m) }
//
// It starts (or finds) the emulator once for the test binary, exports its
// environment (AWS_ENDPOINT_URL, region, credentials) so code that loads the
// default SDK configuration reaches it, runs the tests, stops the emulator
// and exits with the tests' code. Under -short it starts nothing: integration
// tests skip through Integration. If the emulator cannot start, every test
// that asks for it fails with the reason.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		sharedErr = fmt.Errorf("emulator not started under -short")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout+5*time.Second)
	e, err := Start(ctx)
	cancel()
	if err != nil {
		// Every test that asks for the emulator fails with this reason.
		sharedErr = err
		fmt.Fprintln(os.Stderr, "emulator:", err)
		return m.Run()
	}
	defer e.Stop()
	for _, kv := range e.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	shared = e
	return m.Run()
}

// Integration marks a test as an integration test: under -short it skips
// (explicitly, with the reason); otherwise it does nothing.
func Integration(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs the emulator (run without -short)")
	}
}

// Shared returns the emulator Main started for this test binary. It marks the
// test as an integration test (see Integration) and fails it if the
// emulator is not available, with the reason.
func Shared(tb testing.TB) *Emulator {
	tb.Helper()
	Integration(tb)
	if shared == nil {
		if sharedErr != nil {
			tb.Fatalf("emulator unavailable: %v", sharedErr)
		}
		tb.Fatal("emulator unavailable: the package's TestMain must call emulator.Main(m)")
	}
	return shared
}

// Config returns an SDK configuration for the test binary's emulator (see
// Shared): base endpoint, region and test credentials.
func Config(tb testing.TB) aws.Config {
	tb.Helper()
	e := Shared(tb)
	cfg, err := e.Config(context.Background())
	if err != nil {
		tb.Fatalf("emulator config: %v", err)
	}
	return cfg
}

// UniqueName returns a fresh resource name (or name prefix) for one test:
// base reduced to lowercase letters, digits and hyphens (at most 24
// characters), then a hyphen and 8 random hex digits. It is a valid S3 bucket
// name, and two calls never return the same name, so tests running in
// parallel, or against a shared emulator, never share resources.
func UniqueName(tb testing.TB, base string) string {
	tb.Helper()
	var b strings.Builder
	dash := true // no leading hyphen, no doubled hyphens
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 24 {
			break
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "t"
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatalf("unique name: %v", err)
	}
	return name + "-" + hex.EncodeToString(rnd[:])
}
