// Command cdk is the AWS CDK app of the KYC gate: it synthesizes the
// KycGate stack (docs/architecture.md) into CDK_OUTDIR (cdk.out) and fails
// when cdk-nag (AwsSolutions and Serverless packs) reports any finding that
// is not suppressed with a reason.
//
//	CDK_OUTDIR=cdk.out go run ./infra/cdk     # what `make synth` runs
//
// Configuration comes from the CDK context: cdk.json holds the defaults and is
// read here when the app runs without the CDK CLI (which passes the context in
// CDK_CONTEXT_JSON). KYC_FUNCTIONS_DIR (or context functionsDir) points at the
// function builds, build/lambda by default.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// StackName must match STACK in the Makefile.
const StackName = "KycGate"

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app, err := newApp("cdk.json")
	if err != nil {
		return err
	}
	cfg, err := configFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	dir := functionsDir(app)
	if err := checkFunctionsDir(dir); err != nil {
		return err
	}
	stack := NewKycStack(app, StackName, &KycStackProps{Config: cfg, FunctionsDir: dir})
	addNagPacks(app)

	asm := app.Synth(nil)
	findings, err := synthFindings(*asm.Directory(), *stack.ArtifactId())
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		for _, f := range findings {
			fmt.Fprintln(os.Stderr, f)
		}
		return fmt.Errorf("%d unsuppressed cdk-nag/CDK findings (fix them, or suppress with a reason a security reviewer would accept)", len(findings))
	}
	fmt.Printf("synthesized %s (cdk-nag AwsSolutions + Serverless: no unsuppressed findings)\n",
		*asm.GetStackArtifact(stack.ArtifactId()).TemplateFullPath())
	return nil
}

// newApp creates the CDK app. Without the CDK CLI (no CDK_CONTEXT_JSON) the
// context comes from cdkJSON so `go run ./infra` gives the same template as
// `cdk synth`; context from the CLI, when present, is read by the App itself.
func newApp(cdkJSON string) (awscdk.App, error) {
	props := &awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)}
	if os.Getenv("CDK_CONTEXT_JSON") == "" && os.Getenv("CONTEXT_OVERFLOW_LOCATION") == "" {
		ctx, err := cdkJSONContext(cdkJSON)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrNotExist):
			ctx = map[string]any{} // no cdk.json: defaults only
		default:
			return nil, err
		}
		// What the CDK CLI sets by default (reserved keys, not for cdk.json):
		// asset and construct-path metadata on resources (the local stack
		// reads aws:asset:path), no creation stack traces.
		for k, v := range cliDefaultContext {
			if _, ok := ctx[k]; !ok {
				ctx[k] = v
			}
		}
		props.Context = &ctx
	}
	return awscdk.NewApp(props), nil
}

var cliDefaultContext = map[string]any{
	"aws:cdk:enable-asset-metadata": true,
	"aws:cdk:enable-path-metadata":  true,
	"aws:cdk:disable-stack-trace":   true,
}

// functionsDir is KYC_FUNCTIONS_DIR, else context functionsDir, else build/lambda.
func functionsDir(app awscdk.App) string {
	if d := os.Getenv("KYC_FUNCTIONS_DIR"); d != "" {
		return d
	}
	if d, ok := app.Node().TryGetContext(jsii.String(ctxFunctionsDir)).(string); ok && d != "" {
		return d
	}
	return defaultFunctionsDir
}
