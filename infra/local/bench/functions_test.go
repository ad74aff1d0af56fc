package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"

	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
)

// BenchmarkFunctions measures, per function, the size of what `make build`
// made (build/lambda/<fn>/bootstrap, linux/arm64, -tags lambda.norpc,
// -ldflags=-s -w) and of its zip, and the cold-start init time of the same
// code built for this machine with the same flags: from starting the process
// to its first request for an invocation (GET …/runtime/invocation/next) to
// a local Lambda Runtime API, with the function's environment from a
// deployed local stack. The AWS endpoint the function sees is a recording
// proxy in front of the emulator, which lists the calls made during init.
func BenchmarkFunctions(b *testing.B) {
	root, err := stacktest.Root()
	if err != nil {
		b.Fatal(err)
	}
	st, cfg := stacktest.Deploy(b)
	emu := emulator.Shared(b)
	// The billing credentials are filled in after deploying (as the
	// operator does in AWS): the adapter reads them at cold start.
	if arn := st.Functions[contract.FunctionBillingAdapter].Env[contract.EnvBillingSecretARN]; arn != "" {
		if _, err := secretsmanager.NewFromConfig(cfg).PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(arn), SecretString: aws.String(`{"identifier":"bench","secret":"bench"}`)}); err != nil {
			b.Fatal(err)
		}
	}
	proxy := newRecordingProxy(b, emu.Endpoint())
	bin := b.TempDir()
	var results []FunctionResult
	for _, fn := range contract.Functions {
		r := FunctionResult{Name: fn}
		boot := filepath.Join(root, "build", "lambda", fn, "bootstrap")
		fi, err := os.Stat(boot)
		if err != nil {
			b.Fatalf("%s: %v (run make build first)", fn, err)
		}
		r.BinaryBytes = fi.Size()
		if r.ZipBytes, err = zipSize(boot); err != nil {
			b.Fatal(err)
		}
		host := filepath.Join(bin, fn)
		build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", host, "./functions/"+fn)
		build.Dir = root
		build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", fn, err, out)
		}
		hfi, _ := os.Stat(host)
		r.HostBinary = hfi.Size()

		env := []string{"PATH=/usr/bin:/bin", "TZ=:UTC", "LANG=C.UTF-8",
			"AWS_LAMBDA_FUNCTION_NAME=" + st.Functions[fn].PhysicalName, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", st.Functions[fn].MemoryMB),
			"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn, "AWS_LAMBDA_LOG_STREAM_NAME=bench", "_HANDLER=bootstrap"}
		for _, kv := range emu.Environ() {
			if strings.HasPrefix(kv, emulator.EnvEndpoint+"=") {
				kv = emulator.EnvEndpoint + "=" + proxy.url
			}
			env = append(env, kv)
		}
		for k, v := range st.Functions[fn].Env {
			env = append(env, k+"="+v)
		}
		var cpu []float64
		for i := 0; i < ColdStarts; i++ {
			proxy.reset()
			d, used, err := coldStart(host, env)
			if err != nil {
				b.Fatalf("%s: %v", fn, err)
			}
			r.InitMS = append(r.InitMS, ms(d))
			cpu = append(cpu, ms(used))
			if i == 0 {
				r.InitCalls = strings.Join(proxy.calls(), ", ")
			}
		}
		sorted := append([]float64(nil), r.InitMS...)
		sort.Float64s(sorted)
		sort.Float64s(cpu)
		r.MedianMS, r.P90MS = Percentile(sorted, 50), Percentile(sorted, 90)
		r.InitCPUMS = Percentile(cpu, 50)
		b.Logf("%s: %d bytes, zip %d; init median %.1f ms, p90 %.1f ms, CPU %.1f ms; calls: %s",
			fn, r.BinaryBytes, r.ZipBytes, r.MedianMS, r.P90MS, r.InitCPUMS, r.InitCalls)
		results = append(results, r)
	}
	save(b, FileFunctions, results)
}

// zipSize is the size of a zip holding file as "bootstrap", deflated, as
// the CDK packs a Lambda asset.
func zipSize(file string) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(data); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

// coldStart starts the function once with a Runtime API of its own and
// returns the time from starting the process to its first GET of the next
// invocation, and the CPU time the process used (it is stopped at once, so
// that is its init).
func coldStart(binary string, env []string) (time.Duration, time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	ready := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			select {
			case ready <- time.Now():
			default:
			}
			<-r.Context().Done() // no invocation: hold the request until the process is stopped
			return
		}
		http.NotFound(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	var stderr bytes.Buffer // and standard output
	cmd := exec.Command(binary)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+l.Addr().String())
	cmd.Stdout, cmd.Stderr = &stderr, &stderr // the function logs to standard output
	exited := make(chan error, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	go func() { exited <- cmd.Wait() }()
	select {
	case t1 := <-ready:
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		var cpu time.Duration
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		return t1.Sub(t0), cpu, nil
	case err := <-exited:
		return 0, 0, fmt.Errorf("exited before asking for an invocation (%v): %s", err, stderr.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return 0, 0, fmt.Errorf("not ready after 20 s: %s", stderr.String())
	}
}

// recordingProxy forwards to the emulator and records each AWS call it
// passes: the target of JSON-protocol calls (secretsmanager.GetSecretValue),
// else the service from the signature's scope and the method and path.
type recordingProxy struct {
	url string
	mu  sync.Mutex
	log []string
}

var scopeService = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/`)

func newRecordingProxy(tb testing.TB, target string) *recordingProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := r.Header.Get("X-Amz-Target")
		if call == "" {
			svc := ""
			if m := scopeService.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
				svc = m[1]
			}
			call = svc + " " + r.Method + " " + r.URL.Path
		}
		p.mu.Lock()
		p.log = append(p.log, call)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	tb.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	p.url = "http://" + l.Addr().String()
	return p
}

func (p *recordingProxy) reset() { p.mu.Lock(); p.log = nil; p.mu.Unlock() }

func (p *recordingProxy) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.log) == 0 {
		return []string{"none"}
	}
	return append([]string(nil), p.log...)
}
