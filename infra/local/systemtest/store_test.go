package systemtest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// The DynamoDB store passes the contract suite the in-memory store of
// kyctest passes: the same assertions, two implementations. Each subtest
// gets a table of its own, made by the local stack's deployer from the
// stack's own definition of the table, and removed when it ends.
func TestStore(t *testing.T) {
	emulator.Integration(t)
	tpl := tableTemplate(t)
	cfg := emulator.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	kyctest.TestStore(t, func(t *testing.T) kyc.Store {
		st, err := stack.Deploy(context.Background(), cfg, tpl, stack.Options{Prefix: emulator.UniqueName(t, "store")})
		if err != nil {
			t.Fatalf("deploy the table: %v", err)
		}
		t.Cleanup(func() {
			if err := st.Destroy(context.Background()); err != nil {
				t.Logf("destroy the table: %v", err)
			}
		})
		return dynamostore.New(db, tableName(t, st))
	})
}

// tableTemplate returns the synthesized template cut down to its DynamoDB
// table and what the table refers to (its KMS key), so a test deploys
// exactly the stack's table (keys, indexes, projections, encryption) and
// nothing else.
func tableTemplate(tb testing.TB) []byte {
	tb.Helper()
	b, err := stacktest.Template()
	if err != nil {
		tb.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		tb.Fatalf("template: %v", err)
	}
	resources, _ := tpl["Resources"].(map[string]any)
	var tables []string
	for id, r := range resources {
		if typ, _ := r.(map[string]any)["Type"].(string); typ == "AWS::DynamoDB::Table" {
			tables = append(tables, id)
		}
	}
	if len(tables) != 1 {
		tb.Fatalf("the template has %d DynamoDB tables (%v), want the one table of docs/architecture.md", len(tables), tables)
	}
	keep := map[string]any{}
	var add func(id string)
	add = func(id string) {
		r, ok := resources[id]
		if _, done := keep[id]; done || !ok {
			return
		}
		keep[id] = r
		refs := map[string]bool{}
		references(r, refs)
		for ref := range refs {
			add(ref)
		}
	}
	add(tables[0])
	out, err := json.Marshal(map[string]any{"Resources": keep})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// references collects the logical ids a template value names through Ref,
// Fn::GetAtt, Fn::Sub and DependsOn.
func references(v any, into map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			references(e, into)
		}
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Ref":
				if s, ok := e.(string); ok && !strings.HasPrefix(s, "AWS::") {
					into[s] = true
				}
			case "Fn::GetAtt":
				if l, ok := e.([]any); ok && len(l) > 0 {
					if s, ok := l[0].(string); ok {
						into[s] = true
					}
				}
			case "Fn::Sub":
				s, _ := e.(string)
				if l, ok := e.([]any); ok && len(l) > 0 {
					s, _ = l[0].(string)
				}
				for _, part := range strings.Split(s, "${")[1:] {
					name, _, _ := strings.Cut(strings.SplitN(part, "}", 2)[0], ".")
					if !strings.HasPrefix(name, "AWS::") && !strings.HasPrefix(name, "!") {
						into[name] = true
					}
				}
			case "DependsOn":
				switch d := e.(type) {
				case string:
					into[d] = true
				case []any:
					for _, s := range d {
						if s, ok := s.(string); ok {
							into[s] = true
						}
					}
				}
			}
			references(e, into)
		}
	}
}

// tableName returns the physical name of the deployed stack's table.
func tableName(tb testing.TB, st *stack.Stack) string {
	tb.Helper()
	var names []string
	for _, r := range st.Resources {
		if r.Type == "AWS::DynamoDB::Table" {
			names = append(names, r.PhysicalID)
		}
	}
	slices.Sort(names)
	if len(names) != 1 {
		tb.Fatalf("deployed %d tables (%v), want 1", len(names), names)
	}
	return names[0]
}

// TestRateLimiterOnDynamoDB: the customer API's sliding-window limiter on the
// stack's table: at most N actions in any window of length Per (a new hour
// does not reset it), a refused action writes nothing, and of many requests
// of one customer at once no more than N are admitted (each write is
// conditional on the record's version).
func TestRateLimiterOnDynamoDB(t *testing.T) {
	emulator.Integration(t)
	cfg := emulator.Config(t)
	st, err := stack.Deploy(context.Background(), cfg, tableTemplate(t), stack.Options{Prefix: emulator.UniqueName(t, "rate")})
	if err != nil {
		t.Fatalf("deploy the table: %v", err)
	}
	t.Cleanup(func() { _ = st.Destroy(context.Background()) })
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), tableName(t, st))
	now := time.Date(2026, 11, 26, 10, 59, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := httpapi.NewLimiter(store, map[string]httpapi.Rate{string(kyc.ActionDocument): {N: 3, Per: time.Hour}}, clock)
	ctx := context.Background()

	for i := range 3 {
		if err := l.Allow(ctx, "c-1", kyc.ActionDocument); err != nil {
			t.Fatalf("action %d: %v", i+1, err)
		}
	}
	_, before, _ := store.RateEvents(ctx, "c-1#document")
	mu.Lock()
	now = now.Add(time.Minute) // 11:00, a new hour
	mu.Unlock()
	if err := l.Allow(ctx, "c-1", kyc.ActionDocument); kyc.KindOf(err) != kyc.KindRateLimited {
		t.Fatalf("a 4th action a minute later, in a new hour: %v, want refused", err)
	}
	if _, after, _ := store.RateEvents(ctx, "c-1#document"); after != before {
		t.Fatalf("a refused action wrote the record (version %d → %d)", before, after)
	}
	mu.Lock()
	now = now.Add(59 * time.Minute) // 11:59: the three of 10:59 are an hour old
	mu.Unlock()
	if err := l.Allow(ctx, "c-1", kyc.ActionDocument); err != nil {
		t.Fatalf("an hour after the first three: %v", err)
	}

	var wg sync.WaitGroup
	var admitted atomic.Int64
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Allow(ctx, "c-2", kyc.ActionDocument); err == nil {
				admitted.Add(1)
			} else if k := kyc.KindOf(err); k != kyc.KindRateLimited && kyc.CodeOf(err) != "busy" {
				t.Errorf("concurrent action: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 3 {
		t.Fatalf("%d of 10 concurrent actions admitted, want 3", n)
	}
	if times, _, _ := store.RateEvents(ctx, "c-2#document"); len(times) != 3 {
		t.Fatalf("record holds %d times, want 3", len(times))
	}
}
