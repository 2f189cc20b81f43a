package api_test

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// crashStageEnv names the commit stage at which TestCrashChild's process exits.
const crashStageEnv, crashDirEnv = "ACCORD_TEST_CRASH_STAGE", "ACCORD_TEST_CRASH_DIR"

// TestCrashChild is the process that TestTransaction_ProcessDiesMidway (and
// TestOrg_PatientMove_LeftByAProcessThatDied_FinishedByRecover) kills: it serves the stack on the given data
// directory and exits, like a crash, when a commit reaches the given stage.
func TestCrashChild(t *testing.T) {
	stage, dir := os.Getenv(crashStageEnv), os.Getenv(crashDirEnv)
	if stage == "" {
		t.Skip("runs only as the child process of TestTransaction_ProcessDiesMidway")
	}
	srv := apitest.Start(t, apitest.Options{Dir: dir, Store: func(o *mongo.Options) {
		o.Hook = func(s string) {
			if s == stage {
				os.Exit(3)
			}
		}
	}})
	if err := os.WriteFile(filepath.Join(dir, "url"), []byte(srv.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute) // the parent's transaction ends this process
	t.Fatal("the transaction never reached stage " + stage)
}

const crashBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000017"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017"}},
 {"resource":{"resourceType":"Task","status":"requested","intent":"order","identifier":[{"system":"urn:test","value":"crash-1"}],"for":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"},"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}}},
  "request":{"method":"POST","url":"Task"}},
 {"resource":{"resourceType":"Organization","id":"crash-org","name":"X","telecom":[{"system":"phone","value":"020 7188 7188"}]},"request":{"method":"PUT","url":"Organization/crash-org"}}]}`

// TestTransaction_ProcessDiesMidway kills the process in the middle of a transaction, restarts on the same
// data, and checks that the transaction is entirely invisible when it died before its commit record, and
// entirely visible when it died after.
func TestTransaction_ProcessDiesMidway(t *testing.T) {
	for _, tc := range []struct {
		stage   string
		visible bool
	}{{"versions", false}, {"committed", true}} {
		t.Run(tc.stage, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashStageEnv+"="+tc.stage, crashDirEnv+"="+dir)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			url := waitForFile(t, filepath.Join(dir, "url"))
			resp, err := http.Post(url+"/", "application/fhir+json", strings.NewReader(crashBundle))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("the transaction answered %d; the process should have died", resp.StatusCode)
			}
			var exit *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Fatalf("child ended with %v, want exit status 3\n%s", err, out.String())
			}

			srv := apitest.Start(t, apitest.Options{Dir: dir})
			want := map[bool]int{true: 200, false: 404}[tc.visible]
			for _, path := range []string{
				"/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017",
				"/Task?identifier=urn:test|crash-1",
			} {
				b := srv.Do(t, "GET", path, nil).JSON(t)
				if got := b["total"]; got != jsonNumber(map[bool]int{true: 1, false: 0}[tc.visible]) {
					t.Errorf("GET %s: total %v, want visible=%v", path, got, tc.visible)
				}
			}
			if r := srv.Do(t, "GET", "/Organization/crash-org", nil); r.Status != want {
				t.Errorf("GET Organization/crash-org = %d, want %d", r.Status, want)
			}
			hist := srv.Do(t, "GET", "/_history", nil).JSON(t)
			entries, _ := hist["entry"].([]any)
			if n := map[bool]int{true: 3, false: 0}[tc.visible]; len(entries) != n {
				t.Errorf("system history has %d entries, want %d", len(entries), n)
			}
			// The same transaction can be sent again: it creates what is missing and nothing twice.
			r := srv.Do(t, "POST", "/", crashBundle)
			if r.Status != 200 {
				t.Fatalf("resent transaction = %d\n%s", r.Status, r.Body)
			}
			b := srv.Do(t, "GET", "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017", nil).JSON(t)
			if b["total"] != jsonNumber(1) {
				t.Errorf("after resending, %v patients with the NHS number, want 1", b["total"])
			}
		})
	}
}

func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
	return ""
}
