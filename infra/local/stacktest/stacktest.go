// Package stacktest gives integration tests the real stack: the template
// `make synth` wrote, deployed on the test binary's emulator under a unique
// prefix and destroyed when the test ends.
package stacktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
)

// TemplateFile is where `make synth` writes the stack, from the module root.
const TemplateFile = "cdk.out/KycGate.template.json"

// Root returns the module root: the nearest directory above the working
// directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Template reads the synthesized template: $KYC_TEMPLATE if set, else
// TemplateFile under the module root.
func Template() ([]byte, error) {
	path := os.Getenv("KYC_TEMPLATE")
	if path == "" {
		root, err := Root()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(root, TemplateFile)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing: run make synth first", path)
	}
	return b, err
}

// Deploy deploys the synthesized stack on the emulator of the test binary
// (emulator.Main) with a prefix of its own, and destroys it at cleanup.
func Deploy(tb testing.TB) (*stack.Stack, aws.Config) {
	tb.Helper()
	cfg := emulator.Config(tb)
	tpl, err := Template()
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	st, err := stack.Deploy(ctx, cfg, tpl, stack.Options{Prefix: emulator.UniqueName(tb, "kyc")})
	if err != nil {
		tb.Fatalf("deploy the synthesized stack: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Destroy(context.Background()); err != nil {
			tb.Logf("destroy stack: %v", err)
		}
	})
	return st, cfg
}

// Env returns a function's resolved environment as a lookup.
func Env(st *stack.Stack, function string) func(string) string {
	fn := st.Functions[function]
	return func(k string) string {
		if fn == nil {
			return ""
		}
		return fn.Env[k]
	}
}
