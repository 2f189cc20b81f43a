package api_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

// A GP practice sees the data of its registered patients. When a patient moves to another practice, the data
// already written about them moves with them, in searches as in reads; likewise an Appointment follows the
// organisations of the referral it is based on.

// gpG12345 is the GP system of practice G12345, which reads everything.
const gpG12345 = "g12345-gp"

// startWithSecondPractice starts a secured stack with the GP system of practice G12345 too; extra adjusts it.
func startWithSecondPractice(t *testing.T, extra ...func(*apitest.Options)) *securedStack {
	t.Helper()
	gp := apitest.NewClient(t, gpG12345, auth.RoleGP, []string{"G12345"}, "system/*.read")
	return startSecured(t, append([]func(*apitest.Options){func(o *apitest.Options) { o.Clients = append(o.Clients, gp) }}, extra...)...)
}

// movingPatient returns Patient p1, with an NHS number, registered with the practice gp names.
func movingPatient(gp map[string]any) map[string]any {
	return map[string]any{"resourceType": "Patient", "id": "p1", "generalPractitioner": []any{gp},
		"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}}}
}

// patientData is what RJ1 wrote about Patient p1, by "Type": id.
type patientData map[string]string

// writePatientData stores the directory and Patient p1 registered with G85001 (by reference to its
// Organization), then RJ1's Task (in two versions), referral and letter about p1.
func writePatientData(t *testing.T, s *securedStack) patientData {
	t.Helper()
	for _, o := range [][2]string{{"org-rj1", "RJ1"}, {"org-g85001", "G85001"}, {"org-g12345", "G12345"}} {
		s.put(t, adminOps, odsOrganization(o[0], o[1]))
	}
	s.put(t, adminOps, movingPatient(litRef("Organization/org-g85001")))
	d := patientData{
		"Task": s.create(t, provRJ1, orgTask(odsRef("RJ1"), odsRef("RJ1"), "p1")),
		"ServiceRequest": s.create(t, provRJ1, map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order",
			"subject": litRef("Patient/p1"), "requester": odsRef("RJ1"), "performer": []any{odsRef("RJ1")},
			"reasonCode": []any{map[string]any{"text": "Iron-deficiency anaemia"}}}),
		"Communication": s.create(t, provRJ1, map[string]any{"resourceType": "Communication", "status": "completed",
			"subject": litRef("Patient/p1"), "sender": odsRef("RJ1"),
			"payload": []any{map[string]any{"contentString": "Seen in clinic today."}}}),
	}
	task := withResourceID(orgTask(odsRef("RJ1"), odsRef("RJ1"), "p1"), d["Task"])
	task["status"] = "accepted"
	s.put(t, provRJ1, task)
	return d
}

// sees reports whether client finds typ/id by search and reads it; it fails the test when the two disagree.
func (s *securedStack) sees(t *testing.T, client, typ, id string) bool {
	t.Helper()
	_, ids := bundleIDs(t, s.as(t, client, http.MethodGet, "/"+typ, nil))
	found := hasString(ids, id)
	r := s.as(t, client, http.MethodGet, "/"+typ+"/"+id, nil)
	if read := r.Status == http.StatusOK; read != found {
		t.Errorf("%s: search finds %s/%s %v, read gives %d", client, typ, id, found, r.Status)
	} else if !read {
		wantIssue(t, r, http.StatusNotFound, "not-found", client+" reads "+typ+"/"+id)
	}
	return found
}

func TestOrg_PatientChangesPractice_DataFollows(t *testing.T) {
	s := startWithSecondPractice(t)
	d := writePatientData(t, s)
	for typ, id := range d {
		if !s.sees(t, gpG85001, typ, id) || s.sees(t, gpG12345, typ, id) {
			t.Fatalf("before the move, %s/%s is not the old practice's alone", typ, id)
		}
	}

	s.put(t, adminOps, movingPatient(odsRef("G12345"))) // registered with G12345 now, by ODS code

	for _, tc := range []struct {
		client string
		sees   bool
	}{{gpG12345, true}, {gpG85001, false}} {
		t.Run(tc.client, func(t *testing.T) {
			for typ, id := range d {
				if got := s.sees(t, tc.client, typ, id); got != tc.sees {
					t.Errorf("%s sees %s/%s: %v, want %v", tc.client, typ, id, got, tc.sees)
				}
			}
			ifSees := func(refs ...string) []string {
				if tc.sees {
					return refs
				}
				return nil
			}
			for _, q := range []struct {
				name, path        string
				matches, included []string
			}{
				{"include the patient", "/Task?_id=" + d["Task"] + "&_include=Task:patient",
					ifSees("Task/" + d["Task"]), ifSees("Patient/p1")},
				{"revinclude the patient's data", "/Patient?_id=p1&_revinclude=Task:patient&_revinclude=ServiceRequest:patient&_revinclude=Communication:patient",
					ifSees("Patient/p1"), ifSees("Task/"+d["Task"], "ServiceRequest/"+d["ServiceRequest"], "Communication/"+d["Communication"])},
				{"chain to the patient", "/Task?patient:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
					ifSees("Task/" + d["Task"]), nil},
				{"reverse chain from the patient's letters", "/Patient?_has:Communication:subject:status=completed",
					ifSees("Patient/p1"), nil},
			} {
				matches, included := includedIDs(t, s.as(t, tc.client, http.MethodGet, q.path, nil))
				if !sameSet(matches, q.matches) || !sameSet(included, q.included) {
					t.Errorf("%s: matches %v, included %v; want %v and %v", q.name, matches, included, q.matches, q.included)
				}
			}
			_, ids := bundleIDs(t, s.as(t, tc.client, http.MethodGet, "/Task/_history", nil))
			if got := strings.Count(strings.Join(ids, " "), d["Task"]); got != map[bool]int{true: 2, false: 0}[tc.sees] {
				t.Errorf("Task history holds %d versions of the Task, want them all: %v", got, tc.sees)
			}
		})
	}
}

