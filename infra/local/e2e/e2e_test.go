//go:build unix

// Package e2e is the end-to-end test of the local stack: `make dev`'s server
// started as a separate process, driven only over HTTP and through `make`,
// with real tokens from `make -s token`, by the shell commands of README.md's
// quick start.
//
// The README's story blocks (each marked <!-- e2e:NAME -->) are the test's
// script: they run verbatim, in order, in one bash session, as a reader
// pastes them into a terminal. Between blocks the test waits for the
// asynchronous effects (bus → SQS → the dev server's pollers → functions)
// and checks them over HTTP, then checks what the next block prints. A
// README block the test does not know, or one it expects and cannot find,
// fails the test, so the quick start cannot drift from what works.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// settle bounds the wait for each asynchronous effect.
const settle = 20 * time.Second

// step is one README block and what must hold after it ran.
type step struct {
	name  string
	check func(t *testing.T, out string)
}

func TestQuickStartStory(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: starts the local stack (run without -short)")
	}
	begin := time.Now()
	root := moduleRoot(t)
	requireTools(t, root)
	blocks, order := readmeStory(t, filepath.Join(root, "README.md"))

	// The local commands, as `make dev`, `make token` and `make invoke` build
	// them (`make test` has built them already; then this is a no-op).
	mk := time.Now()
	if out, err := command(root, baseEnv(), "make", "-s", "local-tools").CombinedOutput(); err != nil {
		t.Fatalf("make -s local-tools: %v\n%s", err, out)
	}
	t.Logf("local tools ready in %s", time.Since(mk).Round(time.Millisecond))

	localDir := t.TempDir()
	env := append(baseEnv(), "KYC_LOCAL_DIR="+localDir, "KYC_HTTP_ADDR="+freeAddr(t))
	d := startDev(t, root, env, localDir)
	t.Logf("local stack up in %s: %s, emulator %s", d.startup.Round(time.Millisecond), d.api, d.emulator)

	w := &world{t: t, api: d.api, root: root, env: env}
	w.admin = w.token("admin", "e2e-admin")
	sh := startShell(t, root, env)

	var dueA, dueB, renewed string // the next due dates billing reported, and 9001's after its renewal
	plan := []step{
		{"setup", func(t *testing.T, out string) {
			if strings.TrimSpace(out) != "" {
				t.Errorf("setup printed %q; the token commands must print nothing but the token", out)
			}
		}},
		{"order-a", func(t *testing.T, out string) {
			want(t, out, `"state":"awaiting_kyc"`)
			o := w.order("5001")
			dueA = o.NextDueDate
			if ago := time.Since(o.OrderedAt); ago < 48*time.Hour-time.Minute || ago > 48*time.Hour+time.Minute {
				t.Errorf("order 5001 orderedAt %s is %s ago, want 2 days", o.OrderedAt, ago)
			}
			// Reported 2 days late: 3 days from its arrival, not 1 left.
			if left := time.Until(o.Deadline); left < 72*time.Hour-time.Minute || left > 72*time.Hour {
				t.Errorf("order 5001 deadline %s is %s away, want 3 days from its arrival", o.Deadline, left)
			}
			w.eventually("KycRequested e-mail to customer@example.com, deadline in Hong Kong time", func() error {
				return w.emailTo("customer@example.com", "5001", "Asia/Hong_Kong", " UTC")
			})
		}},
		{"requested-a", func(t *testing.T, out string) {
			want(t, out, `"to":["customer@example.com"]`, `"state":"awaiting_kyc"`, `"timeZone":"Asia/Hong_Kong"`, `"nextDueDate":"`+dueA+`"`)
		}},
		{"upload-a", func(t *testing.T, out string) {
			wantRE(t, out, `^[a-z0-9]{20,} [a-z0-9]{20,}$`)
			customer := w.token("customer", "1001")
			w.eventually("both documents validated (S3 → queue → validator)", func() error {
				var st struct {
					Documents []struct{ Type, State string }
				}
				if err := w.get("/v1/kyc/status", customer, &st); err != nil {
					return err
				}
				valid := 0
				for _, d := range st.Documents {
					if d.State == "valid" {
						valid++
					}
				}
				if valid != 2 {
					return fmt.Errorf("documents %+v, want 2 valid", st.Documents)
				}
				return nil
			})
		}},
		{"submit-a", func(t *testing.T, out string) {
			if n := strings.Count(out, `"state":"valid"`); n != 2 {
				t.Errorf("want both documents valid before the submission, got:\n%s", out)
			}
			if !regexp.MustCompile(`(?m)^[a-z0-9]{20,}$`).MatchString(out) {
				t.Errorf("no submission id printed:\n%s", out)
			}
		}},
		{"renew-a", func(t *testing.T, out string) {
			m := regexp.MustCompile(`^\{"id":9001,"nextDueDate":"(\d{4}-\d{2}-\d{2})"\}$`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("the renewal printed %q, want service 9001 with its new due date", out)
			}
			renewed = m[1]
			if renewed <= dueA {
				t.Errorf("renewed to %s, want later than %s", renewed, dueA)
			}
		}},
		{"approve-a", func(t *testing.T, out string) {
			want(t, out, `"status":"approved"`, `"customerStatus":"verified"`)
			// On time: provisioned, and the due date extended by the time
			// taken (2 days and some seconds), rounded up to whole days,
			// added to the date WHMCS holds now: the renewed one.
			extended := addDays(t, renewed, 3)
			w.eventually("order 5001 provisioned with the renewed due date extended", func() error {
				if err := w.commands("9001", "ModuleCreate", "UpdateClientProduct nextduedate="+extended); err != nil {
					return err
				}
				if o := w.order("5001"); o.State != "provisioned_extended" || o.Extension == nil || o.Extension.Days != 3 {
					return fmt.Errorf("order 5001 is %s (extension %+v); want provisioned_extended by 3 days", o.State, o.Extension)
				}
				return nil
			})
		}},
		{"provisioned-a", func(t *testing.T, out string) {
			want(t, out, `"state":"provisioned_extended"`, `"days":3`, `"action":"ModuleCreate"`, `"action":"UpdateClientProduct"`,
				`"nextduedate":"`+addDays(t, renewed, 3)+`"`, `{"status":"Active","nextDueDate":"`+addDays(t, renewed, 3)+`"}`)
		}},
		{"signin-a", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			re := regexp.MustCompile(`^` + regexp.QuoteMeta(d.api) + `/local/signin/[A-Za-z0-9_-]{20,}$`)
			if len(lines) != 2 || !re.MatchString(lines[0]) || !re.MatchString(lines[1]) {
				t.Fatalf("make -s signin printed %q; want two one-time dev-server URLs", out)
			}
			// Followed as a browser does: the customer's page says verified,
			// the reviewer lands in the console; a URL works once.
			if body := w.browse(lines[0]); !strings.Contains(body, "Verified") || !strings.Contains(body, "Customer 1001") {
				t.Errorf("the customer's sign-in URL led to:\n%s", body)
			}
			if body := w.browse(lines[1]); !strings.Contains(body, "Submissions waiting for review") || !strings.Contains(body, "staff-7") {
				t.Errorf("the reviewer's sign-in URL led to:\n%s", body)
			}
			if body := w.browse(lines[0]); strings.Contains(body, "Customer 1001") {
				t.Error("a sign-in URL worked twice")
			}
		}},
		{"order-b", func(t *testing.T, out string) {
			want(t, out, `{"batchItemFailures":[]}`, `"state":"awaiting_kyc"`, `"timeZone":"Asia/Taipei"`)
			o := w.order("5002")
			dueB = o.NextDueDate
			if ago := time.Since(o.OrderedAt); ago < 0 || ago > time.Minute {
				t.Errorf("order 5002 orderedAt %s is %s ago, want now", o.OrderedAt, ago)
			}
			w.eventually("KycRequested e-mail to second@example.com, deadline in Taipei time", func() error {
				return w.emailTo("second@example.com", "5002", "Asia/Taipei")
			})
		}},
		{"clock", func(t *testing.T, out string) {
			m := regexp.MustCompile(`^\{"now":"([0-9TZ:-]+)"\}$`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("the clock printed %q, want {\"now\": ...}", out)
			}
			now, err := time.Parse(time.RFC3339, m[1])
			if ahead := time.Until(now); err != nil || ahead < 73*time.Hour-time.Minute || ahead > 73*time.Hour+time.Minute {
				t.Fatalf("the clock is at %s (%v), %s ahead; want 73 h ahead", m[1], err, ahead)
			}
		}},
		{"sweep", func(t *testing.T, out string) {
			want(t, out, `"customersDue":1`, `"suspended":1`)
			w.eventually("order 5002 provisioned and suspended", func() error {
				if err := w.commands("9002", "ModuleCreate", "ModuleSuspend"); err != nil {
					return err
				}
				if o := w.order("5002"); o.State != "suspended_kyc" || !o.Rendered {
					return fmt.Errorf("order 5002 is %s (rendered %v); want suspended_kyc, rendered", o.State, o.Rendered)
				}
				return nil
			})
		}},
		{"suspended-b", func(t *testing.T, out string) {
			want(t, out, `"state":"suspended_kyc"`, `"rendered":true`, `"action":"ModuleSuspend"`)
		}},
		{"approve-b", func(t *testing.T, out string) {
			want(t, out, `"status":"approved"`, `"customerStatus":"verified"`)
			w.eventually("order 5002 unsuspended, due date unchanged", func() error {
				if err := w.commands("9002", "ModuleCreate", "ModuleSuspend", "ModuleUnsuspend"); err != nil {
					return err
				}
				if o := w.order("5002"); o.State != "released" || o.NextDueDate != dueB {
					return fmt.Errorf("order 5002 is %s, due %s; want released, due %s (unchanged)", o.State, o.NextDueDate, dueB)
				}
				return nil
			})
		}},
		{"released-b", func(t *testing.T, out string) {
			want(t, out, `"state":"released"`, `"nextDueDate":"`+dueB+`"`, `"action":"ModuleUnsuspend"`)
			if strings.Contains(out, "UpdateClientProduct") {
				t.Errorf("a late approval must not move the due date:\n%s", out)
			}
		}},
	}
	var names []string
	for _, s := range plan {
		names = append(names, s.name)
	}
	if !slices.Equal(order, names) {
		t.Fatalf("README.md's story blocks %v differ from this test's steps %v: change both together", order, names)
	}

	for _, s := range plan {
		start := time.Now()
		out := sh.run(t, s.name, blocks[s.name])
		t.Logf("step %-13s ran in %s:\n%s", s.name, time.Since(start).Round(time.Millisecond), indent(out))
		s.check(t, out)
		if t.Failed() {
			t.FailNow()
		}
	}

	// Nothing failed on the way, not even once: no billing command, no
	// queue message (a failed one would be redelivered, then dead-lettered).
	for _, c := range w.allCommands() {
		if c.Result != "success" {
			t.Errorf("the billing sink answered %s to %s %v: %s", c.Result, c.Action, c.Params, c.Message)
		}
	}
	if m := regexp.MustCompile(`(?m)^.*msg="sqs batch".* failed=[1-9].*$`).FindAllString(d.out.String(), -1); len(m) > 0 {
		t.Errorf("queue messages failed:\n%s", strings.Join(m, "\n"))
	}
	// A wrong role is an error, on standard error only.
	cmd := command(root, env, "make", "-s", "token", "ROLE=owner", "SUB=1001")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err == nil || len(out) > 0 || !strings.Contains(stderr.String(), `unknown ROLE "owner"`) {
		t.Errorf("make -s token ROLE=owner: err %v, stdout %q, stderr %q; want an error on stderr only", err, out, stderr.String())
	}

	d.stop(t)

	// Once it stopped, `make invoke` says there is no stack.
	cmd = command(root, env, "make", "-s", "invoke", "FN=sweep", "EVENT=events/sweep/scheduled.json")
	stderr.Reset()
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err == nil || len(out) > 0 || !strings.Contains(stderr.String(), "make dev") {
		t.Errorf("make -s invoke with no stack: err %v, stdout %q, stderr %q; want an error that says to start make dev", err, out, stderr.String())
	}
	t.Logf("whole test: %s", time.Since(begin).Round(time.Millisecond))
}

