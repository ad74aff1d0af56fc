package bench

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

// Machine is what the figures were measured on.
type Machine struct {
	CPU, Cores, Memory, Kernel, Go, Moto, Date string
}

// Report is everything the report shows.
type Report struct {
	Machine    Machine
	Commands   []string
	Calls      []OpResult
	Sweep      *SweepResult
	Functions  []FunctionResult
	Throughput *ThroughputResult
	Pages      []PageResult
	// Missing lists result files not found (a benchmark not run).
	Missing []string
}

// Load reads the results in dir; missing files are listed, not errors.
func Load(dir string) (Report, error) {
	var r Report
	read := func(name string, v any) (bool, error) {
		err := ReadJSON(dir, name, v)
		if errors.Is(err, fs.ErrNotExist) {
			r.Missing = append(r.Missing, name)
			return false, nil
		}
		return err == nil, err
	}
	if _, err := read(FileCalls, &r.Calls); err != nil {
		return r, err
	}
	var sw SweepResult
	if ok, err := read(FileSweep, &sw); err != nil {
		return r, err
	} else if ok {
		r.Sweep = &sw
	}
	if _, err := read(FileFunctions, &r.Functions); err != nil {
		return r, err
	}
	if _, err := read(FilePages, &r.Pages); err != nil {
		return r, err
	}
	var tp ThroughputResult
	if ok, err := read(FileThroughput, &tp); err != nil {
		return r, err
	} else if ok {
		r.Throughput = &tp
	}
	return r, nil
}

// Targets of issue 8.
const (
	TargetZipBytes   = 10 << 20
	TargetCostUSD    = 0.002
	TargetSweepItems = 110 // 100 due holds among 100,000
	TargetSweepRatio = 1.2
)

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) }

func check(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func usd(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.000001:
		return fmt.Sprintf("%.2e", v)
	}
	return fmt.Sprintf("%.7f", v)
}