func TestOrg_ReferralChangesPerformer_AppointmentFollows(t *testing.T) {
	s := startSecured(t)
	apptDirectory(t, s)
	// Practice G85001 refers patient p1 to RJ1, who books the appointment.
	sr := map[string]any{"resourceType": "ServiceRequest", "id": "sr1", "status": "active", "intent": "order",
		"subject": litRef("Patient/p1"), "requester": odsRef("G85001"), "performer": []any{litRef("Organization/org-rj1")},
		"reasonCode": []any{map[string]any{"text": "Iron-deficiency anaemia"}}}
	s.put(t, adminOps, sr)
	id := s.create(t, provRJ1, bookedAppointment(nil, "ServiceRequest/sr1"))
	if !s.sees(t, provRJ1, "Appointment", id) || s.sees(t, provRJ2, "Appointment", id) {
		t.Fatal("before the referral moves, the Appointment is not RJ1's")
	}

	sr["performer"] = []any{odsRef("RJ2")} // the referral is redirected to RJ2
	s.put(t, adminOps, sr)

	for _, tc := range []struct {
		client string
		sees   bool
	}{{provRJ2, true}, {provRJ1, false}, {gpG85001, true}} {
		if got := s.sees(t, tc.client, "Appointment", id); got != tc.sees {
			t.Errorf("%s sees the Appointment: %v, want %v", tc.client, got, tc.sees)
		}
	}
}

// historyPagesAs follows the next links of a history as client, and returns the versions of each page.
func historyPagesAs(t *testing.T, s *securedStack, client, path string) [][]version {
	t.Helper()
	var pages [][]version
	for path != "" {
		if len(pages) == 100 {
			t.Fatal("the next links do not end")
		}
		r := s.as(t, client, http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusOK, client+" GET "+path)
		b := decode(t, r.Body)
		pages = append(pages, entryVersions(t, asList(b["entry"])))
		path = ""
		for _, l := range asList(b["link"]) {
			if l["relation"] == "next" {
				path = strings.TrimPrefix(l["url"].(string), s.URL)
			}
		}
	}
	return pages
}

