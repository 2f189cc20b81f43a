package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

func TestHealth_200JSON(t *testing.T) {
	s := apitest.Start(t)
	for path, status := range map[string]string{"/healthz": "up", "/readyz": "ready"} {
		t.Run(path, func(t *testing.T) {
			r := s.Do(t, http.MethodGet, path, nil)
			wantStatus(t, r, http.StatusOK, path)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if got := decode(t, r.Body)["status"]; got != status {
				t.Errorf("status %v, want %s", got, status)
			}
		})
	}
}
