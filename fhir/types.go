package fhir

import (
	"regexp"
	"slices"
)

// IsResourceType reports whether name is an R4 resource type.
func IsResourceType(name string) bool {
	_, found := slices.BinarySearch(resourceTypes[:], name)
	return found
}

// ResourceTypes returns every R4 resource type, sorted.
func ResourceTypes() []string { return slices.Clone(resourceTypes[:]) }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// ValidID reports whether id matches the R4 id datatype: 1 to 64 of A-Z, a-z, 0-9, '-' and '.'.
// See https://hl7.org/fhir/R4/datatypes.html#id.
func ValidID(id string) bool { return idPattern.MatchString(id) }
