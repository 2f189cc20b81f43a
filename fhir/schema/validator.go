package schema

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/accord-fhir/accord/fhir"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaURL is the location under which the R4 schema is registered with the compiler; nothing is fetched from it.
const schemaURL = "https://hl7.org/fhir/R4/fhir.schema.json"

// Validator checks resources against the official R4 JSON schema. It is safe for concurrent use.
type Validator struct {
	doc *document

	mu       sync.Mutex // serialises compilation: the compiler is not safe for concurrent use
	compiler *jsonschema.Compiler
	compiled sync.Map // resource type → compiledType
}

// compiledType is the compiled definition of one resource type, or why it could not be compiled.
type compiledType struct {
	schema *jsonschema.Schema
	err    error
}

// New returns a Validator for schemaJSON, the official R4 fhir.schema.json. It compiles nothing up front; it parses
// the schema document once, and each resource type's definition is compiled on first use.
// It returns an error when schemaJSON is not a JSON object with definitions, including ResourceList.
func New(schemaJSON []byte) (*Validator, error) {
	doc, err := parseDocument(schemaJSON)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	c.UseRegexpEngine(patternCache())
	for _, f := range formats() {
		c.RegisterFormat(f)
	}
	vocab, err := alignedVocabulary()
	if err != nil {
		return nil, err
	}
	c.RegisterVocabulary(vocab)
	if err := c.AddResource(schemaURL, doc.root); err != nil {
		return nil, fmt.Errorf("add R4 schema: %w", err)
	}
	return &Validator{doc: doc, compiler: c}, nil
}

// Validate checks obj (decoded by fhir.DecodeObject: numbers are json.Number) against the definition of its
// resourceType, and each nested resource against the definition of its own type. It returns every issue found,
// each of severity error and sorted by location, or nil when obj conforms. A missing or unknown resourceType is
// one issue; a definition that cannot be compiled (a broken schema document) is one issue of code exception.
func (v *Validator) Validate(obj fhir.Object) []fhir.Issue {
	var issues []fhir.Issue
	v.validate(obj, "", &issues)
	sortIssues(issues)
	return issues
}

// validate checks the resource obj found at FHIRPath at ("" for the outermost resource) and appends its issues.
func (v *Validator) validate(obj map[string]any, at string, issues *[]fhir.Issue) {
	rt, ok := v.resourceType(obj, at, issues)
	if !ok {
		return
	}
	if at == "" {
		at = rt
	}
	sch, err := v.schema(rt)
	if err != nil {
		*issues = append(*issues, issue(fhir.IssueException, at, "",
			"The R4 schema definition of %s cannot be used: %v", rt, err))
		return
	}
	if err := sch.Validate(obj); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			*issues = append(*issues, issue(fhir.IssueException, at, "", "Schema validation of %s failed: %v", at, err))
			return
		}
		r := reporter{datatypes: v.doc.datatypes, resource: obj, at: at, issues: issues}
		for _, leaf := range leaves(verr, nil) {
			r.report(leaf)
		}
	}
	v.nested(rt, obj, at, issues)
}

// resourceType returns the resourceType of obj when it names a resource type of the schema; otherwise it
// appends the one issue that says why and returns false.
func (v *Validator) resourceType(obj map[string]any, at string, issues *[]fhir.Issue) (string, bool) {
	where := at
	if where == "" {
		where = "The resource"
	}
	raw, present := obj["resourceType"]
	rt, isString := raw.(string)
	switch {
	case !present:
		*issues = append(*issues, issue(fhir.IssueRequired, at, "", "%s has no resourceType", where))
	case !isString:
		*issues = append(*issues, issue(fhir.IssueStructure, at, "", "%s has a resourceType that is not a JSON string", where))
	case !fhir.IsResourceType(rt) || v.doc.defs[rt] == nil:
		*issues = append(*issues, issue(fhir.IssueValue, at, fmt.Sprintf("resourceType %q is not an R4 resource type", rt),
			"%s has a resourceType that is not an R4 resource type", where))
	default:
		return rt, true
	}
	return "", false
}

// schema returns the compiled definition of resource type rt, compiling it on first use.
func (v *Validator) schema(rt string) (*jsonschema.Schema, error) {
	if c, ok := v.compiled.Load(rt); ok {
		return c.(compiledType).schema, c.(compiledType).err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.compiled.Load(rt); ok { // compiled while this call waited
		return c.(compiledType).schema, c.(compiledType).err
	}
	sch, err := v.compiler.Compile(schemaURL + definitionsPrefix + rt)
	if err != nil {
		err = fmt.Errorf("compile %s: %w", rt, err)
	}
	v.compiled.Store(rt, compiledType{schema: sch, err: err})
	return sch, err
}

// nested validates the resources nested in val, an instance of definition def at FHIRPath at, each against
// its own type. The schema itself accepts any object where a resource may appear.
func (v *Validator) nested(def string, val any, at string, issues *[]fhir.Issue) {
	obj, ok := val.(map[string]any)
	if !ok {
		return
	}
	for _, e := range v.doc.nesting[def] {
		child, ok := obj[e.prop]
		if !ok {
			continue
		}
		path := at + "." + e.prop
		if arr, ok := child.([]any); ok {
			for i, item := range arr {
				v.visit(e.target, item, path+"["+strconv.Itoa(i)+"]", issues)
			}
			continue
		}
		v.visit(e.target, child, path, issues)
	}
}

// visit validates val at FHIRPath at as a resource when target is ResourceList, or looks into it for nested
// resources otherwise. Values of the wrong JSON type are skipped: the schema has reported them.
func (v *Validator) visit(target string, val any, at string, issues *[]fhir.Issue) {
	if target != resourceList {
		v.nested(target, val, at, issues)
		return
	}
	if obj, ok := val.(map[string]any); ok {
		v.validate(obj, at, issues)
	}
}
