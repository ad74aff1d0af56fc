// Command kycaudit recomputes customers' audit chains and names the first
// broken link of each (docs/security.md). It reads the table of the running
// local stack, or any table given with -table (with the usual AWS
// configuration, so it works against a deployed stack too):
//
//	make -s audit-verify CUSTOMER=1001
//	go run ./infra/local/cmd/kycaudit -table KycGate-Table... 1001 1002
//
// It prints one JSON report per customer and exits 1 if any chain is broken.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kyc"
)

func main() {
	table := flag.String("table", "", "DynamoDB table (default: the running local stack's)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: kycaudit [-table name] customer-id...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	broken, err := run(context.Background(), *table, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "kycaudit:", err)
		os.Exit(2)
	}
	if broken {
		os.Exit(1)
	}
}

func run(ctx context.Context, table string, customers []string) (bool, error) {
	cfg, table, err := target(ctx, table)
	if err != nil {
		return false, err
	}
	svc := kyc.NewAuditor(dynamostore.New(dynamodb.NewFromConfig(cfg), table))
	enc := json.NewEncoder(os.Stdout)
	broken := false
	for _, c := range customers {
		rep, err := svc.VerifyAudit(ctx, c)
		if err != nil {
			return broken, fmt.Errorf("customer %s: %w", c, err)
		}
		broken = broken || !rep.OK
		_ = enc.Encode(struct {
			CustomerID string `json:"customerId"`
			kyc.ChainReport
		}{c, rep})
	}
	return broken, nil
}

// target finds the table: the flag with the default AWS configuration, or
// the running local stack's with its emulator.
func target(ctx context.Context, table string) (aws.Config, string, error) {
	if table != "" {
		cfg, err := awsenv.Load(ctx)
		return cfg, table, err
	}
	dir := os.Getenv("KYC_LOCAL_DIR")
	if dir == "" {
		dir = ".local"
	}
	st, err := stack.Load(filepath.Join(dir, "stack.json"))
	if errors.Is(err, os.ErrNotExist) {
		return aws.Config{}, "", errors.New("no local stack is running (start `make dev`), and no -table given")
	}
	if err != nil {
		return aws.Config{}, "", err
	}
	cfg, err := emulator.At(st.Endpoint).Config(ctx)
	if err != nil {
		return aws.Config{}, "", err
	}
	fn := st.Functions[contract.FunctionAdminAPI]
	if fn == nil || fn.Env[contract.EnvTable] == "" {
		return aws.Config{}, "", errors.New("the local stack has no table")
	}
	return cfg, fn.Env[contract.EnvTable], nil
}