// Render writes the report as Markdown.
func Render(w io.Writer, r Report) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (infra/local/bench, infra/local/cmd/benchreport); do not edit by hand, run it again. ")
	p("These are benchmarks, not timed tests: nothing here fails because a machine is slow. ")
	p("`make bench` fails only if a benchmark breaks or a bound the design guarantees on any machine is missed (the items a sweep reads).\n\n")

	p("## The machine and the commands\n\n")
	m := r.Machine
	p("| | |\n|---|---|\n| date (UTC) | %s |\n| CPU | %s |\n| cores | %s |\n| memory | %s |\n| kernel | %s |\n| Go | %s |\n| emulator | moto %s (`moto_server`, no Docker) |\n\n",
		m.Date, m.CPU, m.Cores, m.Memory, m.Kernel, m.Go, m.Moto)
	p("Commands, in the order `make bench` ran them:\n\n```sh\n%s\n```\n\n", strings.Join(r.Commands, "\n"))
	if len(r.Missing) > 0 {
		p("**Not measured in this run** (result file missing): %s.\n\n", strings.Join(r.Missing, ", "))
	}

	cost := VerificationCost(r.Calls)
	p("## Summary: each figure beside its target\n\n")
	p("| figure | measured | target or minimum | |\n|---|---|---|---|\n")
	if len(r.Calls) > 0 {
		atMin, stale := 0, 0
		for _, o := range r.Calls {
			if o.Total == o.Minimum {
				atMin++
			}
			if o.Expected != nil && !maps.Equal(o.Expected, o.Calls) {
				stale++
			}
		}
		p("| AWS calls per operation (%d operations) | %d at the design's minimum, %d above it, each extra call explained in §1 | the minimum the design allows, written beside each | %s |\n",
			len(r.Calls), atMin, len(r.Calls)-atMin, check(stale == 0))
		if stale > 0 {
			p("| ⚠ explanations out of date | %d operation(s) made other calls than their explanation was written for (§1) | | ❌ |\n", stale)
		}
	}
	if s := r.Sweep; s != nil && len(s.Model) == 2 {
		big := s.Model[1]
		p("| items a sweep reads, %s holds not due + %d due | %d | at most %d | %s |\n", thousands(big.NotDue), big.Due, big.ItemsRead, TargetSweepItems, check(big.ItemsRead <= TargetSweepItems))
		p("| sweep time, %s vs %s holds not due (same run) | %.1f ms vs %.1f ms: ratio %.2f | within 20%% (ratio ≤ %.1f) | %s |\n",
			thousands(big.NotDue), thousands(s.Model[0].NotDue), big.MS, s.Model[0].MS, s.Ratio, TargetSweepRatio, check(s.Ratio <= TargetSweepRatio))
	}
	if len(r.Functions) > 0 {
		var largest FunctionResult
		var slowest FunctionResult
		for _, f := range r.Functions {
			if f.ZipBytes > largest.ZipBytes {
				largest = f
			}
			if f.MedianMS > slowest.MedianMS {
				slowest = f
			}
		}
		p("| largest zipped function (%s) | %s | under 10 MB | %s |\n", largest.Name, mb(largest.ZipBytes), check(largest.ZipBytes < TargetZipBytes))
		p("| slowest cold-start init, median (%s) | %.1f ms | none set (§3 says what it measures) | |\n", slowest.Name, slowest.MedianMS)
	}
	if len(r.Pages) > 0 {
		largest := r.Pages[0]
		atMin := 0
		for _, pg := range r.Pages {
			if pg.TotalGzip > largest.TotalGzip {
				largest = pg
			}
			if pg.Total == pg.Minimum {
				atMin++
			}
		}
		p("| largest page view, compressed, scripts and styles included (%s) | %.1f KB | under %d KB | %s |\n", largest.Name,
			float64(largest.TotalGzip)/1024, TargetPageGzip>>10, check(largest.TotalGzip < TargetPageGzip))
		p("| AWS calls per page view (%d pages) | %d at the design's minimum, %d above it, each extra call explained in §6 | the minimum the design allows | |\n",
			len(r.Pages), atMin, len(r.Pages)-atMin)
	}
	if len(r.Calls) > 0 {
		p("| cost per verification, us-east-1 list prices | US$%.6f | below US$%.3f (Stripe Identity: US$1.50) | %s |\n", cost.Total, TargetCostUSD,
			check(cost.Total < TargetCostUSD && len(cost.Missing) == 0))
	}
	if t := r.Throughput; t != nil && t.Skipped == "" {
		p("| local stack under load: failed requests | %d of %d | 0 | %s |\n", t.Errors, t.Requests, check(t.Errors == 0))
		p("| orders in the state the policy gives them | %d of %d (others: %d after a failed request of their flow, %d not reviewed in time, %d unexplained) | all | %s |\n",
			t.OrdersOK, t.Orders, t.AfterErrors, t.NotDecided, t.Orders-t.OrdersOK-t.AfterErrors-t.NotDecided, check(t.OrdersOK == t.Orders && t.Orders > 0))
		p("| local stack throughput | %.1f requests/s, p50 %.0f ms, p99 %.0f ms | none set | |\n", t.RPS, t.P50MS, t.P99MS)
	}
	p("\n")

	renderCalls(p, r.Calls)
	renderSweep(p, r.Sweep)
	renderFunctions(p, r.Functions)
	renderCost(p, r.Calls, cost)
	renderThroughput(p, r.Throughput)
	renderPages(p, r.Pages)
	_, err := io.WriteString(w, b.String())
	return err
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func callList(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "<br>")
}

