// Package bench holds the benchmarks of issue 8 (`make bench`) and the report
// they make, docs/benchmarks.md:
//
//   - AWS calls per operation, counted by SDK middleware on every client of
//     the functions (faults.Recorder), with the DynamoDB request units and
//     EventBridge events they consume (Meter), against the minimum the
//     design allows (calls_test.go);
//   - sweep scaling: items read and time with 100,000 holds not due and 100
//     due, against 1,000 not due (sweep_test.go);
//   - per function: binary and zip size, cold-start init time against a
//     local Lambda Runtime API (functions_test.go);
//   - throughput of the whole local stack (`make dev`) under a bounded load
//     from this process (throughput_test.go);
//   - cost per verification at AWS list prices, computed from the above
//     (cost.go).
//
// The benchmarks write JSON results into $KYC_BENCH_OUT; the command
// infra/local/cmd/benchreport renders them (Render). Under plain `go test`
// only quick checks of this code run; the benchmarks need -bench.
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ColdStarts is how many times each function is started.
const ColdStarts = 25

// SweepWarmup is how many unmeasured sweeps precede the measured ones.
const SweepWarmup = 3

// EnvOut names the directory the benchmarks write their results to.
const EnvOut = "KYC_BENCH_OUT"

// Result files in that directory.
const (
	FileCalls      = "calls.json"
	FileSweep      = "sweep.json"
	FileFunctions  = "functions.json"
	FileThroughput = "throughput.json"
	FilePages      = "pages.json"
)

// PageResult is what one page view costs: the bytes a browser transfers
// (gzip-compressed, as API Gateway's clients accept them: the HTML and every
// script and stylesheet it loads, uncached) and the AWS calls the function
// makes for it, against the minimum the design allows.
type PageResult struct {
	Name       string         `json:"name"`
	Route      string         `json:"route"`
	Function   string         `json:"function"`
	HTMLBytes  int            `json:"htmlBytes"`
	HTMLGzip   int            `json:"htmlGzip"`
	AssetsGzip int            `json:"assetsGzip"`
	TotalGzip  int            `json:"totalGzip"`
	Assets     []string       `json:"assets"`
	Calls      map[string]int `json:"calls"`
	Total      int            `json:"total"`
	Minimum    int            `json:"minimum"`
	MinimumWhy string         `json:"minimumWhy"`
	Above      []string       `json:"above,omitempty"`
}

// TargetPageGzip is the most a page may transfer, compressed, scripts
// included.
const TargetPageGzip = 100 << 10

// OpResult is what one operation costs in AWS calls.
type OpResult struct {
	Name     string `json:"name"`
	Function string `json:"function"`
	// Group is the operation's row group in the report ("customer", "review",
	// "intake", "sweep", "downstream").
	Group string `json:"group"`
	// Calls by "Service.Operation", and their total.
	Calls map[string]int `json:"calls"`
	Total int            `json:"total"`
	// Minimum is the fewest calls the design allows, and why.
	Minimum    int    `json:"minimum"`
	MinimumWhy string `json:"minimumWhy"`
	// Above explains each call above the minimum.
	Above []string `json:"above,omitempty"`
	// Expected are the calls the explanation was written for; a run whose
	// calls differ is flagged in the report (the explanation is stale).
	Expected map[string]int `json:"expected"`
	Capacity Capacity       `json:"capacity"`
	// DurationMS is the median time of the operation in this process
	// against the emulator (no network to AWS), over Runs runs.
	DurationMS float64 `json:"durationMs"`
	Runs       int     `json:"runs"`
}

// SweepRun is one sweep of the scaling benchmark.
type SweepRun struct {
	NotDue    int     `json:"notDue"`
	Due       int     `json:"due"`
	ItemsRead int     `json:"itemsRead"`
	Scanned   int     `json:"scanned"`
	Calls     int     `json:"calls"`
	Reads     int     `json:"reads"` // GetItem and Query calls
	MS        float64 `json:"ms"`    // median
	Runs      []float64
	Suspended int `json:"suspended"`
}

