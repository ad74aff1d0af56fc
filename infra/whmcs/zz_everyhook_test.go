package whmcsaddon

import (
	"encoding/json"
	"sort"
	"testing"
)

// TestEveryHookRan runs last (file order): every hook of testdata/hooks.json
// was fired by some scenario of this package.
func TestEveryHookRan(t *testing.T) {
	firedMu.Lock()
	n := runs
	got := map[string]bool{}
	for k := range fired {
		got[k] = true
	}
	firedMu.Unlock()
	if n < 20 {
		t.Skip("run the whole package: only then has every scenario run")
	}
	var ref struct {
		Hooks map[string]json.RawMessage `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(readFile(t, "testdata/hooks.json")), &ref); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for name := range ref.Hooks {
		if !got[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("hooks no scenario fired: %v", missing)
	}
}