func renderCalls(p func(string, ...any), ops []OpResult) {
	p("## 1. AWS calls per operation\n\n")
	if len(ops) == 0 {
		p("Not measured in this run.\n\n")
		return
	}
	p("Counted by SDK middleware on every client of the functions (`infra/local/faults`' `Recorder`, installed through `aws.Config.APIOptions`), ")
	p("in the whole system built in one process as the system tests (`infra/local/systemtest/flows`) build it: the synthesized template deployed on moto, each function built by `shared/wiring` as its Lambda main builds it, ")
	p("API requests served by the same `net/http` handlers. Calls are counted as the code makes them, above the SDK's retry loop. ")
	p("Presigned URLs and forms are signed locally and make no call. ")
	p("RRU/WRU are DynamoDB on-demand request units estimated from the items' sizes by the rules of on-demand billing (`Meter`, infra/local/bench/meter.go): ")
	p("reads per 4 KB (GSI queries eventually consistent: half), writes per 1 KB, doubled in transactions, plus GSI writes. ")
	p("Each operation ran on fresh records; its calls were the same on every run. ")
	p("This process's DynamoDB calls to moto are made one at a time (moto breaks on concurrent transactions, see §5), which changes no count.\n\n")
	p("| operation | function | calls | total | minimum | RRU | WRU | events |\n|---|---|---|---|---|---|---|---|\n")
	for _, o := range ops {
		flag := ""
		if o.Expected != nil && !maps.Equal(o.Expected, o.Calls) {
			flag = " ⚠"
		}
		p("| %s | %s | %s | **%d**%s | %d | %.1f | %.1f | %d |\n", o.Name, o.Function, callList(o.Calls), o.Total, flag, o.Minimum,
			o.Capacity.RRU, o.Capacity.WRU, o.Capacity.Events)
	}
	p("\nThe minimum of each operation, and why each call above it is made:\n\n")
	for _, o := range ops {
		p("- **%s**: minimum %d: %s.", o.Name, o.Minimum, o.MinimumWhy)
		if o.Total > o.Minimum {
			p(" Above it (%d): %s.", o.Total-o.Minimum, strings.Join(o.Above, "; "))
		}
		if o.Expected != nil && !maps.Equal(o.Expected, o.Calls) {
			p(" ⚠ **This run made other calls than the explanation was written for** (%s); the explanation needs updating.", callList(o.Expected))
		}
		p("\n")
	}
	p("\n")
}

func renderSweep(p func(string, ...any), s *SweepResult) {
	p("## 2. Sweep scaling\n\n")
	if s == nil {
		p("Not measured in this run.\n\n")
		return
	}
	p("The table holds N customers with one `awaiting_kyc` hold each whose deadline is 71 hours after the sweep (not due), and 100 whose deadline passed a day before it (due), ")
	p("written in the store's own item layout: each customer's items are what `dynamostore.Store.Commit` writes for a placed order (the record with the hold and its `due` index entry, the order mapping, the audit entry), ")
	p("captured instead of sent and then written with `BatchWriteItem`. The sweep is `kyc.Service.Sweep`, the code the sweep function runs, on a store whose `dynamostore.API` is wrapped to count ")
	p("the items each `GetItem` returns and each `Query` returns (`Count`) and evaluates (`ScannedCount`); moto's `ReturnConsumedCapacity` is not used (it answers a constant).\n\n")
	p("| backend | holds not due | due | items read | items evaluated | DynamoDB reads | AWS calls | sweep time (median) | fastest | runs |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.Model {
		fastest := 0.0
		if len(r.Runs) > 0 {
			fastest = r.Runs[0]
		}
		p("| in-process DynamoDB model | %s | %d | **%d** | %d | %d | %d | %.1f ms | %.1f ms | %d |\n", thousands(r.NotDue), r.Due, r.ItemsRead, r.Scanned, r.Reads, r.Calls, r.MS, fastest, len(r.Runs))
	}
	for _, r := range s.Moto {
		p("| moto | %s | %d | **%d** | %d | %d | %d | %.0f ms | | 1 |\n", thousands(r.NotDue), r.Due, r.ItemsRead, r.Scanned, r.Reads, r.Calls, r.MS)
	}
	if len(s.Model) == 2 {
		p("\n**Ratio of the sweep times, %s over %s holds not due: %.2f** (target ≤ %.1f), the ratio of the medians, measured in one run, the two sizes interleaved "+
			"(after %d unmeasured runs each). The spread of single runs is this machine's (two cores, shared with other work), not the table's: the slow runs come in both columns. ",
			thousands(s.Model[1].NotDue), thousands(s.Model[0].NotDue), s.Ratio, TargetSweepRatio, SweepWarmup)
		p("The items read (%d, bound %d) are what the design guarantees: the sweep reads the `due` index only, from its start up to \"now\", so the holds that are not due are never read. ",
			s.Model[1].ItemsRead, TargetSweepItems)
		p("The 100 due records come back from the index itself (projection ALL), and the one other read is the review queue's oldest entry (none here).\n\n")
	}
	p("**Why the times come from a model, not from moto.** moto 5.2.1 answers a `Query` by sorting every item of the table and filtering them ")
	p("(`moto/dynamodb/models/table.py`, `Table.query`), and copies the whole table for every item of every `TransactWriteItems` (`transact_write_items`: `copy.deepcopy` of the table, for rollback). ")
	p("Its time grows with the table whatever the code does:\n\n| holds in the table | moto's time for the due-index query alone | items it returned |\n|---|---|---|\n")
	for _, q := range s.MotoQuery {
		p("| %s | %.0f ms | %d |\n", thousands(q.Holds), q.MS, q.ItemsRead)
	}
	p("\nand a sweep of 100 due holds among 100,000 would make 100 transactions, each copying the table several times (about 2 s a copy at that size). ")
	p("So the times are measured on an in-process model of DynamoDB (infra/local/bench/model_test.go): the calls the store makes, with DynamoDB's semantics (conditions, ")
	p("transactions all-or-nothing, GSI queries in key order from the key condition's first entry) and DynamoDB's cost (a key lookup, and an index seek in an ordered tree, ")
	p("whatever the table's size). EventBridge is a stub endpoint in the process that accepts every entry, so the times are the sweep's own work and its round trips on loopback, ")
	p("without the network latency a real sweep spends mostly waiting on (that latency is the same at every table size, and would only bring the ratio closer to 1). ")
	p("The model is checked against moto in the same run: %s.\n\n", s.Agreement)
	p("Seeding:")
	for _, sd := range s.Seed {
		p(" %s %s items in %.1f s;", sd.Backend, thousands(sd.Items), sd.Seconds)
	}
	p(" (moto gets only the customer records of the 100,000, which are what its index query walks.)\n\n")
}

