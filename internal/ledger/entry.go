package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/accord-fhir/accord/fhir"
	"time"
)

// Changes of state recorded in the ledger.
const (
	ChangeOpened    = "opened"
	ChangeUpdated   = "updated"
	ChangeFulfilled = "fulfilled"
	ChangeBreached  = "breached"
	ChangeCancelled = "cancelled"
	ChangeReported  = "reported"
	// ChangeReopened is an obligation open again because what fulfilled it was withdrawn (entered in error,
	// cancelled, deleted) or no longer fulfils it.
	ChangeReopened = "reopened"
	// ChangeWithdrawn is a finding withdrawn: the resource that was it (a report, a request breaking a clause) was
	// entered in error or deleted. The finding no longer counts.
	ChangeWithdrawn = "withdrawn"
)

// Changes lists every change, for checking filters.
var Changes = []string{ChangeOpened, ChangeUpdated, ChangeFulfilled, ChangeBreached, ChangeCancelled, ChangeReported, ChangeReopened, ChangeWithdrawn}

// States of an obligation.
const (
	StateOpen      = "open"
	StateFulfilled = "fulfilled"
	StateBreached  = "breached"
	StateCancelled = "cancelled"
)

// Entry is one ledger entry: a change of state of an obligation, or a finding, and the hash that chains it to the
// entry before. Entries are never updated or deleted; they outlive the resources they name.
type Entry struct {
	// Seq is the entry's position in the chain, from 1.
	Seq int64
	// Key identifies what the entry records, so that it is recorded once: "Task/<obligation>/<version>" for a
	// change of an obligation, "finding/<rule>/<Type>/<id>" for a finding.
	Key  string
	Time time.Time
	// Clause is the Consensus clause; Rule the rule of the pack that made the entry.
	Clause, Rule string
	// Obligation is "Task/<id>" of the obligation, empty for a finding.
	Obligation string
	// Event is the resource version that caused the change ("Encounter/e1/_history/2"), or the obligation's own
	// version for a breach found by the sweeper.
	Event string
	// Organization is the accountable organisation ("Organization/<id>", or "<system>|<value>" when only an
	// identifier is known; empty when none could be determined).
	Organization string
	// Change is what happened (ChangeOpened …); State is the obligation's state after it (for a finding, the
	// change itself).
	Change, State string
	// Due is the obligation's due time at this change; zero for a finding.
	Due time.Time
	// Actor is who made the event: the client id, or "accord" for the sweeper.
	Actor string
	// Patient is the patient the entry concerns: "<system>|<value>" of their identifier (the NHS number) when the
	// resource gives one, else the reference ("Patient/<id>"); empty when none. Analysts see it pseudonymised.
	Patient string
	// Prev is the hash of the entry before (empty for the first); Hash is this entry's.
	Prev, Hash string
}

// OnTime reports, for a fulfilment, whether it came by the due time.
func (e Entry) OnTime() bool { return e.Change == ChangeFulfilled && !e.Time.After(e.Due) }

// canonical is the byte string an entry's hash covers: every field but Hash, in a fixed order, times in UTC with
// milliseconds (the precision the database keeps), ending with the previous hash.
func (e Entry) canonical() []byte {
	b, _ := json.Marshal([]any{"accord-ledger/2", e.Seq, e.Key, instant(e.Time), e.Clause, e.Rule, e.Obligation, e.Event,
		e.Organization, e.Change, e.State, instant(e.Due), e.Actor, e.Patient, e.Prev})
	return b
}

func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// ComputeHash returns the SHA-256 (hex) of e's canonical encoding.
func (e Entry) ComputeHash() string {
	sum := sha256.Sum256(e.canonical())
	return hex.EncodeToString(sum[:])
}

// Seal sets e's Seq and Prev to follow the entry at seq with hash prev, truncates its times to milliseconds, and
// computes its Hash.
func (e *Entry) Seal(seq int64, prev string) {
	e.Seq, e.Prev = seq+1, prev
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	if !e.Due.IsZero() {
		e.Due = e.Due.UTC().Truncate(time.Millisecond)
	}
	e.Hash = e.ComputeHash()
}

// Verification is the result of recomputing the chain.
type Verification struct {
	// Entries is the number of entries checked; Head and HeadHash the last good entry.
	Entries  int64
	Head     int64
	HeadHash string
	// Broken is the first broken link, nil when the chain holds.
	Broken *Break
}

// Break is a broken link: the first entry that does not follow from the one before.
type Break struct {
	Seq    int64
	Reason string
}

// Chain checks entries one by one in sequence order; the zero value expects the first entry.
type Chain struct {
	v Verification
}

// Add checks the next entry and reports whether the chain still holds; after a break it stays broken.
func (c *Chain) Add(e Entry) bool {
	if c.v.Broken != nil {
		return false
	}
	switch {
	case e.Seq != c.v.Head+1:
		c.v.Broken = &Break{Seq: c.v.Head + 1, Reason: fmt.Sprintf("entry %d is missing (the next entry found is %d)", c.v.Head+1, e.Seq)}
	case e.Prev != c.v.HeadHash:
		c.v.Broken = &Break{Seq: e.Seq, Reason: fmt.Sprintf("entry %d does not carry the hash of entry %d", e.Seq, c.v.Head)}
	case e.ComputeHash() != e.Hash:
		c.v.Broken = &Break{Seq: e.Seq, Reason: fmt.Sprintf("entry %d has been altered: its content does not match its hash", e.Seq)}
	default:
		c.v.Entries++
		c.v.Head, c.v.HeadHash = e.Seq, e.Hash
		return true
	}
	return false
}

// Result returns the verification so far.
func (c *Chain) Result() Verification { return c.v }

// PatientKey is the key of a patient Reference: "<system>|<value>" of its identifier when it has one (the NHS
// number, which is what analysts pseudonymise), else its reference; "" for nil.
func PatientKey(ref fhir.Object) string {
	if ref == nil {
		return ""
	}
	if id, ok := ref["identifier"].(map[string]any); ok && str(id["value"]) != "" {
		return str(id["system"]) + "|" + str(id["value"])
	}
	return str(ref["reference"])
}

// patientElements are the elements that name the patient a resource is about.
var patientElements = []string{"subject", "patient", "for"}
