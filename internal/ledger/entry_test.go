package ledger

import (
	"strings"
	"testing"
	"time"
)

// chain returns n sealed entries.
func chain(n int) []Entry {
	var out []Entry
	var seq int64
	prev := ""
	t := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		e := Entry{Key: "Task/obl-x/" + string(rune('1'+i)), Time: t.Add(time.Duration(i) * time.Hour), Clause: "2.5", Rule: "2.5-clinic-letter",
			Obligation: "Task/obl-x", Event: "Encounter/e1/_history/1", Organization: "Organization/rj1", Change: ChangeOpened,
			State: StateOpen, Due: t.Add(240 * time.Hour), Actor: "trust-epr"}
		e.Seal(seq, prev)
		seq, prev = e.Seq, e.Hash
		out = append(out, e)
	}
	return out
}

func TestChain(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tamper    func([]Entry) []Entry
		wantBreak int64
		wantWords string
	}{
		{"intact", func(es []Entry) []Entry { return es }, 0, ""},
		{"altered field", func(es []Entry) []Entry { es[2].Organization = "Organization/other"; return es }, 3, "altered"},
		{"altered time", func(es []Entry) []Entry { es[1].Time = es[1].Time.Add(time.Second); return es }, 2, "altered"},
		{"altered and rehashed", func(es []Entry) []Entry {
			es[1].Change = ChangeFulfilled
			es[1].Hash = es[1].ComputeHash()
			return es
		}, 3, "does not carry the hash of entry 2"},
		{"missing entry", func(es []Entry) []Entry { return append(es[:2:2], es[3:]...) }, 3, "entry 3 is missing"},
		{"first entry with a previous hash", func(es []Entry) []Entry { es[0].Prev = "00"; es[0].Hash = es[0].ComputeHash(); return es }, 1, "does not carry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Chain
			for _, e := range tc.tamper(chain(5)) {
				c.Add(e)
			}
			v := c.Result()
			switch {
			case tc.wantBreak == 0 && v.Broken != nil:
				t.Fatalf("broken at %d: %s", v.Broken.Seq, v.Broken.Reason)
			case tc.wantBreak == 0:
				if v.Entries != 5 || v.Head != 5 {
					t.Errorf("verified %d entries to %d, want 5 to 5", v.Entries, v.Head)
				}
			case v.Broken == nil:
				t.Fatalf("not broken, want a break at %d", tc.wantBreak)
			case v.Broken.Seq != tc.wantBreak || !strings.Contains(v.Broken.Reason, tc.wantWords):
				t.Errorf("broken at %d (%s), want %d (%s)", v.Broken.Seq, v.Broken.Reason, tc.wantBreak, tc.wantWords)
			}
		})
	}
}

func TestSeal_TruncatesToMilliseconds(t *testing.T) {
	e := chain(1)[0]
	if e.Time.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("time %v keeps sub-millisecond precision", e.Time)
	}
	if e.Hash != e.ComputeHash() {
		t.Error("hash changes when computed again")
	}
}