func renderFunctions(p func(string, ...any), fns []FunctionResult) {
	p("## 3. Functions: size and cold start\n\n")
	if len(fns) == 0 {
		p("Not measured in this run.\n\n")
		return
	}
	p("Sizes are of `make build`'s output, `build/lambda/<fn>/bootstrap` (linux/arm64, `CGO_ENABLED=0 -trimpath -tags lambda.norpc -ldflags='-s -w'`), and of that file deflated in a zip as the CDK asset packs it. ")
	p("Init is the same code built for this machine (linux/amd64, same flags) and started %d times per function with the function's environment from a deployed local stack ", ColdStarts)
	p("(its secrets readable) and `AWS_LAMBDA_RUNTIME_API` pointing at a local Runtime API: the time from starting the process to its first `GET /2018-06-01/runtime/invocation/next`, ")
	p("that is: exec, the Go runtime, the SDK configuration, the clients, the function's own set-up (secrets read at cold start), and the runtime loop's first request. ")
	p("The AWS endpoint it sees is a recording proxy in front of moto, which lists the calls made before ready.\n\n")
	p("| function | binary | zip | zip target | init median | init p90 | init CPU (median) | AWS calls during init |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range fns {
		p("| %s | %s | %s | < 10 MB %s | %.1f ms | %.1f ms | %.1f ms | %s |\n", f.Name, mb(f.BinaryBytes), mb(f.ZipBytes), check(f.ZipBytes < TargetZipBytes),
			f.MedianMS, f.P90MS, f.InitCPUMS, f.InitCalls)
	}
	p("\nWhat this does not measure: Firecracker's microVM start and Lambda's download and unpacking of the code (part of a real cold start, growing with the zip, not of this measurement); ")
	p("the network to AWS (the secret read at init goes to moto on loopback here, a few milliseconds; in AWS a Secrets Manager call is typically 10–30 ms); ")
	p("and Lambda's CPU share: at 256 MB a function gets about 0.15 of a vCPU (1,769 MB is one vCPU), so the init CPU time above stretches by up to about 6× there, ")
	p("and an arm64 Graviton core is not this machine's core. Treat these as the code's own share of a cold start, not as AWS's `Init Duration`.\n\n")
}

