package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPackage returns the files of a .tgz by name.
func readPackage(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = data
	}
}

func TestIGPackVerb(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ig.tgz")
	msg, err := runVerb(t, noEnv, "igpack", "-o", out)
	if err != nil {
		t.Fatalf("igpack: %v\n%s", err, msg)
	}
	files := readPackage(t, out)
	var manifest struct {
		Name, Version, Canonical string
		FhirVersions             []string
		Dependencies             map[string]string
	}
	if err := json.Unmarshal(files["package/package.json"], &manifest); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if manifest.Name != "io.github.accord-fhir.ig" || manifest.Canonical != "https://accord-fhir.github.io/ig" ||
		manifest.Dependencies["hl7.fhir.r4.core"] != "4.0.1" || len(manifest.FhirVersions) != 1 {
		t.Errorf("package.json = %+v", manifest)
	}
	var index struct {
		Files []struct{ Filename, ResourceType, ID, URL string }
	}
	if err := json.Unmarshal(files["package/.index.json"], &index); err != nil {
		t.Fatalf(".index.json: %v", err)
	}
	resources, _ := filepath.Glob("../../profiles/ig/*-*.json")
	if len(index.Files) != len(resources) || len(index.Files) < 60 {
		t.Errorf(".index.json lists %d files, profiles/ig has %d resources", len(index.Files), len(resources))
	}
	for _, e := range index.Files {
		if _, ok := files["package/"+e.Filename]; !ok || e.URL == "" || !strings.HasPrefix(e.Filename, e.ResourceType+"-") {
			t.Errorf("index entry %+v: file missing or entry incomplete", e)
		}
	}
	examples := 0
	for name := range files {
		if strings.HasPrefix(name, "package/example/") {
			examples++
		}
	}
	if examples != 24 {
		t.Errorf("%d examples in package/example, want 24", examples)
	}

	again := filepath.Join(t.TempDir(), "again.tgz")
	if _, err := runVerb(t, noEnv, "igpack", "-o", again); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if string(a) != string(b) {
		t.Error("two packages of the same guide differ")
	}
}
