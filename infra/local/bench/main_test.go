package bench

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
)

// TestMain starts the emulator only when benchmarks run (go test -bench):
// plain `go test ./...` runs the quick checks of this package and starts
// nothing.
func TestMain(m *testing.M) {
	flag.Parse()
	if b := flag.Lookup("test.bench"); b == nil || b.Value.String() == "" {
		os.Exit(m.Run())
	}
	emulator.Main(m)
}

// outDir is where the benchmarks write their results for the report
// (make bench sets it; a relative path is from the module root); empty:
// results are only logged.
func outDir() string {
	dir := os.Getenv(EnvOut)
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	root, err := stacktest.Root()
	if err != nil {
		return dir
	}
	return filepath.Join(root, dir)
}

// save writes a result file when KYC_BENCH_OUT is set.
func save(tb testing.TB, name string, v any) {
	tb.Helper()
	dir := outDir()
	if dir == "" {
		return
	}
	if err := WriteJSON(dir, name, v); err != nil {
		tb.Fatal(err)
	}
}

// patient makes clients built from cfg retry up to 10 times with no retry
// quota. moto answers 500 to some TransactWriteItems that run at once (it
// copies the whole table for each, and a concurrent write breaks the copy);
// the SDK's default quota runs out under the sweep's 8 workers. The call
// recorder counts calls above the retry loop, so retries change no count.
func patient(cfg *aws.Config) {
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.RateLimiter = ratelimit.None
		})
	}
}
