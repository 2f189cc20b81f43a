// Package imports holds the test that keeps Accord's layers pointing one way (cmd → api → internal → fhir) and
// each outside dependency in its one package; see style.md, "Import rules, checked by a test".
package imports