// browse follows a sign-in URL as a browser does: redirects followed, its
// page's form (posted by a script in a browser) posted, cookies kept (Secure
// ones too: the dev server is on a loopback address, which browsers treat
// as secure). It returns the last page's text.
func (w *world) browse(u string) string {
	w.t.Helper()
	jar := map[string]*http.Cookie{}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	method, body := http.MethodGet, ""
	for range 10 {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", w.api)
		}
		for _, ck := range jar {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		res, err := c.Do(req)
		if err != nil {
			w.t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, ck := range res.Cookies() {
			jar[ck.Name] = ck
		}
		if loc := res.Header.Get("Location"); loc != "" && res.StatusCode >= 300 && res.StatusCode < 400 {
			next, _ := url.Parse(u)
			ref, _ := url.Parse(loc)
			u, method, body = next.ResolveReference(ref).String(), http.MethodGet, ""
			continue
		}
		page := string(b)
		if m := regexp.MustCompile(`<form id="post" method="post" action="([^"]+)"><input type="hidden" name="token" value="([^"]+)">`).FindStringSubmatch(page); m != nil {
			next, _ := url.Parse(u)
			ref, _ := url.Parse(m[1])
			u, method, body = next.ResolveReference(ref).String(), http.MethodPost, url.Values{"token": {m[2]}}.Encode()
			continue
		}
		return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(page, " ")
	}
	w.t.Fatalf("%s: too many steps", u)
	return ""
}

// ---- README ----

var markerRE = regexp.MustCompile("(?m)^<!-- e2e:([a-z0-9-]+) -->\n```sh\n((?s:.*?))```\n")

// readmeStory returns the README's story blocks by name, and their order.
func readmeStory(t *testing.T, path string) (map[string]string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	blocks := map[string]string{}
	var order []string
	for _, m := range markerRE.FindAllStringSubmatch(string(b), -1) {
		if _, dup := blocks[m[1]]; dup {
			t.Fatalf("README.md: two blocks named e2e:%s", m[1])
		}
		blocks[m[1]] = m[2]
		order = append(order, m[1])
	}
	if n := strings.Count(string(b), "<!-- e2e:"); n != len(order) {
		t.Fatalf("README.md: %d e2e markers, but only %d are followed by a ```sh block", n, len(order))
	}
	return blocks, order
}

// ---- the dev server process ----

type devProcess struct {
	cmd      *exec.Cmd
	out      *lockedBuffer
	exited   chan struct{}
	exitErr  error
	api      string
	emulator string
	localDir string
	startup  time.Duration
}

// startDev runs the dev server (.local/bin/kycdev, what `make dev` runs after
// synth) in its own process group, with no AWS_ENDPOINT_URL (it starts its own
// moto) and the sweep timer off (the story runs the sweep itself), and waits
// until it answers GET /local/health.
func startDev(t *testing.T, root string, env []string, localDir string) *devProcess {
	t.Helper()
	start := time.Now()
	d := &devProcess{out: &lockedBuffer{}, exited: make(chan struct{}), localDir: localDir}
	cmd := exec.Command(filepath.Join(root, ".local", "bin", "kycdev"))
	cmd.Dir = root
	cmd.Env = append(slices.Clone(env), "KYC_SWEEP_EVERY=off")
	cmd.Stdout, cmd.Stderr = d.out, d.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the dev server: %v", err)
	}
	d.cmd = cmd
	go func() { d.exitErr = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev server output:\n%s", d.out.String())
		}
		select {
		case <-d.exited:
			return
		default:
		}
		// A failed test: stop it as Ctrl-C does (it stops its emulator), and
		// only if that does not work, kill its process group.
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
		}
	})
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KYC_HTTP_ADDR="); ok {
			d.api = "http://" + v
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-d.exited:
			t.Fatalf("the dev server exited before it was ready (%v):\n%s", d.exitErr, d.out.String())
		default:
		}
		if res, err := c.Get(d.api + "/local/health"); err == nil {
			var h struct{ Emulator string }
			_ = json.NewDecoder(res.Body).Decode(&h)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && h.Emulator != "" {
				d.emulator = h.Emulator
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev server did not answer GET /local/health within 60 s:\n%s", d.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.startup = time.Since(start)
	if _, err := os.Stat(filepath.Join(localDir, "stack.json")); err != nil {
		t.Fatalf("the ready dev server wrote no stack.json: %v", err)
	}
	return d
}

// stop sends SIGINT, as Ctrl-C does, and checks that everything stopped:
// the server exits cleanly, its moto_server and every other process of its
// group is gone, the emulator port is closed, and the files that say a stack
// is running are removed.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the dev server did not exit within 30 s of SIGINT:\n%s", d.out.String())
	}
	if d.exitErr != nil {
		t.Errorf("the dev server exited with %v after SIGINT", d.exitErr)
	}
	if !strings.Contains(d.out.String(), "Stopped.") {
		t.Errorf("the dev server did not report a clean stop")
	}
	t.Logf("dev server stopped %s after SIGINT", time.Since(start).Round(time.Millisecond))
	if err := syscall.Kill(-d.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("processes of the dev server's group are left after it exited (kill -0: %v)", err)
	}
	port := d.emulator[strings.LastIndex(d.emulator, ":")+1:]
	// The emulator runs in a process group of its own; find it by its port.
	if out, err := exec.Command("pgrep", "-f", `moto_server .*-p `+port+`( |$)`).Output(); err == nil {
		t.Errorf("moto_server of the stopped dev server still runs: pids %s", strings.Fields(string(out)))
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("the emulator port %s still accepts connections after the dev server stopped", port)
	}
	for _, f := range []string{"stack.json", "webhook.secret"} {
		if _, err := os.Stat(filepath.Join(d.localDir, f)); err == nil {
			t.Errorf("%s is left in the local directory after the stop", f)
		}
	}
}

