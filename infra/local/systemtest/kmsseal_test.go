package systemtest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
)

// sealEnv is the CMK, the HMAC key and the table of the synthesized stack,
// deployed on the emulator for this test (infra/keys.go, infra/table.go).
type sealEnv struct {
	kms    *kms.Client // counted
	raw    *kms.Client // not counted
	db     *dynamodb.Client
	table  string
	cmk    string
	macKey string
	calls  *kmsCalls
	keys   *kmsseal.DynamoKeys
}

// kmsCalls counts KMS operations by name.
type kmsCalls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *kmsCalls) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countKMS",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// take returns the counts so far and resets them.
func (c *kmsCalls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func newSealEnv(t *testing.T) *sealEnv {
	t.Helper()
	st, cfg := stacktest.Deploy(t)
	e := &sealEnv{calls: &kmsCalls{n: map[string]int{}}}
	e.raw = kms.NewFromConfig(cfg)
	e.kms = kms.NewFromConfig(cfg, func(o *kms.Options) { o.APIOptions = append(o.APIOptions, e.calls.middleware) })
	e.db = dynamodb.NewFromConfig(cfg)

	env := st.Functions[contract.FunctionAdminAPI].Env
	e.cmk, e.macKey, e.table = env[contract.EnvKeyID], env[contract.EnvMacKeyID], env[contract.EnvTable]
	e.keys = kmsseal.NewDynamoKeys(e.db, e.table)
	return e
}

// sealer is a new sealer on the environment, as a new process would have
// (an empty cache).
func (e *sealEnv) sealer() *kmsseal.Sealer { return kmsseal.New(e.kms, e.keys, e.cmk, e.macKey) }

// item reads a customer's key record as stored.
func (e *sealEnv) item(tb testing.TB, customerID string) map[string]dtypes.AttributeValue {
	tb.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: map[string]dtypes.AttributeValue{contract.AttrPK: &dtypes.AttributeValueMemberS{Value: kmsseal.KeyPKPrefix + customerID}, contract.AttrSK: &dtypes.AttributeValueMemberS{Value: kmsseal.KeySK}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		tb.Fatalf("get item: %v", err)
	}
	return out.Item
}

// partition returns every item of the customer's partition.
func (e *sealEnv) partition(tb testing.TB, customerID string) []map[string]dtypes.AttributeValue {
	tb.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(e.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK},
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{":pk": &dtypes.AttributeValueMemberS{Value: "CUST#" + customerID}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		tb.Fatalf("query: %v", err)
	}
	return out.Items
}

func mustSeal(tb testing.TB, s *kmsseal.Sealer, customerID, plaintext string) kyc.Sealed {
	tb.Helper()
	v, err := s.Seal(context.Background(), customerID, []byte(plaintext))
	if err != nil {
		tb.Fatalf("Seal(%s): %v", customerID, err)
	}
	return v
}

func TestSealOpenRoundTrip(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	s := e.sealer()
	const secret = "alice@example.com"

	v1 := mustSeal(t, s, "cust-a", secret)
	v2 := mustSeal(t, s, "cust-a", secret)
	if v1.V != 1 || len(v1.Nonce) != 12 || len(v1.Data) != len(secret)+16 {
		t.Errorf("sealed = v%d, %d-byte nonce, %d bytes; want v1, 12, %d", v1.V, len(v1.Nonce), len(v1.Data), len(secret)+16)
	}
	if bytes.Contains(v1.Data, []byte(secret)) || bytes.Contains(v1.Data, []byte("alice")) {
		t.Error("the sealed data contains the plaintext")
	}
	if bytes.Equal(v1.Nonce, v2.Nonce) || bytes.Equal(v1.Data, v2.Data) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	for name, opener := range map[string]*kmsseal.Sealer{"same sealer": s, "new process": e.sealer()} {
		for i, v := range []kyc.Sealed{v1, v2} {
			got, err := opener.Open(ctx, "cust-a", v)
			if err != nil || string(got) != secret {
				t.Errorf("%s: Open(v%d) = %q, %v; want %q", name, i+1, got, err, secret)
			}
		}
	}
	empty := mustSeal(t, s, "cust-a", "")
	if got, err := s.Open(ctx, "cust-a", empty); err != nil || len(got) != 0 {
		t.Errorf("Open(sealed empty) = %q, %v", got, err)
	}
}

func TestOtherCustomerCannotOpen(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	s := e.sealer()
	va := mustSeal(t, s, "cust-a", "A's address")
	mustSeal(t, s, "cust-b", "B's address") // B has a key of its own

	t.Run("under B's own key", func(t *testing.T) {
		if got, err := s.Open(ctx, "cust-b", va); !errors.Is(err, kmsseal.ErrTampered) {
			t.Errorf("Open(A's value as B) = %q, %v; want kmsseal.ErrTampered", got, err)
		}
	})
	t.Run("a customer without a key", func(t *testing.T) {
		if got, err := s.Open(ctx, "cust-c", va); !errors.Is(err, kmsseal.ErrShredded) {
			t.Errorf("Open(A's value as C) = %q, %v; want kmsseal.ErrShredded", got, err)
		}
		if items := e.partition(t, "cust-c"); len(items) != 0 {
			t.Errorf("Open created a key for C: %v", items)
		}
	})
	t.Run("by KMS encryption context", func(t *testing.T) {
		wrapped, err := e.keys.DataKey(ctx, "cust-a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.raw.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped, KeyId: aws.String(e.cmk),
			EncryptionContext: map[string]string{"customerId": "cust-b"}}); err == nil {
			t.Error("KMS unwrapped A's data key under B's encryption context")
		}
		if _, err := e.raw.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped, KeyId: aws.String(e.cmk)}); err == nil {
			t.Error("KMS unwrapped A's data key without an encryption context")
		}
		out, err := e.raw.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped, KeyId: aws.String(e.cmk),
			EncryptionContext: map[string]string{"customerId": "cust-a"}})
		if err != nil || len(out.Plaintext) != 32 {
			t.Errorf("control: Decrypt under A's context = %v", err)
		}
		// A store that hands B A's wrapped key: KMS refuses to unwrap it.
		swapped := kmsseal.New(e.kms, swapStore{KeyStore: e.keys, from: "cust-b", to: "cust-a"}, e.cmk, e.macKey)
		if got, err := swapped.Open(ctx, "cust-b", va); err == nil {
			t.Errorf("Open as B with A's wrapped key = %q, want an error", got)
		}
	})
}

