// Package fuzzseed writes fuzz targets' seeds out as the committed corpus
// (testdata/fuzz/<FuzzName>/seed-NN, in go's corpus format), so plain
// `go test` replays them and `make fuzz` starts from them.
package fuzzseed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Env names the variable that makes WriteAll write instead of skip.
const Env = "KYC_WRITE_FUZZ_SEEDS"

// Seeder takes seeds: a *testing.F, or a *List to write them out.
type Seeder interface{ Add(args ...any) }

// List collects seeds.
type List [][]any

// Add collects one seed.
func (l *List) Add(args ...any) { *l = append(*l, args) }

// WriteAll writes every target's seeds when $KYC_WRITE_FUZZ_SEEDS is set,
// and skips (saying how to run it) otherwise.
func WriteAll(t *testing.T, targets map[string]func(Seeder)) {
	t.Helper()
	if os.Getenv(Env) == "" {
		t.Skip("set " + Env + " to rewrite testdata/fuzz")
	}
	for name, add := range targets {
		var l List
		add(&l)
		Write(t, name, l)
	}
}

// Write writes seeds as testdata/fuzz/<name>/seed-NN.
func Write(tb testing.TB, name string, seeds [][]any) {
	tb.Helper()
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i, seed := range seeds {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range seed {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			case byte:
				fmt.Fprintf(&b, "byte(%q)\n", v)
			default:
				fmt.Fprintf(&b, "%T(%v)\n", v, v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