// ---- the shell the README blocks run in ----

// shell is one bash session, as a reader's terminal: variables and functions
// of a block live on in the next. A command of a block that fails (as `set
// -e` would see it: a non-zero status outside a condition, pipefail on) is
// recorded by an ERR trap and fails the step.
type shell struct {
	in       io.WriteCloser
	lines    chan string
	stderr   *lockedBuffer
	failFile string
	n        int
}

func startShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	s := &shell{lines: make(chan string, 1024), stderr: &lockedBuffer{}, failFile: filepath.Join(t.TempDir(), "failed")}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr)
	cmd.Stderr = s.stderr
	var err error
	if s.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bash: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		s.in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	fmt.Fprintf(s.in, "set -o pipefail -E\ntrap 'echo \"$BASH_COMMAND (exit $?)\" >> %q' ERR\n", s.failFile)
	return s
}

// run runs one block and returns what it printed on standard output.
func (s *shell) run(t *testing.T, name, script string) string {
	t.Helper()
	s.n++
	marker := fmt.Sprintf("__e2e_step_%d_done__", s.n)
	errStart := s.stderr.Len()
	if _, err := fmt.Fprintf(s.in, "%s\nprintf '\\n%s\\n'\n", script, marker); err != nil {
		t.Fatalf("step %s: write to bash: %v", name, err)
	}
	var out []string
	timeout := time.After(90 * time.Second)
	for done := false; !done; {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("step %s: bash exited; output:\n%s\nstderr:\n%s", name, strings.Join(out, "\n"), s.stderr.String()[errStart:])
			}
			if line == marker {
				done = true
				break
			}
			out = append(out, line)
		case <-timeout:
			t.Fatalf("step %s: not done within 90 s; output so far:\n%s\nstderr:\n%s", name, strings.Join(out, "\n"), s.stderr.String()[errStart:])
		}
	}
	text := strings.TrimSpace(strings.Join(out, "\n"))
	if failed, _ := os.ReadFile(s.failFile); len(failed) > 0 {
		_ = os.Remove(s.failFile)
		t.Fatalf("step %s: a command failed:\n%s\nblock:\n%s\noutput:\n%s\nstderr:\n%s", name, failed, script, text, s.stderr.String()[errStart:])
	}
	return text
}