// swapStore answers for customer from with customer to's wrapped key.
type swapStore struct {
	kmsseal.KeyStore
	from, to string
}

func (s swapStore) DataKey(ctx context.Context, id string) ([]byte, error) {
	if id == s.from {
		id = s.to
	}
	return s.KeyStore.DataKey(ctx, id)
}

func TestTamperedValuesFail(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	s := e.sealer()
	v := mustSeal(t, s, "cust-t", "passport number X1234567")

	flip := func(b []byte, i int) []byte {
		c := slices.Clone(b)
		c[i] ^= 0x01
		return c
	}
	for _, tc := range []struct {
		name     string
		v        kyc.Sealed
		tampered bool // kmsseal.ErrTampered (else any error)
	}{
		{"first data byte", kyc.Sealed{V: 1, Nonce: v.Nonce, Data: flip(v.Data, 0)}, true},
		{"middle data byte", kyc.Sealed{V: 1, Nonce: v.Nonce, Data: flip(v.Data, len(v.Data)/2)}, true},
		{"tag byte", kyc.Sealed{V: 1, Nonce: v.Nonce, Data: flip(v.Data, len(v.Data)-1)}, true},
		{"nonce byte", kyc.Sealed{V: 1, Nonce: flip(v.Nonce, 5), Data: v.Data}, true},
		{"truncated", kyc.Sealed{V: 1, Nonce: v.Nonce, Data: v.Data[:len(v.Data)-1]}, true},
		{"appended", kyc.Sealed{V: 1, Nonce: v.Nonce, Data: append(slices.Clone(v.Data), 0)}, true},
		{"empty data", kyc.Sealed{V: 1, Nonce: v.Nonce}, true},
		{"short nonce", kyc.Sealed{V: 1, Nonce: v.Nonce[:8], Data: v.Data}, true},
		{"no nonce", kyc.Sealed{V: 1, Data: v.Data}, true},
		{"unknown version", kyc.Sealed{V: 2, Nonce: v.Nonce, Data: v.Data}, false},
		{"zero value", kyc.Sealed{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Open(ctx, "cust-t", tc.v)
			if err == nil {
				t.Fatalf("Open(tampered) = %q, want an error", got)
			}
			if tc.tampered && !errors.Is(err, kmsseal.ErrTampered) {
				t.Errorf("Open(tampered) = %v, want kmsseal.ErrTampered", err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("X1234567")) {
				t.Errorf("the error shows the plaintext: %v", err)
			}
		})
	}
	if got, err := s.Open(ctx, "cust-t", v); err != nil || string(got) != "passport number X1234567" {
		t.Errorf("control: Open(untouched) = %q, %v", got, err)
	}
}

func TestShred(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	s := e.sealer()
	t0 := time.Now()
	now := t0
	other := kmsseal.New(e.kms, e.keys, e.cmk, e.macKey, kmsseal.WithClock(func() time.Time { return now })) // another process that has the key cached

	v := mustSeal(t, s, "cust-s", "bob@example.com")
	keep := mustSeal(t, s, "cust-keep", "carol@example.com")
	if _, err := other.Open(ctx, "cust-s", v); err != nil {
		t.Fatalf("Open before Shred: %v", err)
	}

	if err := s.Shred(ctx, "cust-s"); err != nil {
		t.Fatalf("Shred: %v", err)
	}
	if got, err := s.Open(ctx, "cust-s", v); !errors.Is(err, kmsseal.ErrShredded) {
		t.Errorf("Open after Shred = %q, %v; want kmsseal.ErrShredded", got, err)
	}
	if got, err := e.sealer().Open(ctx, "cust-s", v); !errors.Is(err, kmsseal.ErrShredded) {
		t.Errorf("Open after Shred in a new process = %q, %v; want kmsseal.ErrShredded", got, err)
	}
	if _, err := e.keys.DataKey(ctx, "cust-s"); !errors.Is(err, kyc.ErrNotExist) {
		t.Errorf("the key record survived Shred: %v", err)
	}
	if items := e.partition(t, "cust-s"); len(items) != 0 {
		t.Errorf("items left after Shred: %v", items)
	}
	// Another process's cache keeps the key at most kmsseal.CacheTTL.
	if _, err := other.Open(ctx, "cust-s", v); err != nil {
		t.Errorf("another process's cache lost the key before kmsseal.CacheTTL: %v", err)
	}
	now = t0.Add(kmsseal.CacheTTL)
	if got, err := other.Open(ctx, "cust-s", v); !errors.Is(err, kmsseal.ErrShredded) {
		t.Errorf("another process, kmsseal.CacheTTL after it cached the key: Open = %q, %v; want kmsseal.ErrShredded", got, err)
	}
	// Other customers are untouched; shredding again is fine.
	if got, err := s.Open(ctx, "cust-keep", keep); err != nil || string(got) != "carol@example.com" {
		t.Errorf("another customer's value after Shred: %q, %v", got, err)
	}
	if err := s.Shred(ctx, "cust-s"); err != nil {
		t.Errorf("Shred again: %v", err)
	}
}

func TestStoredKeyIsWrapped(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	v := mustSeal(t, e.sealer(), "cust-w", "dave@example.com")

	item := e.item(t, "cust-w")
	var names []string
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"createdAt", "pk", "sk", "wrapped"}; !slices.Equal(names, want) {
		t.Errorf("key record attributes %v, want %v", names, want)
	}
	if pk, sk := item["pk"].(*dtypes.AttributeValueMemberS), item["sk"].(*dtypes.AttributeValueMemberS); pk.Value != "CUST#cust-w" || sk.Value != "KEY" {
		t.Errorf("key record at pk=%s sk=%s", pk.Value, sk.Value)
	}
	created, ok := item["createdAt"].(*dtypes.AttributeValueMemberS)
	if at, err := time.Parse(time.RFC3339, created.Value); !ok || err != nil || time.Since(at) > time.Minute {
		t.Errorf("createdAt = %v", item["createdAt"])
	}
	wrapped := item["wrapped"].(*dtypes.AttributeValueMemberB).Value

	// The plaintext data key, as KMS unwraps it: it opens the sealed value
	// (so it is the right key) and appears nowhere in the record.
	out, err := e.raw.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped, KeyId: aws.String(e.cmk),
		EncryptionContext: map[string]string{"customerId": "cust-w"}})
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	plainKey := out.Plaintext
	block, _ := aes.NewCipher(plainKey)
	gcm, _ := cipher.NewGCM(block)
	if got, err := gcm.Open(nil, v.Nonce, v.Data, []byte("kyc:customer:cust-w")); err != nil || string(got) != "dave@example.com" {
		t.Fatalf("the unwrapped key does not open the value: %q, %v", got, err)
	}
	if len(wrapped) <= len(plainKey) {
		t.Errorf("wrapped key of %d bytes: not a KMS ciphertext", len(wrapped))
	}
	for name, av := range item {
		var b []byte
		switch x := av.(type) {
		case *dtypes.AttributeValueMemberB:
			b = x.Value
		case *dtypes.AttributeValueMemberS:
			b = []byte(x.Value)
		}
		for _, form := range [][]byte{plainKey, []byte(hex.EncodeToString(plainKey)), []byte(base64.StdEncoding.EncodeToString(plainKey))} {
			if bytes.Contains(b, form) {
				t.Errorf("attribute %s holds the plaintext data key", name)
			}
		}
	}
}

