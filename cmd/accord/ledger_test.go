package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/profiles"
)

// writePack writes the default rule pack changed by edit, with the guide's clause CodeSystem beside it where the
// pack names it (../ig/), and returns its path.
func writePack(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	pack, err := fs.ReadFile(profiles.FS, ledger.DefaultPack)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := fs.ReadFile(profiles.FS, "ig/CodeSystem-consensus-clause.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"rules", "ig"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ig", "CodeSystem-consensus-clause.json"), cs, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules", "pack.json")
	if err := os.WriteFile(path, []byte(edit(string(pack))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServe_InvalidRulePack_StopsAndSaysWhat: a rule pack with errors, or bad local durations, stop the start with
// every problem named.
func TestServe_InvalidRulePack_StopsAndSaysWhat(t *testing.T) {
	bad := writePack(t, func(s string) string {
		s = strings.Replace(s, `"accountable": "serviceProvider"`, `"accountable": "serviceProvider.("`, 1)
		return strings.Replace(s, `"clause": "6.2"`, `"clause": "6.9"`, 1)
	})
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"broken pack", map[string]string{"ACCORD_RULE_PACK": bad},
			[]string{"ACCORD_RULE_PACK", "2 problem(s)", "obligations[0] (2.5-discharge-summary).accountable", `"6.9" is not a clause`}},
		{"missing pack", map[string]string{"ACCORD_RULE_PACK": filepath.Join(t.TempDir(), "none.json")}, []string{"ACCORD_RULE_PACK", "no such file"}},
		{"unknown duration", map[string]string{"ACCORD_RULE_DURATIONS": "results=P7D"}, []string{`the pack has no local duration "results"`}},
		{"malformed durations", map[string]string{"ACCORD_RULE_DURATIONS": "result-communication"}, []string{"ACCORD_RULE_DURATIONS", "not name=duration"}},
		{"bad sweep interval", map[string]string{"ACCORD_SWEEP_INTERVAL": "often"}, []string{"ACCORD_SWEEP_INTERVAL", `"often" is not a positive duration`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"ACCORD_DATA_DIR": t.TempDir(), "ACCORD_AUTH": "off", "ACCORD_ADDR": "127.0.0.1:0"}
			for k, v := range c.env {
				env[k] = v
			}
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard, nil)
			if err == nil {
				t.Fatal("the service started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestLedgerVerify_Command: `accord ledger verify` recomputes the chain of the stopped service's database, and
// reports the entry an edit of the database broke.
func TestLedgerVerify_Command(t *testing.T) {
	dir := t.TempDir()
	p := startAccord(t, "ACCORD_DATA_DIR="+dir, "ACCORD_AUTH=off")
	enc := `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},` +
		`"subject":{"reference":"Patient/p1"},"period":{"start":"2026-03-01T09:00:00Z","end":"2026-03-02T09:00:00Z"},"serviceProvider":{"reference":"Organization/R9Z"}}`
	if status, body := request(t, "PUT", p.base+"/Encounter/e1", enc); status != 201 {
		t.Fatalf("PUT Encounter = %d %s", status, body)
	}
	status, body := request(t, "GET", p.base+"/ledger/$verify", "")
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); status != 200 || err != nil || v["verified"] != true || v["entries"].(float64) < 1 {
		t.Fatalf("GET /ledger/$verify = %d %s", status, body)
	}
	p.stop(t)

	env := map[string]string{"ACCORD_DATA_DIR": dir, "ACCORD_AUTH": "off"}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	if err := run(context.Background(), []string{"ledger", "verify"}, getenv, &out, io.Discard, nil); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ledger verified: 1 entries") {
		t.Errorf("ledger verify printed %q", out.String())
	}

	alterEntry(t, filepath.Join(dir, "db"), 1)
	out.Reset()
	err := run(context.Background(), []string{"ledger", "verify"}, getenv, &out, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "broken at entry 1") || !strings.Contains(out.String(), "entry 1 has been altered") {
		t.Errorf("ledger verify after an edit: %v, printed %q", err, out.String())
	}
}

// alterEntry changes ledger entry seq in the embedded database under dir.
func alterEntry(t *testing.T, dir string, seq int) {
	t.Helper()
	db, err := embeddb.Start(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(db.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	id := strings.Repeat("0", 19) + string(rune('0'+seq))
	res, err := client.Database("accord").Collection("ledger").UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: "fulfilled"}}}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("alter entry %d: %v", seq, err)
	}
}
