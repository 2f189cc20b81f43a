package api_test

import (
	"context"
	"io/fs"
	"os"
	"testing/fstest"

	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/profiles"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

func TestZZProfileStages(t *testing.T) {
	pack, _ := fs.ReadFile(profiles.FS, ledger.DefaultPack)
	cs, _ := fs.ReadFile(profiles.FS, "ig/CodeSystem-consensus-clause.json")
	edited := strings.ReplaceAll(string(pack), `"condition": "status = 'finished'`, `"condition": "false and status = 'finished'`)
	other, err := ledger.LoadPack(fstest.MapFS{"rules/pack.json": {Data: []byte(edited)}, "ig/CodeSystem-consensus-clause.json": {Data: cs}}, "rules/pack.json", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := apitest.Options{}
	if os.Getenv("NOPACK") != "" {
		o.Pack = other
	}
	s := apitest.Start(t, o)
	none, opens := benchEncounter("in-progress"), benchEncounter("finished")
	post := func(body []byte) {
		resp, err := http.Post(s.URL+"/Encounter", "application/fhir+json", strings.NewReader(string(body)))
		if err != nil || resp.StatusCode != 201 {
			t.Fatal(err, resp.StatusCode)
		}
		resp.Body.Close()
	}
	for round := 0; round < 3; round++ {
		for _, c := range []struct {
			name string
			body []byte
		}{{"none", none}, {"opens", opens}} {
			start := time.Now()
			for i := 0; i < 100; i++ {
				post(c.body)
			}
			posted := time.Since(start)
			s.Ledger.Flush(context.Background())
			t.Logf("round %d %-6s: 100 posts in %v, processed after %v", round, c.name, posted, time.Since(start))
		}
	}
}
