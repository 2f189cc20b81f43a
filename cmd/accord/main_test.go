package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the accord command, so that tests can run it as a process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("ACCORD_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// accordProcess is accord running as a child process.
type accordProcess struct {
	cmd  *exec.Cmd
	base string
	out  *strings.Builder
}

var servingLine = regexp.MustCompile(`serving FHIR R4 at (http://[^ ]+)/ `)

func startAccord(t *testing.T, env ...string) *accordProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(append(os.Environ(), "ACCORD_TEST_RUN_MAIN=1", "ACCORD_ADDR=127.0.0.1:0"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &accordProcess{cmd: cmd, out: &strings.Builder{}}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := servingLine.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("accord exited before serving:\n%s", p.out)
		}
		p.base = base
	case <-time.After(60 * time.Second):
		t.Fatalf("accord did not start:\n%s", p.out)
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *accordProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("accord exited with %v after SIGTERM:\n%s", err, p.out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("accord did not exit after SIGTERM:\n%s", p.out)
	}
}

func request(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServe_SIGTERM_FinishesInFlightAndDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	p := startAccord(t, "ACCORD_DATA_DIR="+dir, "ACCORD_AUTH=off")
	for _, path := range []string{"/healthz", "/readyz", "/metadata"} {
		if status, body := request(t, "GET", p.base+path, ""); status != 200 {
			t.Errorf("GET %s = %d %s", path, status, body)
		}
	}
	status, body := request(t, "PUT", p.base+"/Patient/keep", `{"resourceType":"Patient","id":"keep","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://x","valueDecimal":1.50}]}}`)
	if status != 201 {
		t.Fatalf("PUT = %d %s", status, body)
	}

	// A large transaction is in flight when SIGTERM arrives: it must complete, and then the process exits.
	var entries []string
	for i := 0; i < 200; i++ {
		entries = append(entries, fmt.Sprintf(`{"resource":{"resourceType":"Basic","id":"b%d","code":{"text":"x"}},"request":{"method":"PUT","url":"Basic/b%d"}}`, i, i))
	}
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`
	type result struct {
		status int
		body   string
		at     time.Time
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(p.base+"/", "application/fhir+json", strings.NewReader(bundle))
		if err != nil {
			done <- result{0, err.Error(), time.Now()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, string(b), time.Now()}
	}()
	time.Sleep(50 * time.Millisecond)
	signalled := time.Now()
	p.stop(t)
	r := <-done
	if r.status != 200 {
		t.Fatalf("in-flight transaction ended with %d: %.300s", r.status, r.body)
	}
	if !r.at.After(signalled) {
		t.Fatalf("the transaction finished before SIGTERM (%v early): make it larger", signalled.Sub(r.at))
	}

	p = startAccord(t, "ACCORD_DATA_DIR="+dir, "ACCORD_AUTH=off")
	defer p.stop(t)
	status, body = request(t, "GET", p.base+"/Patient/keep", "")
	if status != 200 || !strings.Contains(body, `"valueDecimal":1.50`) {
		t.Errorf("after restart GET Patient/keep = %d %s", status, body)
	}
	for _, id := range []string{"b0", "b199"} {
		if status, _ := request(t, "GET", p.base+"/Basic/"+id, ""); status != 200 {
			t.Errorf("after restart GET Basic/%s = %d", id, status)
		}
	}
}

func TestRun_BadConfiguration_SaysWhat(t *testing.T) {
	env := map[string]string{"ACCORD_ADDR": "nonsense", "ACCORD_MAX_BODY": "lots"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "ACCORD_ADDR") || !strings.Contains(err.Error(), "ACCORD_MAX_BODY") {
		t.Errorf("run with a bad configuration: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, os.Getenv, io.Discard, io.Discard, nil); err == nil {
		t.Error("an unknown verb was accepted")
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"help"}, os.Getenv, &out, io.Discard, nil); err != nil || !strings.Contains(out.String(), "accord serve") {
		t.Errorf("help: %v %q", err, out.String())
	}
}
