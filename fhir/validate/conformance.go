package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// resource is the part of a conformance resource the validator reads, decoded in one pass: the fields of
// StructureDefinition, ValueSet, CodeSystem and Bundle do not clash, so one struct holds any of them.
// See https://hl7.org/fhir/R4/structuredefinition.html, valueset.html and codesystem.html.
type resource struct {
	ResourceType string         `json:"resourceType"`
	URL          string         `json:"url"`
	Version      string         `json:"version"`
	Extension    []extensionDef `json:"extension"`

	// StructureDefinition
	Kind           string       `json:"kind"`
	Abstract       bool         `json:"abstract"`
	Type           string       `json:"type"`
	BaseDefinition string       `json:"baseDefinition"`
	Derivation     string       `json:"derivation"`
	Snapshot       *elementList `json:"snapshot"`
	Differential   *elementList `json:"differential"`

	// ValueSet
	Compose *compose `json:"compose"`

	// CodeSystem
	Content string    `json:"content"`
	Concept []concept `json:"concept"`

	// Bundle
	Entry []struct {
		Resource *resource `json:"resource"`
	} `json:"entry"`
}

type elementList struct {
	Element []elementDefinition `json:"element"`
}

// elementDefinition is the part of an ElementDefinition the validator uses.
// See https://hl7.org/fhir/R4/elementdefinition.html.
type elementDefinition struct {
	plainElement
	// Fixed and Pattern hold fixed[x] and pattern[x] (decoded with json.Number), FixedType and PatternType the
	// type suffix ("Code", "CodeableConcept"); nil when absent.
	Fixed, Pattern         any
	FixedType, PatternType string
}

type plainElement struct {
	ID               string          `json:"id"`
	Path             string          `json:"path"`
	SliceName        string          `json:"sliceName"`
	Slicing          *slicingDef     `json:"slicing"`
	Min              *int            `json:"min"`
	Max              string          `json:"max"`
	ContentReference string          `json:"contentReference"`
	Type             []typeRef       `json:"type"`
	Binding          *binding        `json:"binding"`
	Constraint       []constraintDef `json:"constraint"`
	Extension        []extensionDef  `json:"extension"`
}

// slicingDef is ElementDefinition.slicing. See https://hl7.org/fhir/R4/profiling.html#slicing.
type slicingDef struct {
	Discriminator []struct {
		Type string `json:"type"`
		Path string `json:"path"`
	} `json:"discriminator"`
	Rules   string `json:"rules"`
	Ordered bool   `json:"ordered"`
}

// extensionDef is the part of an extension on a definition the validator reads: Accord's consensus-clause
// (valueCode), constraint-location (valueString) and applies-when (valueExpression), and HL7's
// elementdefinition-bestpractice (valueBoolean).
type extensionDef struct {
	URL             string `json:"url"`
	ValueCode       string `json:"valueCode"`
	ValueString     string `json:"valueString"`
	ValueBoolean    bool   `json:"valueBoolean"`
	ValueExpression *struct {
		Language   string `json:"language"`
		Expression string `json:"expression"`
	} `json:"valueExpression"`
}

type typeRef struct {
	Code    string   `json:"code"`
	Profile []string `json:"profile"`
}

type binding struct {
	Strength string `json:"strength"`
	ValueSet string `json:"valueSet"`
}

type constraintDef struct {
	Key        string         `json:"key"`
	Severity   string         `json:"severity"`
	Human      string         `json:"human"`
	Expression string         `json:"expression"`
	Source     string         `json:"source"`
	Extension  []extensionDef `json:"extension"`
}

// extensionCode returns the valueCode of the extension url in exts, "" when absent.
func extensionCode(exts []extensionDef, url string) string {
	for _, e := range exts {
		if e.URL == url {
			return e.ValueCode
		}
	}
	return ""
}

// extensionString returns the valueString of the extension url in exts, "" when absent.
func extensionString(exts []extensionDef, url string) string {
	for _, e := range exts {
		if e.URL == url {
			return e.ValueString
		}
	}
	return ""
}

// UnmarshalJSON decodes an ElementDefinition, collecting fixed[x] and pattern[x], whose JSON names vary with
// their type. The second pass runs only for the rare elements that have one.
func (e *elementDefinition) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &e.plainElement); err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(`"fixed`)) && !bytes.Contains(data, []byte(`"pattern`)) {
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for k, raw := range all {
		for _, prefix := range []string{"fixed", "pattern"} {
			suffix, ok := strings.CutPrefix(k, prefix)
			if !ok || suffix == "" || suffix[0] < 'A' || suffix[0] > 'Z' {
				continue
			}
			v, err := decodeValue(raw)
			if err != nil {
				return fmt.Errorf("element %s %s: %w", e.Path, k, err)
			}
			if prefix == "fixed" {
				e.Fixed, e.FixedType = v, suffix
			} else {
				e.Pattern, e.PatternType = v, suffix
			}
		}
	}
	return nil
}

// decodeValue decodes JSON as fhir.DecodeObject does for instances (numbers as json.Number), so that fixed and
// pattern values compare with instance values directly.
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type compose struct {
	Include []composeRule `json:"include"`
	Exclude []composeRule `json:"exclude"`
}

type composeRule struct {
	System   string                  `json:"system"`
	Concept  []struct{ Code string } `json:"concept"`
	Filter   []filter                `json:"filter"`
	ValueSet []string                `json:"valueSet"`
}

type filter struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}

type concept struct {
	Code     string            `json:"code"`
	Property []conceptProperty `json:"property"`
	Concept  []concept         `json:"concept"`
}

type conceptProperty struct {
	Code        string                 `json:"code"`
	ValueCode   string                 `json:"valueCode"`
	ValueString string                 `json:"valueString"`
	ValueBool   *bool                  `json:"valueBoolean"`
	ValueCoding *struct{ Code string } `json:"valueCoding"`
}