func TestOrg_History_FullPagesOfWhatTheClientSees(t *testing.T) {
	s := startWithSecondPractice(t)
	for _, o := range [][2]string{{"org-g85001", "G85001"}, {"org-g12345", "G12345"}} {
		s.put(t, adminOps, odsOrganization(o[0], o[1]))
	}
	s.put(t, adminOps, movingPatient(odsRef("G85001")))
	s.put(t, adminOps, map[string]any{"resourceType": "Patient", "id": "p2", "generalPractitioner": []any{odsRef("G12345")}})
	// RJ1's Tasks about both practices' patients, interleaved; some updated.
	var all, p1 []string // the Task versions, and those about p1, as Task/id/_history/vid
	for i, patient := range []string{"p1", "p2", "p2", "p1", "p2", "p2", "p1", "p2", "p1"} {
		id := s.create(t, provRJ1, orgTask(odsRef("RJ1"), odsRef("RJ1"), patient))
		versions := []string{version{"Task", id, "1"}.String()}
		if i%3 == 0 {
			task := withResourceID(orgTask(odsRef("RJ1"), odsRef("RJ1"), patient), id)
			task["status"] = "accepted"
			s.put(t, provRJ1, task)
			versions = append(versions, version{"Task", id, "2"}.String())
		}
		all = append(all, versions...)
		if patient == "p1" {
			p1 = append(p1, versions...)
		}
	}
	for _, tc := range []struct {
		client, path string
		count        int
		tasks        []string           // the Task versions the pages must hold, and no other
		other        func(version) bool // the other versions they may hold
	}{
		{gpG85001, "/Task/_history", 2, p1, nil},
		{gpG85001, "/_history", 2, p1, func(v version) bool { return v.typ == "Organization" || v.String() == "Patient/p1/_history/1" }},
		{gpG12345, "/Task/_history", 3, without(all, p1), nil},
		{readerRJ1, "/_history", 2, all, nil}, // Task scopes only: the other types are left out in the query too
	} {
		t.Run(tc.client+tc.path, func(t *testing.T) {
			pages := historyPagesAs(t, s, tc.client, tc.path+"?_count="+strconv.Itoa(tc.count))
			var tasks []string
			for i, page := range pages {
				if i < len(pages)-1 && len(page) != tc.count {
					t.Errorf("page %d of %d holds %d entries, want %d", i+1, len(pages), len(page), tc.count)
				}
				for _, v := range page {
					switch {
					case v.typ == "Task" && hasString(tc.tasks, v.String()):
						tasks = append(tasks, v.String())
					case tc.other == nil || !tc.other(v):
						t.Errorf("page %d holds %v, which %s may not see", i+1, v, tc.client)
					}
				}
			}
			if !sameSet(tasks, tc.tasks) || len(tasks) != len(tc.tasks) {
				t.Errorf("the pages hold the Task versions %v, want %v", tasks, tc.tasks)
			}
		})
	}
}

// without returns the strings of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !hasString(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestOrg_PatientMove_LeftByAProcessThatDied_FinishedByRecover kills the process after a Patient's move is
// committed and before the data about the patient is indexed again, restarts on the same data, and checks that
// the store's recovery finishes the re-index that the dead process had recorded.
func TestOrg_PatientMove_LeftByAProcessThatDied_FinishedByRecover(t *testing.T) {
	dir := t.TempDir()
	onDir := func(o *apitest.Options) { o.Dir = dir }
	var d patientData
	t.Run("before", func(t *testing.T) { // the first process, stopped at the end of the subtest
		d = writePatientData(t, startWithSecondPractice(t, onDir))
	})
	if t.Failed() {
		return
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashStageEnv+"=reindex", crashDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := waitForFile(t, filepath.Join(dir, "url"))
	body := strings.NewReader(string(mustJSON(t, movingPatient(odsRef("G12345")))))
	req, _ := http.NewRequest(http.MethodPut, url+"/Patient/p1", body)
	req.Header.Set("Content-Type", "application/fhir+json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the move answered %d; the process should have died", resp.StatusCode)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child ended with %v, want exit status 3\n%s", err, out.String())
	}

	s := startWithSecondPractice(t, onDir)
	// Reads decide on the patient's current practice; searches on the index, stale until recovery.
	wantStatus(t, s.as(t, gpG12345, http.MethodGet, "/Task/"+d["Task"], nil), http.StatusOK, "the new practice reads the Task")
	if _, ids := bundleIDs(t, s.as(t, gpG12345, http.MethodGet, "/Task", nil)); hasString(ids, d["Task"]) {
		t.Fatal("the new practice finds the Task before recovery: the test shows nothing")
	}
	if err := s.Store.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	for typ, id := range d {
		if !s.sees(t, gpG12345, typ, id) || s.sees(t, gpG85001, typ, id) {
			t.Errorf("after recovery, %s/%s is not the new practice's alone", typ, id)
		}
	}
}

// TestOrg_OrganizationWritten_ItsClientsSeeByItAtOnce checks that the Organizations of a client's ODS codes, which
// organisation scoping caches, are found again as soon as an Organization is written.
func TestOrg_OrganizationWritten_ItsClientsSeeByItAtOnce(t *testing.T) {
	s := startSecured(t)
	s.put(t, adminOps, odsOrganization("org-rj1", "RJ1"))
	_, before := bundleIDs(t, s.as(t, provRJ1, http.MethodGet, "/Task", nil)) // caches RJ1's Organizations
	s.put(t, adminOps, odsOrganization("org-rj1-site2", "RJ1"))
	id := s.create(t, provRJ1, orgTask(litRef("Organization/org-rj1-site2"), litRef("Organization/org-rj1-site2"), ""))
	_, after := bundleIDs(t, s.as(t, provRJ1, http.MethodGet, "/Task", nil))
	if !sameSet(after, append(before, id)) {
		t.Errorf("after its second Organization was written, RJ1 finds %v, want %v and %s", after, before, id)
	}
	wantStatus(t, s.as(t, provRJ1, http.MethodGet, "/Task/"+id, nil), http.StatusOK, "RJ1 reads the Task of its new Organization")
}
