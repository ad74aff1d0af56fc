// Command benchreport writes docs/benchmarks.md from the results the
// benchmarks of infra/local/bench left in a directory (make bench):
//
//	benchreport -in build/bench -out docs/benchmarks.md
//
// It adds the machine (CPU, cores, memory, kernel, Go, moto, date) and the
// commands that made the figures (-in's commands.txt, one a line).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kycgate/kycgate/infra/local/bench"
)

func main() {
	in := flag.String("in", "build/bench", "directory of the benchmarks' results")
	out := flag.String("out", "docs/benchmarks.md", "report to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	r, err := bench.Load(in)
	if err != nil {
		return err
	}
	r.Machine = machine()
	if b, err := os.ReadFile(filepath.Join(in, "commands.txt")); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				r.Commands = append(r.Commands, l)
			}
		}
	}
	var buf bytes.Buffer
	if err := bench.Render(&buf, r); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func machine() bench.Machine {
	m := bench.Machine{
		CPU:    cpuInfo("model name"),
		Cores:  fmt.Sprint(runtime.NumCPU()),
		Memory: memInfo(),
		Kernel: strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		Go:     goVersion(),
		Moto:   motoVersion(),
		Date:   time.Now().UTC().Format("2006-01-02 15:04"),
	}
	return m
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

func cpuInfo(key string) string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memInfo() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/meminfo")))
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}

// goVersion is the toolchain `go` on PATH runs (the one that built and ran
// the benchmarks), not this command's own.
func goVersion() string {
	b, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimPrefix(strings.TrimSpace(string(b)), "go version ")
}

func motoVersion() string {
	b, err := exec.Command("python3", "-c", "import importlib.metadata as m; print(m.version('moto'))").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
