package schema

import (
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/message"
)

// alignedKeyword is the schema keyword, added by prepare.go to the definitions that have repeating primitive
// elements, listing those elements (["given", "prefix"] on HumanName). In FHIR JSON the values of a repeating
// primitive are one array ("given") and their ids and extensions another ("_given"), aligned by index: null
// stands for what an item lacks. So the arrays have the same length, and no index is null in both (an item with
// neither value nor extensions); without "_given", no value is null. The schema lets null items through in these
// arrays only, and this keyword checks how they pair.
// See https://hl7.org/fhir/R4/json.html#primitive.
const alignedKeyword = "alignedArrays"

// alignedVocabURL names the vocabulary of alignedKeyword; nothing is fetched from it.
const alignedVocabURL = "https://accord-fhir.github.io/schema/aligned-arrays"

// alignedVocabulary returns the vocabulary that compiles alignedKeyword.
func alignedVocabulary() (*jsonschema.Vocabulary, error) {
	meta := map[string]any{"properties": map[string]any{
		alignedKeyword: map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(alignedVocabURL, meta); err != nil {
		return nil, fmt.Errorf("add the %s vocabulary: %w", alignedKeyword, err)
	}
	sch, err := c.Compile(alignedVocabURL)
	if err != nil {
		return nil, fmt.Errorf("compile the %s vocabulary: %w", alignedKeyword, err)
	}
	return &jsonschema.Vocabulary{URL: alignedVocabURL, Schema: sch, Compile: compileAligned}, nil
}

func compileAligned(_ *jsonschema.CompilerContext, obj map[string]any) (jsonschema.SchemaExt, error) {
	list, ok := obj[alignedKeyword].([]any)
	if !ok {
		return nil, nil
	}
	a := aligned{props: make([]string, 0, len(list))}
	for _, p := range list {
		if s, ok := p.(string); ok {
			a.props = append(a.props, s)
		}
	}
	return a, nil
}

// aligned checks the pairs of arrays of the repeating primitive elements props in an object.
type aligned struct {
	props []string
}

// Validate adds a misaligned error for each pair of arrays of different lengths and each index where both are
// null (or the only array is). Values that are not arrays are left to the type keyword.
func (a aligned) Validate(ctx *jsonschema.ValidatorContext, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, p := range a.props {
		rawValues, hasValues := obj[p]
		rawExts, hasExts := obj["_"+p]
		values, valuesOK := rawValues.([]any)
		exts, extsOK := rawExts.([]any)
		if (hasValues && !valuesOK) || (hasExts && !extsOK) || (!hasValues && !hasExts) {
			continue
		}
		if hasValues && hasExts && len(values) != len(exts) {
			ctx.AddError(&misaligned{prop: p, index: -1, values: len(values), extensions: len(exts)})
			continue
		}
		for i := range max(len(values), len(exts)) {
			if (!hasValues || values[i] == nil) && (!hasExts || exts[i] == nil) {
				ctx.AddError(&misaligned{prop: p, index: i, hasValues: hasValues, hasExtensions: hasExts})
			}
		}
	}
}

// misaligned is the error of alignedKeyword for the element prop of the object at the error's location: the
// item at index has neither value nor extensions, or (index -1) the arrays have different lengths.
type misaligned struct {
	prop                     string
	index                    int
	values, extensions       int  // the lengths of the two arrays, when they differ
	hasValues, hasExtensions bool // which arrays the object has, for an item
}

// KeywordPath returns the keyword, as the schema library's errors do.
func (*misaligned) KeywordPath() []string { return []string{alignedKeyword} }

// LocalizedString says what is wrong, for the library's error text.
func (k *misaligned) LocalizedString(*message.Printer) string {
	_, details := k.describe("")
	return details
}

// describe returns the FHIRPath of the element that is wrong, in the object at FHIRPath at, and what is wrong.
func (k *misaligned) describe(at string) (expression, details string) {
	elem := at + "." + k.prop
	values, exts := strings.TrimPrefix(elem, "."), strings.TrimPrefix(at+"._"+k.prop, ".")
	if k.index < 0 {
		return elem, fmt.Sprintf("%s has %d items and %s has %d: the two arrays must have the same length, "+
			"with null for the value or the extensions an item lacks", values, k.values, exts, k.extensions)
	}
	item := fmt.Sprintf("%s[%d]", elem, k.index)
	switch {
	case !k.hasExtensions:
		return item, fmt.Sprintf("%s[%d] must not be null: null stands in a repeating primitive only for an item "+
			"whose extensions are in %s at the same index", values, k.index, exts)
	case !k.hasValues:
		return item, fmt.Sprintf("%s[%d] has neither a value nor extensions: %s holds null at index %d",
			values, k.index, exts, k.index)
	}
	return item, fmt.Sprintf("%s[%d] has neither a value nor extensions: %s and %s both hold null at index %d",
		values, k.index, values, exts, k.index)
}
