// Package jsonpatch applies JSON Patch documents (RFC 6902) to decoded FHIR resources, for the FHIR patch
// interaction. See https://hl7.org/fhir/R4/http.html#patch and https://www.rfc-editor.org/rfc/rfc6902.
package jsonpatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

type operation struct {
	Op    string           `json:"op"`
	Path  *string          `json:"path"`
	From  *string          `json:"from"`
	Value *json.RawMessage `json:"value"`
}

// Apply applies patch to doc and returns the patched document; doc itself is not changed. A malformed patch, a
// path that does not exist or a failed "test" returns an *fhir.Error naming the operation.
func Apply(doc fhir.Object, patch []byte, maxDepth int) (fhir.Object, error) {
	var ops []operation
	dec := json.NewDecoder(bytes.NewReader(patch))
	if err := dec.Decode(&ops); err != nil {
		return nil, fhir.Errorf(fhir.IssueStructure, "", "the JSON Patch must be an array of operations: %v", err)
	}
	var root any = deepCopy(doc)
	for i, op := range ops {
		var err error
		if root, err = apply(root, op, maxDepth); err != nil {
			return nil, fhir.Errorf(fhir.IssueInvalid, "", "JSON Patch operation %d (%s): %v", i, op.Op, err)
		}
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fhir.Errorf(fhir.IssueInvalid, "", "the JSON Patch replaced the resource with a non-object")
	}
	return obj, nil
}

func apply(root any, op operation, maxDepth int) (any, error) {
	if op.Path == nil {
		return nil, fmt.Errorf("missing path")
	}
	path, err := parsePointer(*op.Path)
	if err != nil {
		return nil, err
	}
	value := func() (any, error) {
		if op.Value == nil {
			return nil, fmt.Errorf("missing value")
		}
		obj, err := fhir.DecodeObject(append(append([]byte(`{"v":`), *op.Value...), '}'), maxDepth)
		if err != nil {
			return nil, fmt.Errorf("invalid value")
		}
		return obj["v"], nil
	}
	switch op.Op {
	case "add":
		v, err := value()
		if err != nil {
			return nil, err
		}
		return add(root, path, v)
	case "remove":
		_, r, err := remove(root, path)
		return r, err
	case "replace":
		v, err := value()
		if err != nil {
			return nil, err
		}
		if _, err := get(root, path); err != nil {
			return nil, err
		}
		if len(path) == 0 {
			return v, nil
		}
		_, r, err := remove(root, path)
		if err != nil {
			return nil, err
		}
		return add(r, path, v)
	case "move", "copy":
		if op.From == nil {
			return nil, fmt.Errorf("missing from")
		}
		from, err := parsePointer(*op.From)
		if err != nil {
			return nil, err
		}
		v, err := get(root, from)
		if err != nil {
			return nil, err
		}
		if op.Op == "move" {
			if isPrefix(from, path) && len(from) < len(path) {
				return nil, fmt.Errorf("cannot move a value into itself")
			}
			if _, root, err = remove(root, from); err != nil {
				return nil, err
			}
		} else {
			v = deepCopy(v)
		}
		return add(root, path, v)
	case "test":
		v, err := value()
		if err != nil {
			return nil, err
		}
		got, err := get(root, path)
		if err != nil {
			return nil, err
		}
		if !equal(got, v) {
			return nil, fmt.Errorf("test failed at %s", *op.Path)
		}
		return root, nil
	}
	return nil, fmt.Errorf("unknown op %q", op.Op)
}

func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q is not a JSON pointer", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func get(node any, path []string) (any, error) {
	for _, key := range path {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[key]
			if !ok {
				return nil, fmt.Errorf("no member %q", key)
			}
			node = v
		case []any:
			i, err := index(key, len(n)-1)
			if err != nil {
				return nil, err
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("cannot descend into a scalar at %q", key)
		}
	}
	return node, nil
}

func add(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
		return root, nil
	case []any:
		i := len(p)
		if last != "-" {
			if i, err = index(last, len(p)); err != nil {
				return nil, err
			}
		}
		grown := append(p[:i:i], append([]any{v}, p[i:]...)...)
		return setAt(root, path[:len(path)-1], grown)
	}
	return nil, fmt.Errorf("cannot add into a scalar")
}

func remove(root any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, fmt.Errorf("cannot remove the whole resource")
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[last]
		if !ok {
			return nil, nil, fmt.Errorf("no member %q", last)
		}
		delete(p, last)
		return v, root, nil
	case []any:
		i, err := index(last, len(p)-1)
		if err != nil {
			return nil, nil, err
		}
		v := p[i]
		shrunk := append(p[:i:i], p[i+1:]...)
		r, err := setAt(root, path[:len(path)-1], shrunk)
		return v, r, err
	}
	return nil, nil, fmt.Errorf("cannot remove from a scalar")
}

// setAt replaces the value at path (an array that changed length) and returns the root.
func setAt(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
	case []any:
		i, err := index(last, len(p)-1)
		if err != nil {
			return nil, err
		}
		p[i] = v
	}
	return root, nil
}

func index(s string, max int) (int, error) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i > max || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("array index %q out of range", s)
	}
	return i, nil
}

func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equal(a, b any) bool {
	na, aok := a.(json.Number)
	nb, bok := b.(json.Number)
	if aok && bok {
		fa, _ := na.Float64()
		fb, _ := nb.Float64()
		return fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