// SweepResult is the sweep scaling benchmark.
type SweepResult struct {
	// Model: the in-process DynamoDB model (DynamoDB's complexity); Moto:
	// the emulator.
	Model []SweepRun `json:"model"`
	Moto  []SweepRun `json:"moto"`
	// Ratio is the model's median time at the largest table over the
	// smallest, measured in one run.
	Ratio float64 `json:"ratio"`
	// Agreement is the check that the model and moto did the same sweep of
	// the same 1,000 + 100 holds: same calls, items read and outcome.
	Agreement string `json:"agreement"`
	// MotoQueryMS is the emulator's time for the due-index query alone at
	// each table size: the reason moto cannot time the sweep at scale.
	MotoQuery []MotoQuery `json:"motoQuery"`
	// SeedSeconds is how long seeding took, by backend and size.
	Seed []Seed `json:"seed"`
}

// MotoQuery is one timing of the due-index query on the emulator.
type MotoQuery struct {
	Holds     int     `json:"holds"`
	ItemsRead int     `json:"itemsRead"`
	MS        float64 `json:"ms"`
}

// Seed is how long one table took to seed.
type Seed struct {
	Backend string  `json:"backend"`
	Items   int     `json:"items"`
	Seconds float64 `json:"seconds"`
}

// FunctionResult is one function's size and cold start.
type FunctionResult struct {
	Name        string    `json:"name"`
	BinaryBytes int64     `json:"binaryBytes"` // build/lambda/<fn>/bootstrap (linux/arm64, stripped)
	ZipBytes    int64     `json:"zipBytes"`    // that file deflated in a zip, as the CDK asset is
	HostBinary  int64     `json:"hostBinaryBytes"`
	InitMS      []float64 `json:"initMs"` // each cold start, process start to first /next
	MedianMS    float64   `json:"medianMs"`
	P90MS       float64   `json:"p90Ms"`
	// InitCPUMS is the median CPU time (user + system) of the process up
	// to ready.
	InitCPUMS float64 `json:"initCpuMs"`
	// InitCalls are the AWS calls made before the handler is ready.
	InitCalls string `json:"initCalls,omitempty"`
}

// ThroughputResult is the load test of the local stack.
type ThroughputResult struct {
	Customers  int           `json:"customers"`
	Reviewers  int           `json:"reviewers"`
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	ErrorKinds []string      `json:"errorKinds,omitempty"`
	Seconds    float64       `json:"seconds"`
	RPS        float64       `json:"rps"`
	P50MS      float64       `json:"p50Ms"`
	P99MS      float64       `json:"p99Ms"`
	ByRoute    []RouteResult `json:"byRoute"`
	// Submitted and Decided count the submissions made and decided (a
	// reviewer gives one up after 3 failed attempts).
	Submitted  int      `json:"submitted"`
	Decided    int      `json:"decided"`
	Orders     int      `json:"orders"`
	OrdersOK   int      `json:"ordersOk"`
	Mismatches []string `json:"mismatches,omitempty"`
	// AfterErrors are the mismatched orders of customers one of whose
	// requests failed (the flow did not complete); the others are
	// unexplained.
	AfterErrors int `json:"afterErrors"`
	// NotDecided are the mismatched orders of customers whose submission
	// no reviewer decided before the load's deadline.
	NotDecided int `json:"notDecided"`
	// ServerErrors are the requests the dev server logged as failed;
	// ServerErrorsMoto those failed by moto answering 500 to a
	// TransactWriteItems after the SDK's retries.
	ServerErrors     int `json:"serverErrors"`
	ServerErrorsMoto int `json:"serverErrorsMoto"`
	States           map[string]int
	Server           string `json:"server"` // how the server was started
	Skipped          string `json:"skipped,omitempty"`
}

// RouteResult is the latency of one route under the load.
type RouteResult struct {
	Route    string  `json:"route"`
	Requests int     `json:"requests"`
	P50MS    float64 `json:"p50Ms"`
	P99MS    float64 `json:"p99Ms"`
}

// WriteJSON writes v as dir/name.
func WriteJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
}

// ReadJSON reads dir/name into v; a missing file is reported as such.
func ReadJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// Percentile returns the p-th percentile (0..100) of sorted xs, nearest rank.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// ms is a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
