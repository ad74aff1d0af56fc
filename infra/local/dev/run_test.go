package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
)

// Run on an emulator it did not start (AWS_ENDPOINT_URL, as emulator.Main
// sets it): a stack of its own prefix, the files that say it runs, a second
// server of the same local directory refused, and on stop the stack removed
// from the emulator and the files gone.
func TestRunOnAnExternalEmulator(t *testing.T) {
	emulator.Shared(t)
	root, err := stacktest.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stacktest.Template(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := Config{LocalDir: dir, Addr: freeAddr(t), Template: filepath.Join(root, DefaultTemplate), SweepEvery: -1}
	ctx, stop := context.WithCancel(context.Background())
	var out bytes.Buffer
	var logs bytes.Buffer
	done := make(chan struct{})
	var runErr error
	go func() { runErr = Run(ctx, cfg, &out, slog.New(slog.NewTextHandler(&logs, nil))); close(done) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
		if t.Failed() {
			t.Logf("output:\n%s\nlogs:\n%s", out.String(), logs.String())
		}
	})

	api := "http://" + cfg.Addr
	var health struct {
		Emulator string
		Stack    string
		Started  bool
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(api + "/local/health")
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&health)
			res.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("Run returned before it was ready: %v", runErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if health.Started || !strings.HasPrefix(health.Stack, "dev-") || health.Emulator != os.Getenv(emulator.EnvEndpoint) {
		t.Errorf("health %+v: want the found emulator, not started, and a prefix of its own", health)
	}
	st, err := stack.Load(StackFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fn := st.Functions[contract.FunctionBillingAdapter]; !strings.HasPrefix(fn.Env[contract.EnvBillingURL], api+SinkPath+"/") {
		t.Errorf("saved stack: billing-adapter's %s = %q, want the local sink", contract.EnvBillingURL, fn.Env[contract.EnvBillingURL])
	}
	if b, err := os.ReadFile(WebhookSecretFile(dir)); err != nil || len(b) < 32 {
		t.Errorf("webhook secret file: %d bytes, %v", len(b), err)
	}
	for _, path := range []string{"/local/", "/local/billing/commands", "/local/emails", "/local/substitutions"} {
		res, err := http.Get(api + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, res.StatusCode, body)
		}
	}
	// An API route without a token: 401 in the API's error format.
	res, err := http.Get(api + "/v1/kyc/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"unauthorized"`) {
		t.Errorf("GET /v1/kyc/status without a token = %d %s", res.StatusCode, body)
	}

	// The OpenAPI document, and the answers to paths and methods no route
	// has: problem details, 405 with Allow.
	res, err = http.Get(api + OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, contract.OpenAPI) {
		t.Errorf("GET %s = %d, %d bytes; want 200 and contract.OpenAPI", OpenAPIPath, res.StatusCode, len(body))
	}
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/kyc/documents", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/local/billing/commands", http.StatusMethodNotAllowed, "GET"},
		{"GET", "/v1/nothing", http.StatusNotFound, ""},
	} {
		req, _ := http.NewRequest(tc.method, api+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var p httpapi.Problem
		_ = json.Unmarshal(body, &p)
		if res.StatusCode != tc.status || res.Header.Get("Allow") != tc.allow || res.Header.Get("Content-Type") != httpapi.ProblemContentType || p.Status != tc.status {
			t.Errorf("%s %s = %d Allow %q %s %s; want %d Allow %q as problem details", tc.method, tc.path, res.StatusCode,
				res.Header.Get("Allow"), res.Header.Get("Content-Type"), body, tc.status, tc.allow)
		}
	}

	second := cfg
	second.Addr = freeAddr(t)
	if err := Run(context.Background(), second, io.Discard, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("a second server of the same local directory: %v, want refused", err)
	}

	stop()
	select {
	case <-done:
		if runErr != nil {
			t.Fatalf("Run: %v", runErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of the stop")
	}
	for _, f := range []string{StackFile(dir), WebhookSecretFile(dir), serverFile(dir)} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left after the stop", f)
		}
	}
	table := st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvTable]
	if _, err := dynamodb.NewFromConfig(emulator.Config(t)).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &table}); err == nil {
		t.Errorf("table %s is still on the emulator after the stop", table)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
