// Package emulator starts, or finds, the AWS emulator that the local stack and
// the integration tests run against.
//
// With AWS_ENDPOINT_URL set (LocalStack on :4566, or any compatible emulator)
// that endpoint is used and nothing is started. Without it, Start runs the
// moto server installed on the machine (`moto_server`) on a free loopback
// port, in its own process group, and Stop kills that whole group.
//
// Credentials and region (Config, Environ) are deliberately simple:
//   - region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1;
//   - credentials: the static pair "test"/"test", except for an emulator that
//     was found (AWS_ENDPOINT_URL, At) when AWS_ACCESS_KEY_ID and
//     AWS_SECRET_ACCESS_KEY are both set: then those (and AWS_SESSION_TOKEN);
//   - both are set explicitly, so a developer's AWS profile never supplies
//     them (and the base endpoint always wins over any configured endpoint).
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Environment variables the harness reads (and Environ sets).
const (
	EnvEndpoint      = "AWS_ENDPOINT_URL"
	EnvRegion        = "AWS_REGION"
	EnvDefaultRegion = "AWS_DEFAULT_REGION"
	EnvAccessKey     = "AWS_ACCESS_KEY_ID"
	EnvSecretKey     = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken  = "AWS_SESSION_TOKEN"
)

// DefaultRegion is the region used when the environment names none. SES v2
// exists there on every emulator.
const DefaultRegion = "us-east-1"

// Command is the moto server executable Start runs when AWS_ENDPOINT_URL is unset.
const Command = "moto_server"

// StartTimeout bounds how long Start waits for a started moto server to answer.
const StartTimeout = 30 * time.Second

// Emulator is a running (or found) emulator endpoint.
type Emulator struct {
	endpoint string
	region   string
	creds    aws.Credentials

	// Set only when Start launched moto itself.
	cmd      *exec.Cmd
	output   *tailBuffer
	exited   chan struct{} // closed when the process has been reaped
	exitErr  error         // valid after exited is closed
	stopOnce sync.Once
}

// Start returns the emulator named by AWS_ENDPOINT_URL, or starts moto_server
// on a free loopback port and waits until it answers.
func Start(ctx context.Context) (*Emulator, error) {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		return At(ep), nil
	}
	region := regionFromEnv()
	path, err := exec.LookPath(Command)
	if err != nil {
		return nil, fmt.Errorf("start emulator: %s not found (install moto[server], or set %s to a running emulator such as LocalStack): %w", Command, EnvEndpoint, err)
	}
	// A free port can be taken between our probe and moto's bind; retry then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		e, err := startMoto(ctx, path, region)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

// At returns the emulator already running at endpoint (AWS_ENDPOINT_URL, or
// the Endpoint of a saved local stack), with the region and credentials
// described in the package documentation. It starts nothing; Stop does
// nothing.
func At(endpoint string) *Emulator {
	creds := testCredentials()
	if id, secret := os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey); id != "" && secret != "" {
		creds = aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv(EnvSessionToken), Source: "environment"}
	}
	return &Emulator{endpoint: strings.TrimRight(endpoint, "/"), region: regionFromEnv(), creds: creds}
}

var errPortInUse = errors.New("port already in use")

func startMoto(ctx context.Context, path, region string) (*Emulator, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start emulator: find a free port: %w", err)
	}
	// Not exec.CommandContext: the emulator outlives the context of Start.
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: run %s: %w", path, err)
	}
	e := &Emulator{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		region:   region,
		creds:    testCredentials(),
		cmd:      cmd,
		output:   out,
		exited:   make(chan struct{}),
	}
	go func() {
		e.exitErr = cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitReady(ctx, StartTimeout); err != nil {
		e.Stop()
		if strings.Contains(out.String(), "Address already in use") {
			return nil, fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return nil, err
	}
	return e, nil
}

// waitReady polls the server until it answers any HTTP request.
func (e *Emulator) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.endpoint+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("start emulator: %s exited before answering (%v); its output:\n%s", Command, e.exitErr, e.output.String())
		case <-ctx.Done():
			return fmt.Errorf("start emulator: %s did not answer on %s within %s; its output:\n%s", Command, e.endpoint, timeout, e.output.String())
		case <-tick.C:
		}
	}
}

// Endpoint is the emulator's base URL, e.g. http://127.0.0.1:41234.
func (e *Emulator) Endpoint() string { return e.endpoint }

// Region is the region clients use.
func (e *Emulator) Region() string { return e.region }

// Started reports whether Start launched the emulator process (and Stop will end it).
func (e *Emulator) Started() bool { return e.cmd != nil }

// Config returns an SDK configuration for the emulator: its endpoint as the
// base endpoint (so awsenv.S3 selects path-style addressing), the region and
// the credentials described in the package documentation, and DynamoDB calls
// one at a time (SerializeDynamoDB: moto loses writes otherwise).
func (e *Emulator) Config(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(e.region),
		config.WithBaseEndpoint(e.endpoint),
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: e.creds}),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("emulator config: %w", err)
	}
	SerializeDynamoDB(&cfg)
	return cfg, nil
}

// Environ returns the environment (KEY=value) under which a process's
// default SDK configuration (awsenv.Load) reaches this emulator with the same
// region and credentials as Config.
func (e *Emulator) Environ() []string {
	env := []string{
		EnvEndpoint + "=" + e.endpoint,
		EnvRegion + "=" + e.region,
		EnvAccessKey + "=" + e.creds.AccessKeyID,
		EnvSecretKey + "=" + e.creds.SecretAccessKey,
	}
	if e.creds.SessionToken != "" {
		env = append(env, EnvSessionToken+"="+e.creds.SessionToken)
	}
	return env
}

// Stop ends a moto server that Start launched: it signals the whole process
// group, waits for the process to be reaped and, if it has not gone after a
// grace period, kills the group. Stop on a found emulator does nothing. It is
// safe to call more than once.
func (e *Emulator) Stop() {
	if e == nil || e.cmd == nil {
		return
	}
	e.stopOnce.Do(func() {
		pgid := e.cmd.Process.Pid
		signalGroup(pgid, false)
		select {
		case <-e.exited:
		case <-time.After(3 * time.Second):
			signalGroup(pgid, true)
			_ = e.cmd.Process.Kill()
			<-e.exited
		}
		// The leader is reaped; make sure nothing it forked survives it.
		signalGroup(pgid, true)
	})
}

// Output returns the tail of a started server's combined stdout and stderr.
func (e *Emulator) Output() string {
	if e.output == nil {
		return ""
	}
	return e.output.String()
}

func regionFromEnv() string {
	for _, k := range []string{EnvRegion, EnvDefaultRegion} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultRegion
}

func testCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "emulator"}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
