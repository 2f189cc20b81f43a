package search

import (
	"bufio"
	_ "embed"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// summaryTable lists the summary and mandatory top-level elements of each resource type.
//
//go:generate go run ./internal/summarygen -defs ../../profiles/r4/structuredefinitions.json.gz -o summary.txt
//go:embed summary.txt
var summaryTable string

// elementFlags are the summary (s) and mandatory (m) flags of the top-level elements of one type, by element name
// (a choice element as value[x]).
type elementFlags map[string]string

// elements reads summaryTable into a lookup by type; the table is generated, so a malformed line is skipped.
func elements() map[string]elementFlags {
	out := make(map[string]elementFlags, 150)
	sc := bufio.NewScanner(strings.NewReader(summaryTable))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if out[f[0]] == nil {
			out[f[0]] = elementFlags{}
		}
		out[f[0]][f[1]] = f[2]
	}
	return out
}

// flag returns the flags of the element a JSON key names (valueQuantity is value[x]; _status is status).
func (ef elementFlags) flag(key string) string {
	key = strings.TrimPrefix(key, "_")
	if f, ok := ef[key]; ok {
		return f
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] >= 'A' && key[i] <= 'Z' {
			if f, ok := ef[key[:i]+"[x]"]; ok {
				return f
			}
		}
	}
	return ""
}

// subsetted is the tag R4 requires on a resource that _summary or _elements has cut.
var subsetted = map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED", "display": "subsetted"}

// Summarizer cuts resources as _summary and _elements ask. It is immutable, so safe for concurrent use.
type Summarizer struct {
	flags map[string]elementFlags
}

// NewSummarizer returns a Summarizer over the R4 element table.
func NewSummarizer() *Summarizer { return &Summarizer{flags: elements()} }

// Summarize returns obj cut as summary asks ("true", "text", "data"; "" or "false" leave it whole) and, when
// elements is not empty, to those top-level elements and the mandatory ones. resourceType, id and meta always
// stay; a cut resource gets the SUBSETTED tag in meta.tag. obj is not modified; the result may share its values.
// See https://hl7.org/fhir/R4/search.html#summary and #elements.
func (s *Summarizer) Summarize(obj fhir.Object, summary string, elements []string) fhir.Object {
	if (summary == "" || summary == "false") && len(elements) == 0 {
		return obj
	}
	ef := s.flags[fhir.ResourceType(obj)]
	out := make(fhir.Object, len(obj))
	cut := false
	for k, v := range obj {
		if s.keep(ef, k, summary, elements) {
			out[k] = v
		} else {
			cut = true
		}
	}
	if cut {
		markSubsetted(out)
	}
	return out
}

func (s *Summarizer) keep(ef elementFlags, key, summary string, elements []string) bool {
	switch key {
	case "resourceType", "id", "meta":
		return true
	}
	flag := ef.flag(key)
	mandatory := strings.Contains(flag, "m")
	if len(elements) > 0 {
		name := strings.TrimPrefix(key, "_")
		for _, e := range elements {
			if e == name || (strings.HasPrefix(name, e) && len(name) > len(e) && name[len(e)] >= 'A' && name[len(e)] <= 'Z' && ef[e+"[x]"] != "") {
				return true
			}
		}
		return mandatory
	}
	switch summary {
	case "true":
		return strings.Contains(flag, "s") || mandatory
	case "text":
		return key == "text" || mandatory
	case "data":
		return key != "text"
	}
	return true
}

// markSubsetted adds the SUBSETTED tag to a copy of obj's meta.
func markSubsetted(obj fhir.Object) {
	meta := fhir.Object{}
	if m, ok := obj["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(append([]any(nil), tags...), subsetted)
	obj["meta"] = meta
}