// ---- looking at the stack over HTTP ----

type world struct {
	t     *testing.T
	api   string
	root  string
	env   []string
	admin string
}

// token runs `make -s token` as the README does and checks it printed a
// JWT and nothing else.
func (w *world) token(role, sub string) string {
	w.t.Helper()
	cmd := command(w.root, w.env, "make", "-s", "token", "ROLE="+role, "SUB="+sub)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("make -s token ROLE=%s SUB=%s: %v\n%s", role, sub, err, stderr.String())
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$`).Match(out) {
		w.t.Fatalf("make -s token printed %q, want a JWT and a newline only", out)
	}
	return strings.TrimSpace(string(out))
}

func (w *world) get(path, token string, into any) error {
	req, _ := http.NewRequest(http.MethodGet, w.api+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s = %d %s", path, res.StatusCode, b)
	}
	return json.Unmarshal(b, into)
}

type order struct {
	State       string    `json:"state"`
	OrderedAt   time.Time `json:"orderedAt"`
	Deadline    time.Time `json:"deadline"`
	TimeZone    string    `json:"timeZone"`
	NextDueDate string    `json:"nextDueDate"`
	Rendered    bool      `json:"rendered"`
	Extension   *struct {
		Days int `json:"days"`
	} `json:"extension"`
}

func (w *world) order(id string) order {
	w.t.Helper()
	var o order
	if err := w.get("/v1/admin/orders/"+id, w.admin, &o); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// emailTo checks for an e-mail to an address whose subject names about and
// whose body says each of says.
func (w *world) emailTo(to, about string, says ...string) error {
	var mails []struct {
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		Body    string   `json:"body"`
	}
	if err := w.get("/local/emails?to="+to, "", &mails); err != nil {
		return err
	}
	for _, m := range mails {
		if !strings.Contains(m.Subject, about) {
			continue
		}
		for _, s := range says {
			if !strings.Contains(m.Body, s) {
				return fmt.Errorf("the e-mail to %s about %s does not say %q", to, about, s)
			}
		}
		return nil
	}
	return fmt.Errorf("no e-mail to %s about %s yet (%d to that address)", to, about, len(mails))
}

type sinkCommand struct {
	Action  string            `json:"action"`
	Params  map[string]string `json:"params"`
	Result  string            `json:"result"`
	Message string            `json:"message"`
}

func (w *world) allCommands() []sinkCommand {
	w.t.Helper()
	var cmds []sinkCommand
	if err := w.get("/local/billing/commands", "", &cmds); err != nil {
		w.t.Fatal(err)
	}
	return cmds
}

// commands checks the state-changing commands the sink applied to a
// service, in order ("UpdateClientProduct nextduedate=<date>" for a due
// date); lookups (GetClientsProducts) are left out.
func (w *world) commands(service string, want ...string) error {
	var got []string
	for _, c := range w.allCommands() {
		if c.Params["serviceid"] != service || c.Action == "GetClientsProducts" {
			continue
		}
		s := c.Action
		if c.Action == "UpdateClientProduct" {
			s += " nextduedate=" + c.Params["nextduedate"]
		}
		if c.Result != "success" {
			s += " (" + c.Result + ": " + c.Message + ")"
		}
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the billing sink has %q for service %s, want %q", got, service, want)
	}
	return nil
}

// eventually waits (up to settle) until cond holds.
func (w *world) eventually(what string, cond func() error) {
	w.t.Helper()
	deadline := time.Now().Add(settle)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: not within %s: %v", what, settle, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ---- helpers ----

func want(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("output lacks %s:\n%s", p, out)
		}
	}
}

func wantRE(t *testing.T, out, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(out) {
		t.Errorf("output does not match %s:\n%s", re, out)
	}
}

func addDays(t *testing.T, date string, n int) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatalf("date %q: %v", date, err)
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

func indent(s string) string {
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// requireTools fails (not skips) when something the story needs is missing.
func requireTools(t *testing.T, root string) {
	t.Helper()
	var missing []string
	for _, tool := range []string{"bash", "make", "go", "moto_server", "curl", "jq", "openssl", "pgrep"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the end-to-end test needs %v in PATH", missing)
	}
	if _, err := os.Stat(filepath.Join(root, "cdk.out", "KycGate.template.json")); err != nil {
		t.Fatalf("cdk.out/KycGate.template.json is missing: run make synth first (make test does)")
	}
}

// baseEnv is the environment of a reader's terminal: no emulator endpoint
// (the dev server starts its own moto), none of the variables of a `make`
// that runs this test, and no local-stack settings of the caller's.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "AWS_ENDPOINT_URL", k == "MAKEFLAGS", k == "MAKELEVEL", k == "MFLAGS", k == "MAKEOVERRIDES", k == "GNUMAKEFLAGS",
			strings.HasPrefix(k, "KYC_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	return cmd
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

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}
