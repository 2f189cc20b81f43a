package validate_test

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

const (
	vitalSigns    = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
	bloodPressure = "http://hl7.org/fhir/StructureDefinition/bp"
)

// notEnforcedCore are the R4 core profiles the validator cannot apply, with what it does not support in them.
var notEnforcedCore = map[string]string{
	"bmi": "discriminator type \"type\"", "bodyheight": "discriminator type \"type\"",
	"bodytemp": "discriminator type \"type\"", "bodyweight": "discriminator type \"type\"",
	"bp": "discriminator type \"type\"", "cdshooksguidanceresponse": "discriminator type \"type\"",
	"cholesterol": "discriminator type \"type\"", "devicemetricobservation": "discriminator type \"type\"",
	"hdlcholesterol": "discriminator type \"type\"", "headcircum": "discriminator type \"type\"",
	"heartrate": "discriminator type \"type\"", "ldlcholesterol": "discriminator type \"type\"",
	"oxygensat": "discriminator type \"type\"", "resprate": "discriminator type \"type\"",
	"triglyceride": "discriminator type \"type\"",
	"lipidprofile": "discriminator path \"resolve().code\"",
}

// coreProfiles returns the canonical URLs of the profiles in profiles/r4/profiles.json.gz.
func coreProfiles(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(profilesDir, "r4", "profiles.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Entry []struct {
			Resource struct{ URL, Version, Derivation string }
		}
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, e := range b.Entry {
		if e.Resource.Version != "4.0.1" || e.Resource.Derivation != "constraint" {
			t.Errorf("%s: version %s, derivation %s", e.Resource.URL, e.Resource.Version, e.Resource.Derivation)
		}
		urls = append(urls, e.Resource.URL)
	}
	return urls
}

// TestCoreProfiles_EnforcedOrNotWithReason checks that every R4 core profile is loaded: enforced, or known but
// not enforced with the reason, exactly those of notEnforcedCore.
func TestCoreProfiles_EnforcedOrNotWithReason(t *testing.T) {
	v := newCore(t)
	urls := coreProfiles(t)
	if len(urls) != 43 || !slices.Contains(urls, vitalSigns) || !slices.Contains(urls, bloodPressure) {
		t.Fatalf("%d core profiles: %v", len(urls), urls)
	}
	loaded, notEnforced := v.Profiles(), v.NotEnforced()
	for _, url := range urls {
		id := strings.TrimPrefix(url, "http://hl7.org/fhir/StructureDefinition/")
		reason, known := notEnforced[url]
		switch want, listed := notEnforcedCore[id]; {
		case listed && !strings.Contains(reason, want):
			t.Errorf("%s: not enforced because %q, want a reason containing %q", id, reason, want)
		case !listed && known:
			t.Errorf("%s is not enforced: %s", id, reason)
		case !listed && !slices.Contains(loaded, url):
			t.Errorf("%s is neither enforced nor listed as not enforced", id)
		}
	}
	if len(notEnforced) != len(notEnforcedCore) {
		t.Errorf("%d profiles not enforced, want %d: %v", len(notEnforced), len(notEnforcedCore), notEnforced)
	}
}

// TestCoreProfiles_VitalSigns checks a resource that claims the vital signs profile against it.
func TestCoreProfiles_VitalSigns(t *testing.T) {
	v := newInvariant(t)
	for _, tc := range []struct {
		name string
		edit func(o fhir.Object)
		want []string // "severity code expression"
	}{
		{"as published", func(fhir.Object) {}, []string{}},
		{"no subject", func(o fhir.Object) { delete(o, "subject") }, []string{"error required Observation.subject"}},
		{"no vital-signs category", func(o fhir.Object) {
			o["category"] = []any{map[string]any{"text": "vitals"}}
		}, []string{"error required Observation.category"}},
		{"effective time not to the day (vs-1)", func(o fhir.Object) { o["effectiveDateTime"] = "2012-09" },
			[]string{"error invariant Observation.effective.ofType(dateTime)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, "../../testdata/r4examples/Observation-blood-pressure.json")
			tc.edit(obj)
			issues := v.ValidateProfiles(obj)
			got := []string{}
			for _, is := range issues {
				got = append(got, strings.Join([]string{string(is.Severity), string(is.Code), is.Expression[0]}, " "))
				if !strings.HasSuffix(is.Details, "(profile "+vitalSigns+")") || is.Profile != vitalSigns {
					t.Errorf("issue not attributed to the profile: %s (Profile %q)", is.Details, is.Profile)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("issues %q, want %q\n%s", got, tc.want, describe(issues))
			}
		})
	}
}

// TestCoreProfiles_NotEnforced_Warning checks that a resource claiming a core profile the validator cannot apply
// gets one warning naming it and the reason, whether claimed in meta.profile or asked for.
func TestCoreProfiles_NotEnforced_Warning(t *testing.T) {
	v := newCore(t)
	obj := readObject(t, "../../testdata/r4examples/Observation-blood-pressure.json")
	obj["meta"] = map[string]any{"profile": []any{vitalSigns, bloodPressure + "|4.0.1"}}
	check := func(t *testing.T, issues []fhir.Issue, expr string) {
		t.Helper()
		if len(issues) != 1 || issues[0].Severity != fhir.SeverityWarning || issues[0].Code != fhir.IssueNotSupported ||
			issues[0].Expression[0] != expr || !strings.Contains(issues[0].Details, bloodPressure) ||
			!strings.Contains(issues[0].Details, "not enforced") || !strings.Contains(issues[0].Details, `type "type"`) {
			t.Errorf("want one not-supported warning at %s naming %s and why:\n%s", expr, bloodPressure, describe(issues))
		}
	}
	check(t, v.ValidateProfiles(obj), "Observation.meta.profile[1]")
	delete(obj, "meta")
	check(t, v.ValidateProfiles(obj, bloodPressure), "Observation")
	issues, err := v.ValidateProfile(obj, bloodPressure)
	if err != nil {
		t.Fatal(err)
	}
	check(t, issues, "Observation")
}
