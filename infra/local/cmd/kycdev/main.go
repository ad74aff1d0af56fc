// Command kycdev is `make dev`: the whole KYC gate on one machine. It starts
// the emulator (or uses AWS_ENDPOINT_URL), deploys the synthesized template
// on it, and serves the HTTP API with the Lambdas' own handlers, polls the
// functions' queues and runs the sweep on a timer, until Ctrl-C (package
// infra/local/dev).
//
// Environment: KYC_LOCAL_DIR (.local), KYC_HTTP_ADDR (127.0.0.1:8080),
// KYC_SWEEP_EVERY (the template's schedule; a Go duration or "off"),
// KYC_TEMPLATE (cdk.out/KycGate.template.json), KYC_STACK_PREFIX,
// AWS_ENDPOINT_URL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/kycgate/kycgate/infra/local/dev"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	cfg, err := dev.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kycdev:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dev.Run(ctx, cfg, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "kycdev:", err)
		os.Exit(1)
	}
	fmt.Println("Stopped.")
}
