package validate

import (
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
)

const testShapes = "https://accord-fhir.github.io/ig/test/CodeSystem/shapes"

func TestTerminology_ValueSet(t *testing.T) {
	terms := newTerminologyOf(readTestTerminology(t))
	for _, tc := range []struct {
		name, url string
		want      []Coding
		wantErr   error
	}{
		{name: "whole code system, sorted by code", url: testVS + "all", want: []Coding{{testShapes, "circle"}, {testShapes, "colour"},
			{testShapes, "pentagon"}, {testShapes, "polygon"}, {testShapes, "shape"}, {testShapes, "square"}, {testShapes, "triangle"}}},
		{name: "sorted by system", url: testVS + "union-with-other-system", want: []Coding{{"http://example.org/other", "circle"}, {testShapes, "circle"}}},
		{name: "a version on a value set without one", url: testVS + "in|0.1.0", want: []Coding{{testShapes, "circle"}, {testShapes, "square"}}},
		{name: "not loaded", url: "urn:nope", wantErr: ErrNotLoaded},
		{name: "code system not loaded", url: testVS + "unknown-system", wantErr: ErrUnexpandable},
		{name: "code system not complete", url: testVS + "fragment", wantErr: ErrUnexpandable},
		{name: "includes itself", url: testVS + "self", wantErr: ErrUnexpandable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := terms.ValueSet(tc.url)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("ValueSet(%q): err = %v, want %v", tc.url, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ValueSet(%q) = %v, %v; want %v", tc.url, got, err, tc.want)
			}
		})
	}
}

func TestTerminology_BelowAndAbove(t *testing.T) {
	terms := newTerminologyOf(readTestTerminology(t))
	for _, tc := range []struct {
		name, system, code string
		above              bool
		want               []string
		wantErr            error
	}{
		{name: "below: nested concepts and subsumedBy", system: testShapes, code: "polygon", want: []string{"polygon", "triangle", "square", "pentagon"}},
		{name: "below the root", system: testShapes, code: "shape", want: []string{"shape", "polygon", "triangle", "square", "circle", "pentagon"}},
		{name: "below a leaf", system: testShapes, code: "colour", want: []string{"colour"}},
		{name: "below a code the system does not define", system: testShapes, code: "hexagon", want: []string{"hexagon"}},
		{name: "above through subsumedBy", system: testShapes, code: "pentagon", above: true, want: []string{"shape", "polygon", "pentagon"}},
		{name: "above through nesting", system: testShapes, code: "square", above: true, want: []string{"shape", "polygon", "square"}},
		{name: "above a root", system: testShapes, code: "colour", above: true, want: []string{"colour"}},
		{name: "code system not complete", system: "https://accord-fhir.github.io/ig/test/CodeSystem/fragment", code: "x", wantErr: ErrUnexpandable},
		{name: "code system not loaded", system: "http://snomed.info/sct", code: "404684003", wantErr: ErrNotLoaded},
		{name: "above, code system not loaded", system: "http://snomed.info/sct", code: "404684003", above: true, wantErr: ErrNotLoaded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := terms.Below
			if tc.above {
				f = terms.Above
			}
			got, err := f(tc.system, tc.code)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestTerminology_Concurrent expands value sets from several goroutines (run with -race).
func TestTerminology_Concurrent(t *testing.T) {
	terms := newTerminologyOf(readTestTerminology(t))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			vs := []string{"all", "is-a-polygon", "within-value-set", "excluding"}[i%4]
			if _, err := terms.ValueSet(testVS + vs); err != nil {
				t.Errorf("ValueSet(%s): %v", vs, err)
			}
			if _, err := terms.Below(testShapes, "shape"); err != nil {
				t.Errorf("Below: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestTerminology_ValueSetVersion(t *testing.T) {
	defs, err := readDefinitions(os.DirFS("../../profiles"), []string{"r4/terminology.json.gz"})
	if err != nil {
		t.Fatalf("readDefinitions: %v", err)
	}
	terms := newTerminologyOf(newTerminology(defs))
	const gender = "http://hl7.org/fhir/ValueSet/administrative-gender"
	for _, tc := range []struct {
		url     string
		want    int
		wantErr error
	}{
		{url: gender, want: 4},
		{url: gender + "|4.0.1", want: 4},
		{url: gender + "|3.0.2", wantErr: ErrNotLoaded},
	} {
		got, err := terms.ValueSet(tc.url)
		switch {
		case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
			t.Errorf("ValueSet(%q): err = %v, want %v", tc.url, err, tc.wantErr)
		case tc.wantErr == nil && (err != nil || len(got) != tc.want):
			t.Errorf("ValueSet(%q) = %v, %v; want %d codes", tc.url, got, err, tc.want)
		}
	}
}
