package dev

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/wiring"
)

// Invocation is one function of the running local stack, built as its
// Lambda is: its resolved environment (with the dev server's substitutions),
// clients on the stack's emulator, and API Gateway's claims as the caller's
// identity (API events carry what the JWT authorizer verified).
type Invocation struct {
	Name    string
	Timeout time.Duration
	fn      *wiring.Function
}

// Prepare loads the running local stack of localDir and builds one function.
// metrics receives what the function writes to standard output in Lambda
// (the sweep's embedded metrics). The function's clock is the dev server's
// (GET /local/clock), so an invocation sees the "now" the stack's own
// functions see after the clock was moved.
func Prepare(ctx context.Context, localDir, name string, log *slog.Logger, metrics io.Writer) (*Invocation, error) {
	st, err := stack.Load(StackFile(localDir))
	if err != nil {
		return nil, err
	}
	if err := reachable(ctx, st.Endpoint); err != nil {
		return nil, fmt.Errorf("the local stack's emulator at %s does not answer (%v): is make dev still running? (%s is left from a stopped one)",
			st.Endpoint, err, StackFile(localDir))
	}
	fn, ok := st.Functions[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q: the stack has %v", name, st.FunctionNames())
	}
	awsCfg, err := emulator.At(st.Endpoint).Config(ctx)
	if err != nil {
		return nil, err
	}
	awsCfg.Region = st.Region
	clock, err := serverClock(ctx, localDir)
	if err != nil {
		return nil, err
	}
	clients := wiring.NewClients(awsCfg)
	f, err := Build(ctx, st, name, clients, wiring.Host{Clock: clock, Log: log, Auth: httpapi.APIGatewayJWT{}, Metrics: metrics,
		Scanner: MalwareScanner(st, clients, clock)})
	if err != nil {
		return nil, err
	}
	return &Invocation{Name: name, Timeout: fn.Timeout, fn: f}, nil
}

// Invoke runs the function once on event, within the function's timeout.
func (in *Invocation) Invoke(ctx context.Context, event []byte) (any, error) {
	if !json.Valid(event) {
		return nil, fmt.Errorf("the event is not JSON")
	}
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	return in.fn.Invoke(ctx, event)
}

// LambdaError is the runtime's answer for a function error.
type LambdaError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// NewLambdaError describes err as the Lambda runtime does.
func NewLambdaError(err error) LambdaError {
	t := strings.TrimLeft(fmt.Sprintf("%T", err), "*")
	t = t[strings.LastIndex(t, ".")+1:]
	return LambdaError{ErrorMessage: err.Error(), ErrorType: t}
}

// serverClock returns the running dev server's clock: real time plus the
// offset it was moved by, read once (to the second) from GET /local/clock.
func serverClock(ctx context.Context, localDir string) (func() time.Time, error) {
	b, err := os.ReadFile(serverFile(localDir))
	if err != nil {
		return nil, fmt.Errorf("the dev server's %s: %w (is make dev running?)", serverFile(localDir), err)
	}
	var info serverInfo
	if err := json.Unmarshal(b, &info); err != nil || info.API == "" {
		return nil, fmt.Errorf("%s does not say where the dev server is", serverFile(localDir))
	}
	var c clockView
	if err := getJSON(ctx, info.API+"/local/clock", &c); err != nil {
		return nil, fmt.Errorf("the dev server's clock: %w (is make dev still running?)", err)
	}
	now, err := time.Parse(time.RFC3339, c.Now)
	if err != nil {
		return nil, fmt.Errorf("the dev server's clock says %q: %w", c.Now, err)
	}
	offset := time.Until(now).Round(time.Second)
	return func() time.Time { return time.Now().Add(offset) }, nil
}

func reachable(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	return nil
}
