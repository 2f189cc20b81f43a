package imports

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/accord-fhir/accord"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// TestImportRules fails when a package imports across the layering of design.md.
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	under := func(p, dir string) bool { return p == module+"/"+dir || strings.HasPrefix(p, module+"/"+dir+"/") }
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			var why string
			switch {
			case under(p.ImportPath, "fhir") && strings.HasPrefix(imp, module+"/") && !under(imp, "fhir"):
				why = "fhir/ imports nothing else of the project"
			case under(p.ImportPath, "fhir") && (strings.HasPrefix(imp, "github.com/gin-gonic/") || strings.HasPrefix(imp, "go.mongodb.org/")):
				why = "fhir/ does no I/O: no Gin, no database driver"
			case strings.HasPrefix(imp, "go.mongodb.org/mongo-driver") && !under(p.ImportPath, "internal/store/mongo"):
				why = "only internal/store/mongo talks to the database driver"
			case strings.HasPrefix(imp, "github.com/FerretDB/") && !under(p.ImportPath, "internal/embeddb"):
				why = "only internal/embeddb starts the embedded database"
			case strings.HasPrefix(imp, "github.com/gin-gonic/") && !under(p.ImportPath, "api") && !under(p.ImportPath, "cmd"):
				why = "only api and cmd use Gin"
			case under(p.ImportPath, "internal") && (under(imp, "api") || under(imp, "cmd")):
				why = "internal/ never imports api or cmd"
			case under(p.ImportPath, "api") && under(imp, "cmd"):
				why = "api never imports cmd"
			}
			if why != "" {
				t.Errorf("%s imports %s: %s", strings.TrimPrefix(p.ImportPath, module+"/"), imp, why)
			}
		}
	}
}