func renderCost(p func(string, ...any), ops []OpResult, c Cost) {
	p("## 4. Cost per verification\n\n")
	if len(ops) == 0 {
		p("Not measured in this run.\n\n")
		return
	}
	p("Region **us-east-1**; **list prices as of 2025**, on demand, free tiers ignored. The prices are written from knowledge of AWS's published price pages, not fetched (this machine reaches no web site): check them before quoting.\n\n")
	p("| service | item | price (US$) | per | source |\n|---|---|---|---|---|\n")
	for _, pr := range PriceTable() {
		p("| %s | %s | %.6g | %s | %s |\n", pr.Service, pr.Item, pr.USD, pr.Unit, pr.Source)
	}
	p("\nOne verification: a new customer orders a KYC product and is told (KycRequested), reads the requirements, creates and uploads two documents (each validated by the validator), ")
	p("checks their status three times and submits; a reviewer lists the queue, claims the submission, views it, opens both documents (two audited openings, two downloads) and approves; the customer is told (KycVerified) ")
	p("and billing gets two commands. The calls, request units and events are §1's measurements of each operation times its count:\n\n")
	p("| operation | times | calls each | estimated billed duration each |\n|---|---|---|---|\n")
	byName := map[string]OpResult{}
	for _, o := range ops {
		byName[o.Name] = o
	}
	for _, f := range Flow {
		o, ok := byName[f.Op]
		if !ok {
			p("| %s | %d | not measured | |\n", f.Op, f.Times)
			continue
		}
		p("| %s | %d | %d | %.0f ms |\n", f.Op, f.Times, o.Total, EstimatedMS(o))
	}
	p("\nLambda durations are estimated, not taken from the local runs (moto's transactions copy the whole table, so local durations say nothing about AWS's): ")
	p("each call in turn at a typical in-region latency (TransactWriteItems 15 ms, PutEvents 20 ms, S3 20 ms, SES 50 ms, KMS 10 ms, other DynamoDB calls %d ms) plus %d ms of the function's own work, at 256 MB.\n\n", DefaultCallLatencyMS, ComputeMS)
	p("| | quantity | US$ |\n|---|---|---|\n")
	for _, l := range c.Lines {
		p("| %s | %s | %s |\n", l.Service, l.Quantity, usd(l.USD))
	}
	p("| **total per verification** | | **%s** |\n\n", usd(c.Total))
	if len(c.Missing) > 0 {
		p("⚠ Not priced (no measurement in this run): %s.\n\n", strings.Join(c.Missing, ", "))
	}
	p("**US$%.6f per verification, against a target below US$%.3f** %s. ", c.Total, TargetCostUSD, check(c.Total < TargetCostUSD && len(c.Missing) == 0))
	p("Keeping the two documents for a year is the largest share; the e-mails the next. ")
	p("If every invocation were a cold start billed 300 ms more, Lambda would add US$%s.\n\n", usd(c.ColdExtraUSD))
	p("Not per verification (fixed monthly, whatever the volume): the KMS keys (US$1 a month each), the Secrets Manager secrets (US$0.40 a month each), ")
	p("the sweep every 5 minutes (8,640 invocations a month), the Lambda pollers of the SQS queues, CloudWatch alarms. ")
	p("Nor the reviewer's time, which is the real cost of a manual review.\n\n")
	p("Beside hosted KYC services' list prices (which include automated document and face checks that this gate leaves to a person):\n\n| service | price per verification | note |\n|---|---|---|\n")
	p("| this gate (AWS usage) | US$%.4f | §4 above |\n", c.Total)
	for _, h := range Hosted {
		p("| %s | %s | %s |\n", h.Name, h.Price, h.Note)
	}
	p("\n")
}