// gateStore holds the first n DataKey calls, once they have read, until
// all n have: n first Seals all find no key and race to create one (a
// call held before its read could find the key another had written).
type gateStore struct {
	kmsseal.KeyStore
	mu      sync.Mutex
	waiting int // first calls arrived
	read    int // first calls that have read
	n       int
	open    chan struct{}
	stale   int
}

func (g *gateStore) DataKey(ctx context.Context, id string) ([]byte, error) {
	g.mu.Lock()
	first := g.waiting < g.n
	if first {
		g.waiting++
	}
	g.mu.Unlock()
	wrapped, err := g.KeyStore.DataKey(ctx, id)
	if first {
		g.mu.Lock()
		if g.read++; g.read == g.n {
			close(g.open)
		}
		g.mu.Unlock()
		<-g.open
	}
	return wrapped, err
}

func (g *gateStore) PutDataKey(ctx context.Context, id string, wrapped []byte) error {
	err := g.KeyStore.PutDataKey(ctx, id, wrapped)
	if errors.Is(err, kyc.ErrStale) {
		g.mu.Lock()
		g.stale++
		g.mu.Unlock()
	}
	return err
}

func TestConcurrentFirstSeal(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	const n = 4 // four processes (own caches) seal for one new customer at once
	gate := &gateStore{KeyStore: e.keys, n: n, open: make(chan struct{})}
	values := make([]kyc.Sealed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			values[i], errs[i] = kmsseal.New(e.kms, gate, e.cmk, e.macKey).Seal(ctx, "cust-race", []byte(fmt.Sprint("value ", i)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Seal %d: %v", i, err)
		}
	}
	if gate.stale != n-1 {
		t.Errorf("%d writers lost the race, want %d (the gate did not make them race)", gate.stale, n-1)
	}
	if items := e.partition(t, "cust-race"); len(items) != 1 {
		t.Errorf("%d key records after concurrent first Seals, want 1", len(items))
	}
	fresh := e.sealer()
	for i, v := range values {
		if got, err := fresh.Open(ctx, "cust-race", v); err != nil || string(got) != fmt.Sprint("value ", i) {
			t.Errorf("Open(value %d) = %q, %v", i, got, err)
		}
	}

	// One sealer used concurrently (one process, many requests).
	s := e.sealer()
	var mu sync.Mutex
	sealed := map[string]kyc.Sealed{}
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("cust-c", i%4)
			v, err := s.Seal(ctx, id, []byte(id))
			if err != nil {
				t.Errorf("Seal: %v", err)
				return
			}
			mu.Lock()
			sealed[fmt.Sprint(i)] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i, v := range sealed {
		var n int
		fmt.Sscan(i, &n)
		id := fmt.Sprint("cust-c", n%4)
		if got, err := fresh.Open(ctx, id, v); err != nil || string(got) != id {
			t.Errorf("Open(%s) = %q, %v", id, got, err)
		}
	}
	for i := range 4 {
		if items := e.partition(t, fmt.Sprint("cust-c", i)); len(items) != 1 {
			t.Errorf("cust-c%d has %d key records, want 1", i, len(items))
		}
	}
}

func TestCacheSavesKMSCalls(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	t0 := time.Now()
	now := t0
	s := kmsseal.New(e.kms, e.keys, e.cmk, e.macKey, kmsseal.WithClock(func() time.Time { return now }))

	steps := []struct {
		name string
		do   func() error
		want map[string]int
	}{
		{"first Seal creates the key", func() error { _, err := s.Seal(ctx, "cust-k", []byte("x")); return err }, map[string]int{"GenerateDataKey": 1}},
		{"second Seal uses the cache", func() error { _, err := s.Seal(ctx, "cust-k", []byte("y")); return err }, map[string]int{}},
		{"Open uses the cache", func() error {
			v, err := s.Seal(ctx, "cust-k", []byte("z"))
			if err == nil {
				_, err = s.Open(ctx, "cust-k", v)
			}
			return err
		}, map[string]int{}},
		{"after kmsseal.CacheTTL the key is unwrapped again", func() error {
			now = t0.Add(kmsseal.CacheTTL + time.Second)
			_, err := s.Seal(ctx, "cust-k", []byte("x"))
			return err
		}, map[string]int{"Decrypt": 1}},
		{"and cached again", func() error { _, err := s.Seal(ctx, "cust-k", []byte("x")); return err }, map[string]int{}},
	}
	e.calls.take()
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := e.calls.take(); !mapsEqual(got, st.want) {
			t.Errorf("%s: KMS calls %v, want %v", st.name, got, st.want)
		}
	}
	// A second process opens with one Decrypt, then from its cache.
	o := e.sealer()
	v := mustSeal(t, s, "cust-k", "v")
	e.calls.take()
	for i, want := range []map[string]int{{"Decrypt": 1}, {}} {
		if _, err := o.Open(ctx, "cust-k", v); err != nil {
			t.Fatal(err)
		}
		if got := e.calls.take(); !mapsEqual(got, want) {
			t.Errorf("Open %d in a new process: KMS calls %v, want %v", i+1, got, want)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFingerprint(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	s1, s2 := e.sealer(), e.sealer()
	fp := func(s *kmsseal.Sealer, v string) string {
		t.Helper()
		h, err := s.Fingerprint(ctx, v)
		if err != nil {
			t.Fatalf("Fingerprint(%q): %v", v, err)
		}
		return h
	}
	a := fp(s1, "A123-456 7")
	if len(a) != 64 {
		t.Errorf("fingerprint %q is not 32 hex bytes", a)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Errorf("fingerprint %q is not hex", a)
	}
	for _, same := range []string{"a1234567", " a123 4567 ", "A1234567"} {
		if got := fp(s2, same); got != a { // another sealer: as for another customer
			t.Errorf("Fingerprint(%q) = %s, want %s (same number)", same, got, a)
		}
	}
	if got := fp(s1, "A1234568"); got == a {
		t.Error("two document numbers have one fingerprint")
	}
	// It is KMS's HMAC of the normalised value, with the MAC key.
	out, err := e.raw.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(e.macKey), MacAlgorithm: ktypes.MacAlgorithmSpecHmacSha256, Message: []byte("A1234567")})
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(out.Mac); a != want {
		t.Errorf("fingerprint %s, KMS HMAC of the normalised value %s", a, want)
	}
	for _, bad := range []string{"", "  ", " - "} {
		if h, err := s1.Fingerprint(ctx, bad); err == nil {
			t.Errorf("Fingerprint(%q) = %s, want an error", bad, h)
		}
	}
}

func TestDynamoKeys(t *testing.T) {
	emulator.Integration(t)
	e := newSealEnv(t)
	ctx := context.Background()
	k := e.keys

	if _, err := k.DataKey(ctx, "cust-none"); !errors.Is(err, kyc.ErrNotExist) {
		t.Errorf("DataKey(missing) = %v, want ErrNotExist", err)
	}
	if err := k.PutDataKey(ctx, "cust-1", []byte("first")); err != nil {
		t.Fatalf("PutDataKey: %v", err)
	}
	if err := k.PutDataKey(ctx, "cust-1", []byte("second")); !errors.Is(err, kyc.ErrStale) {
		t.Errorf("PutDataKey over an existing key = %v, want ErrStale", err)
	}
	if got, err := k.DataKey(ctx, "cust-1"); err != nil || string(got) != "first" {
		t.Errorf("DataKey = %q, %v; want the first key, unchanged", got, err)
	}
	if err := k.PutDataKey(ctx, "cust-2", nil); err == nil {
		t.Error("PutDataKey(empty) succeeded")
	}
	if err := k.DeleteDataKey(ctx, "cust-1"); err != nil {
		t.Fatalf("DeleteDataKey: %v", err)
	}
	if _, err := k.DataKey(ctx, "cust-1"); !errors.Is(err, kyc.ErrNotExist) {
		t.Errorf("DataKey after delete = %v, want ErrNotExist", err)
	}
	if err := k.DeleteDataKey(ctx, "cust-1"); err != nil {
		t.Errorf("DeleteDataKey(missing) = %v", err)
	}
	// The key record does not disturb the customer's other records.
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]dtypes.AttributeValue{
		"pk": &dtypes.AttributeValueMemberS{Value: "CUST#cust-3"}, "sk": &dtypes.AttributeValueMemberS{Value: "CUSTOMER"},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := k.PutDataKey(ctx, "cust-3", []byte("k3")); err != nil {
		t.Errorf("PutDataKey beside the customer record: %v", err)
	}
	if err := k.DeleteDataKey(ctx, "cust-3"); err != nil {
		t.Fatal(err)
	}
	if items := e.partition(t, "cust-3"); len(items) != 1 || items[0]["sk"].(*dtypes.AttributeValueMemberS).Value != "CUSTOMER" {
		t.Errorf("after DeleteDataKey the partition holds %v, want only the customer record", items)
	}
}
