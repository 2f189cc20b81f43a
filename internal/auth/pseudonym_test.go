package auth

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

const nhsNumber = "https://fhir.nhs.uk/Id/nhs-number"

func mustPseudonymiser(t testing.TB, key []byte) *Pseudonymiser {
	t.Helper()
	p, err := NewPseudonymiser(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPseudonymiser(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	p1, p1again, p2 := mustPseudonymiser(t, k1), mustPseudonymiser(t, k1), mustPseudonymiser(t, k2)
	base := p1.Pseudonym(nhsNumber, "9434765919")
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"same key and identifier: stable", p1again.Pseudonym(nhsNumber, "9434765919"), true},
		{"another key", p2.Pseudonym(nhsNumber, "9434765919"), false},
		{"another value", p1.Pseudonym(nhsNumber, "9434765920"), false},
		{"another system", p1.Pseudonym("https://example.test/mrn", "9434765919"), false},
		{"separator moved", p1.Pseudonym(nhsNumber+"9", "434765919"), false},
	} {
		if (tc.got == base) != tc.same {
			t.Errorf("%s: %s vs %s, want same = %v", tc.name, tc.got, base, tc.same)
		}
	}
	if b, err := hex.DecodeString(base); err != nil || len(b) != 32 || strings.Contains(base, "9434765919") {
		t.Errorf("pseudonym %q: want 64 hex digits that do not contain the identifier", base)
	}
}

func TestPseudonymiser_KeyHandling(t *testing.T) {
	if _, err := NewPseudonymiser(make([]byte, 31)); err == nil {
		t.Error("NewPseudonymiser(31-byte key): want an error")
	}
	key := []byte(strings.Repeat("s3cret-", 5))
	p := mustPseudonymiser(t, key)
	before := p.Pseudonym(nhsNumber, "1")
	key[0] = 'X' // the caller's buffer is not the key
	if p.Pseudonym(nhsNumber, "1") != before {
		t.Error("changing the caller's key buffer changed the pseudonyms")
	}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p)} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "115") {
			t.Errorf("the key leaks into %q", s)
		}
	}
}
