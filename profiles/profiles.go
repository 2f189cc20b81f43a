// Package profiles holds Accord's implementation guide and the FHIR R4 base definitions it builds on, as data
// embedded in the binary: cmd passes FS to the packages that need it, so they stay free of file access.
//
// Each folder has a README saying where its files come from and under which licence.
package profiles

import "embed"

// FS is the embedded implementation guide: r4/ holds the official R4 (4.0.1) base definitions and core profiles
// Accord uses, ig/ the Accord implementation guide (profiles, extensions, CodeSystems, ValueSets,
// ImplementationGuide, package.json).
//
//go:embed r4 ig rules
var FS embed.FS
