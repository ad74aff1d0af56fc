package kmsseal

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"sync"
	"testing"
	"time"
)

func testAEAD(tb testing.TB, b byte) cipher.AEAD {
	tb.Helper()
	key := make([]byte, 32)
	key[0] = b
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestCacheTTL(t *testing.T) {
	c := newKeyCache(10, CacheTTL)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := testAEAD(t, 1)
	c.put("c1", a, t0)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{time.Minute, true},
		{CacheTTL - time.Nanosecond, true}, // using it does not extend its life
		{CacheTTL, false},
		{CacheTTL - time.Nanosecond, false}, // expired entries are gone, not hidden
	} {
		got, ok := c.get("c1", t0.Add(tc.at))
		if ok != tc.want || (ok && got != a) {
			t.Errorf("get at +%s = %v, want %v", tc.at, ok, tc.want)
		}
	}
	if CacheTTL != 5*time.Minute {
		t.Errorf("CacheTTL = %s, want 5m", CacheTTL)
	}
}

func TestCacheBound(t *testing.T) {
	if CacheSize != 1000 {
		t.Errorf("CacheSize = %d, want 1000", CacheSize)
	}
	now := time.Now()
	c := newKeyCache(CacheSize, CacheTTL)
	for i := range CacheSize {
		c.put(fmt.Sprint("c", i), testAEAD(t, byte(i)), now)
	}
	if _, ok := c.get("c0", now); !ok { // c0 is now the most recently used
		t.Fatal("c0 missing before the cache is full")
	}
	c.put("new", testAEAD(t, 0), now)
	if n := c.len(); n != CacheSize {
		t.Errorf("len = %d after %d customers, want %d", n, CacheSize+1, CacheSize)
	}
	if _, ok := c.get("c1", now); ok {
		t.Error("c1, the least recently used, was not evicted")
	}
	for _, id := range []string{"c0", "c2", "c999", "new"} {
		if _, ok := c.get(id, now); !ok {
			t.Errorf("%s was evicted", id)
		}
	}
	c.remove("c2")
	if _, ok := c.get("c2", now); ok || c.len() != CacheSize-1 {
		t.Errorf("remove left c2 (len %d)", c.len())
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := newKeyCache(50, CacheTTL)
	now := time.Now()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				id := fmt.Sprint("c", (g*7+i)%120)
				if _, ok := c.get(id, now); !ok {
					c.put(id, testAEAD(t, byte(i)), now)
				}
				if i%17 == 0 {
					c.remove(id)
				}
			}
		}()
	}
	wg.Wait()
	if n := c.len(); n > 50 || n != len(c.byID) {
		t.Errorf("after concurrent use: list %d, map %d, bound 50", n, len(c.byID))
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"A123-456 7":           "A1234567",
		"a1234567":             "A1234567",
		"  a123 4567\t":        "A1234567",
		"a-1-2-3-4-5-6-7":      "A1234567",
		"a123\u2013456\u00a07": "A1234567", // en dash, no-break space
		"A1234568":             "A1234568",
		"":                     "",
		" - ":                  "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
