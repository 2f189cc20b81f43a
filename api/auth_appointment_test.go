package api_test

import (
	"net/http"
	"testing"
)

// An Appointment names no organisation itself: organisation scoping resolves it through the HealthcareService,
// PractitionerRole or Location it is booked with and the referral (ServiceRequest) it is based on (Consensus 6.2).

// apptDirectory stores the Organizations of RJ1, RJ2 and practice G85001, and Patient p1 registered with G85001.
func apptDirectory(t *testing.T, s *securedStack) {
	t.Helper()
	for _, o := range [][2]string{{"org-rj1", "RJ1"}, {"org-rj2", "RJ2"}, {"org-g85001", "G85001"}} {
		s.put(t, adminOps, odsOrganization(o[0], o[1]))
	}
	s.put(t, adminOps, map[string]any{"resourceType": "Patient", "id": "p1", "generalPractitioner": []any{litRef("Organization/org-g85001")}})
}

// bookedAppointment is a booked Appointment of Patient p1 that meets the Accord Appointment profile (with a
// rebooking contact, 6.5), with the other participants actors and based on the references basedOn.
func bookedAppointment(actors []string, basedOn ...string) map[string]any {
	participants := []any{map[string]any{"actor": litRef("Patient/p1"), "status": "accepted"}}
	for _, a := range actors {
		participants = append(participants, map[string]any{"actor": litRef(a), "status": "accepted"})
	}
	appt := map[string]any{"resourceType": "Appointment", "status": "booked",
		"start": "2025-06-02T09:00:00Z", "end": "2025-06-02T09:30:00Z",
		"extension": []any{map[string]any{"url": "https://accord-fhir.github.io/ig/StructureDefinition/rebooking-contact",
			"valueContactPoint": map[string]any{"system": "phone", "value": "020 7946 0001"}}},
		"participant": participants}
	var refs []any
	for _, b := range basedOn {
		refs = append(refs, litRef(b))
	}
	if refs != nil {
		appt["basedOn"] = refs
	}
	return appt
}

// apptSearchIDs returns the ids of the Appointments client id finds.
func apptSearchIDs(t *testing.T, s *securedStack, id string) []string {
	t.Helper()
	r := s.as(t, id, http.MethodGet, "/Appointment", nil)
	wantStatus(t, r, http.StatusOK, id+" searches Appointments")
	_, ids := bundleIDs(t, r)
	return ids
}

func TestAppointment_WrittenAsTheProviderOfItsHealthcareService(t *testing.T) {
	s := startSecured(t)
	apptDirectory(t, s)
	hs := s.create(t, provRJ1, map[string]any{"resourceType": "HealthcareService", "name": "Gastroenterology outpatients",
		"providedBy": litRef("Organization/org-rj1"),
		"telecom":    []any{map[string]any{"system": "phone", "value": "020 7946 0002"}}})
	appt := bookedAppointment([]string{"HealthcareService/" + hs})
	id := s.create(t, provRJ1, appt)

	for _, tc := range []struct {
		name, client, method, path string
		body                       map[string]any
		status                     int
	}{
		{"another provider writes it", provRJ2, http.MethodPost, "/Appointment", appt, http.StatusForbidden},
		{"another provider reads it", provRJ2, http.MethodGet, "/Appointment/" + id, nil, http.StatusNotFound},
		{"the provider reads it", provRJ1, http.MethodGet, "/Appointment/" + id, nil, http.StatusOK},
		{"the patient's GP practice reads it", gpG85001, http.MethodGet, "/Appointment/" + id, nil, http.StatusOK},
		{"a missing HealthcareService names no writer", provRJ1, http.MethodPost, "/Appointment",
			bookedAppointment([]string{"HealthcareService/missing"}), http.StatusForbidden},
		{"only the patient names no writer", provRJ1, http.MethodPost, "/Appointment", bookedAppointment(nil), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != nil {
				body = tc.body
			}
			r := s.as(t, tc.client, tc.method, tc.path, body)
			if tc.status == http.StatusForbidden {
				wantIssue(t, r, tc.status, "forbidden", tc.name)
				return
			}
			wantStatus(t, r, tc.status, tc.name)
		})
	}

	// The index written with the Appointment restricts searches the same way.
	for _, tc := range []struct {
		client string
		sees   bool
	}{{provRJ1, true}, {gpG85001, true}, {provRJ2, false}} {
		if got := hasString(apptSearchIDs(t, s, tc.client), id); got != tc.sees {
			t.Errorf("%s finds Appointment/%s: %v, want %v", tc.client, id, got, tc.sees)
		}
	}
}

func TestAppointment_WrittenAsThePerformerOfItsReferral(t *testing.T) {
	s := startSecured(t)
	apptDirectory(t, s)
	// RJ2 refers patient p1 to RJ1.
	sr := s.create(t, provRJ2, map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order",
		"subject": litRef("Patient/p1"), "requester": odsRef("RJ2"), "performer": []any{litRef("Organization/org-rj1")},
		"reasonCode": []any{map[string]any{"text": "Iron-deficiency anaemia"}}})
	id := s.create(t, provRJ1, bookedAppointment(nil, "ServiceRequest/"+sr))

	for _, tc := range []struct {
		client string
		status int
	}{
		{provRJ1, http.StatusOK},  // the performer
		{provRJ2, http.StatusOK},  // the referrer
		{gpG85001, http.StatusOK}, // the patient's GP practice
	} {
		r := s.as(t, tc.client, http.MethodGet, "/Appointment/"+id, nil)
		wantStatus(t, r, tc.status, tc.client+" reads the Appointment")
	}
	r := s.as(t, provRJ1, http.MethodPost, "/Appointment", bookedAppointment(nil, "ServiceRequest/missing"))
	wantIssue(t, r, http.StatusForbidden, "forbidden", "an Appointment based on a missing referral")
}
