// Command kycinvoke is `make -s invoke FN=<function> EVENT=<file.json>`: it
// runs one function's handler once against the running local stack (`make
// dev`), with the event, and prints the handler's JSON result, as `sam local
// invoke -e` does. A function error is printed as the Lambda runtime reports
// it ({"errorMessage","errorType"}) and exits 1. The function's logs (and
// the sweep's metric lines) go to standard error, so standard output is the
// result only.
//
// The sweep decides with its event's "time": edit events/sweep/scheduled.json
// (or a copy) to try a deadline without waiting three days.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/kycgate/kycgate/infra/local/dev"
)

func main() {
	name := flag.String("fn", "", "the function (customer-api, admin-api, billing-intake, validator, sweep, billing-adapter, notifier)")
	eventFile := flag.String("event", "", "a JSON event file, e.g. events/sweep/scheduled.json")
	flag.Parse()
	if *name == "" || *eventFile == "" {
		fail(2, "FN and EVENT are required: make -s invoke FN=<function> EVENT=<file.json>")
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		fail(2, err.Error())
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("fn", *name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	in, err := dev.Prepare(ctx, dev.LocalDir(), *name, log, os.Stderr)
	if err != nil {
		fail(2, err.Error())
	}
	res, err := in.Invoke(ctx, event)
	code := 0
	if err != nil {
		res, code = dev.NewLambdaError(err), 1
	}
	out, merr := json.MarshalIndent(res, "", "  ")
	if merr != nil {
		fail(1, "encode the result: "+merr.Error())
	}
	fmt.Println(string(out))
	os.Exit(code)
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "invoke:", msg)
	os.Exit(code)
}
