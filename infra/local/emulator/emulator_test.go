package emulator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestMain(m *testing.M) { Main(m) }

// Start without AWS_ENDPOINT_URL runs moto in its own process group; Stop
// leaves no process of that group behind and can be called twice.
func TestStartStopLeavesNoProcess(t *testing.T) {
	Integration(t)
	t.Setenv(EnvEndpoint, "")
	ctx := context.Background()
	e, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	if !e.Started() || !strings.HasPrefix(e.Endpoint(), "http://127.0.0.1:") {
		t.Fatalf("Started()=%v Endpoint()=%q, want a started moto on loopback", e.Started(), e.Endpoint())
	}
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("the started emulator does not answer SQS: %v", err)
	}
	pgid := e.cmd.Process.Pid
	e.Stop()
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process group %d still exists after Stop (kill -0: %v)", pgid, err)
	}
	e.Stop() // idempotent
}

// AWS_ENDPOINT_URL names the emulator: nothing is started, and the region and
// the environment's credentials are used.
func TestStartUsesEndpointFromEnvironment(t *testing.T) {
	t.Setenv(EnvEndpoint, "http://localhost:4566/")
	t.Setenv(EnvRegion, "eu-west-1")
	t.Setenv(EnvAccessKey, "AKIDEXAMPLE")
	t.Setenv(EnvSecretKey, "secret")
	t.Setenv(EnvSessionToken, "")
	e, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop() // no-op
	if e.Started() || e.Endpoint() != "http://localhost:4566" {
		t.Fatalf("Started()=%v Endpoint()=%q, want the environment's endpoint and nothing started", e.Started(), e.Endpoint())
	}
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || deref(cfg.BaseEndpoint) != "http://localhost:4566" {
		t.Fatalf("region %q, base endpoint %q", cfg.Region, deref(cfg.BaseEndpoint))
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" {
		t.Fatalf("credentials %q, %v; want the environment's", creds.AccessKeyID, err)
	}
}

// Without a region in the environment the region is us-east-1; without
// credentials in the environment they are test/test.
func TestConfigDefaults(t *testing.T) {
	t.Setenv(EnvEndpoint, "http://127.0.0.1:1")
	for _, k := range []string{EnvRegion, EnvDefaultRegion, EnvAccessKey, EnvSecretKey} {
		t.Setenv(k, "")
	}
	e, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := cfg.Credentials.Retrieve(context.Background())
	if cfg.Region != "us-east-1" || creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" {
		t.Fatalf("region %q credentials %q/%q", cfg.Region, creds.AccessKeyID, creds.SecretAccessKey)
	}
	want := []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}
	if got := e.Environ(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Environ() = %q, want %q", got, want)
	}
}

// A server that dies at start-up gives an error carrying its output.
func TestStartReportsServerOutput(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'ImportError: no module named werkzeug' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, Command), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv(EnvEndpoint, "")
	start := time.Now()
	_, err := Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no module named werkzeug") || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("err = %v, want the server's exit and its output", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s to notice the server had exited", time.Since(start))
	}
}

func TestStartWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvEndpoint, "")
	_, err := Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "moto_server not found") || !strings.Contains(err.Error(), EnvEndpoint) {
		t.Fatalf("err = %v, want a hint to install moto or set %s", err, EnvEndpoint)
	}
}

// The shared emulator's environment is exported, so the default SDK
// configuration (what awsenv.Load and the functions use) reaches it too.
func TestMainExportsEnvironment(t *testing.T) {
	e := Shared(t)
	if got := os.Getenv(EnvEndpoint); got != e.Endpoint() {
		t.Fatalf("%s = %q, want %q", EnvEndpoint, got, e.Endpoint())
	}
	cfg := Config(t)
	if _, err := sqs.NewFromConfig(cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestUniqueName(t *testing.T) {
	bucket := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	seen := map[string]bool{}
	for _, base := range []string{"Deploy", "TestDeploy/two_prefixes", "---", "", "a very long base name that goes on and on and on"} {
		for i := 0; i < 3; i++ {
			n := UniqueName(t, base)
			if !bucket.MatchString(n) || strings.Contains(n, "--") {
				t.Errorf("UniqueName(%q) = %q, not a valid bucket name", base, n)
			}
			if seen[n] {
				t.Errorf("UniqueName(%q) repeated %q", base, n)
			}
			seen[n] = true
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// At names a running emulator (a saved stack's endpoint) without starting one.
func TestAt(t *testing.T) {
	t.Setenv(EnvAccessKey, "")
	e := At("http://127.0.0.1:4566/")
	defer e.Stop() // no-op
	if e.Started() || e.Endpoint() != "http://127.0.0.1:4566" {
		t.Fatalf("Started()=%v Endpoint()=%q", e.Started(), e.Endpoint())
	}
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds, _ := cfg.Credentials.Retrieve(context.Background()); creds.AccessKeyID != "test" {
		t.Fatalf("credentials %q, want test", creds.AccessKeyID)
	}
}