func renderThroughput(p func(string, ...any), t *ThroughputResult) {
	p("## 5. The whole local stack under load\n\n")
	if t == nil {
		p("Not measured in this run.\n\n")
		return
	}
	if t.Skipped != "" {
		p("Not measured: %s.\n\n", t.Skipped)
		return
	}
	p("%s\n\n", t.Server)
	p("| | |\n|---|---|\n| customers | %d |\n| reviewers | %d |\n| requests | %d |\n| failed requests (transport error, 5xx or an unexpected status) | **%d** (target 0) %s |\n| submissions made / decided | %d / %d |\n| wall time | %.1f s |\n| throughput | %.1f requests/s |\n| latency p50 / p99 | %.0f ms / %.0f ms |\n| orders checked afterwards | %d, of which %d in the expected state %s |\n\n",
		t.Customers, t.Reviewers, t.Requests, t.Errors, check(t.Errors == 0), t.Submitted, t.Decided, t.Seconds, t.RPS, t.P50MS, t.P99MS, t.Orders, t.OrdersOK, check(t.OrdersOK == t.Orders && t.Orders > 0))
	if t.Errors > 0 {
		p("**Why there are errors.** The dev server logged %d failed requests; %d of them are moto answering HTTP 500 to a `TransactWriteItems` after the SDK's retries. "+
			"moto 5.2.1 copies the whole table for each item of a transaction (for its rollback) without a lock, so a write from another thread at the same time breaks the copy "+
			"(`RuntimeError: dictionary changed size during iteration`, in moto's log). DynamoDB has no such failure; the local stack serialises its DynamoDB calls to the emulator "+
			"(`emulator.SerializeDynamoDB`, in every emulator configuration), so errors here mean that has been lost. The first errors the load generator saw: %s.\n\n",
			t.ServerErrors, t.ServerErrorsMoto, strings.Join(t.ErrorKinds, "; "))
	}
	if len(t.Mismatches) > 0 {
		p("Orders not in the expected state: %d, of which %d belong to a customer one of whose requests failed (its flow did not complete, so the policy's state for it is not the case's), "+
			"%d to a customer whose submission no reviewer decided before the load's deadline, and %d are unexplained: %s.\n\n",
			t.Orders-t.OrdersOK, t.AfterErrors, t.NotDecided, t.Orders-t.OrdersOK-t.AfterErrors-t.NotDecided, strings.Join(t.Mismatches, "; "))
	}
	if second := t.Customers / 5; t.Orders > 0 {
		p("Second orders placed: %d of %d (a customer waits at most 3 minutes for its approval before it gives its second order up; the reviewers of this slow local stack do not always get there in time).\n\n",
			t.Orders-t.Customers, second)
	}
	if len(t.States) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(t.States)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, t.States[k]))
		}
		p("Final states: %s.\n\n", strings.Join(parts, ", "))
	}
	p("| route | requests | p50 | p99 |\n|---|---|---|---|\n")
	for _, r := range t.ByRoute {
		p("| %s | %d | %.0f ms | %.0f ms |\n", r.Route, r.Requests, r.P50MS, r.P99MS)
	}
	p("\nThese are the local stack's figures (one process serving every function, moto behind it, both on this machine's two cores), not AWS's: ")
	p("moto serialises its work and copies the whole table on every transaction, so the rate falls as the table grows. ")
	switch unexplained := t.Orders - t.OrdersOK - t.AfterErrors - t.NotDecided; {
	case t.Errors == 0 && unexplained == 0:
		p("What the run shows is that the system stays correct under concurrent customers and reviewers: no error, and every order where the policy puts it.\n")
	case unexplained == 0:
		p("Every order whose flow completed is where the policy puts it; the ones that are not belong to customers whose requests failed for the reason above, or whose review the slow local stack did not reach in time.\n")
	default:
		p("%d orders are not where the policy puts them although their flow completed: that is a defect to find.\n", unexplained)
	}
}

func renderPages(p func(string, ...any), pages []PageResult) {
	if len(pages) == 0 {
		return
	}
	p("## 6. The pages: bytes and AWS calls per page view\n\n")
	p("Each page is requested as a signed-in browser requests it, through the function's handler built as Lambda builds it, on the emulator. ")
	p("Bytes are gzip-compressed (the HTML plus every script and stylesheet it loads, nothing cached; images of documents are the customer's own bytes and not counted). ")
	p("The session is a sealed cookie: no page reads the table for it (D34).\n\n")
	p("| page | route | HTML (raw / gzip) | scripts and styles (gzip) | total (gzip) | AWS calls | minimum | why the minimum; calls above it |\n|---|---|---|---|---|---|---|---|\n")
	for _, pg := range pages {
		why := pg.MinimumWhy
		if len(pg.Above) > 0 {
			why += "; above: " + strings.Join(pg.Above, "; ")
		}
		p("| %s | `%s` | %.1f / %.1f KB | %.1f KB (%s) | **%.1f KB** %s | %d: %s | %d | %s |\n", pg.Name, pg.Route,
			float64(pg.HTMLBytes)/1024, float64(pg.HTMLGzip)/1024, float64(pg.AssetsGzip)/1024, strings.Join(pg.Assets, ", "),
			float64(pg.TotalGzip)/1024, check(pg.TotalGzip < TargetPageGzip), pg.Total, callList(pg.Calls), pg.Minimum, why)
	}
	p("\n")
}
