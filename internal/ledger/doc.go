// Package ledger is Accord's obligations engine and accountability ledger (design.md, "Accountability ledger").
//
// A rule pack (profiles/rules, loaded by LoadPack) says which events open obligations, when they fall due, who is
// accountable and what fulfils them, and which events are findings in themselves (a breach recorded against its
// sender, an interface issue reported by a practice). The Ledger watches every commit of the resource store
// (Observe), works out what each committed version opens, updates, fulfils or cancels, keeps each obligation as a
// Task owned by the accountable organisation, and appends every change of state to a hash-chained, append-only
// ledger. A sweeper marks obligations past due as breached. Analysts read the ledger, its compliance figures (also
// as MeasureReports) and the public waiting times computed from the data.
//
// Processing runs after the commit, in the background, in batches gathered for at most a quarter of a second so
// that their database writes share round trips (the ledger's own reads first wait for what is queued). It is
// idempotent: an obligation's Task id is derived from its rule and trigger resource, each change of state is one new
// Task version (the version insert is the compare-and-swap that makes it happen once, even with several processes),
// and each ledger entry carries a deterministic key that the ledger stores once. A process that stops before
// processing what it committed leaves a mark that the next process to start (or any live process, once the mark's
// heartbeat stops) uses to process again.
//
// See https://hl7.org/fhir/R4/task.html for the Task that represents an obligation and
// https://hl7.org/fhir/R4/measurereport.html for the compliance reports.
package ledger
