package ledger

import (
	"slices"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// options returns the pack's variables plus extra.
func (p *Pack) options(extra ...fhirpath.Option) []fhirpath.Option {
	return append(slices.Clip(p.vars), extra...)
}

// holds reports whether x is exactly true on obj: an empty, false or non-Boolean result is false.
func (p *Pack) holds(x *fhirpath.Expr, obj fhir.Object, extra ...fhirpath.Option) (bool, error) {
	if x == nil {
		return true, nil
	}
	out, err := x.Evaluate(obj, p.options(extra...)...)
	if err != nil || len(out) != 1 {
		return false, err
	}
	b, ok := out[0].AsBool()
	return ok && b, nil
}

// references evaluates x on obj and returns the References it gives (a string becomes {"reference": s}).
func (p *Pack) references(x *fhirpath.Expr, obj fhir.Object) ([]fhir.Object, error) {
	if x == nil {
		return nil, nil
	}
	out, err := x.Evaluate(obj, p.options()...)
	if err != nil {
		return nil, err
	}
	var refs []fhir.Object
	for _, v := range out {
		if m, ok := v.Object(); ok && RefKey(m) != "" {
			refs = append(refs, m)
		} else if s, ok := v.AsString(); ok && s != "" {
			refs = append(refs, fhir.Object{"reference": s})
		}
	}
	return refs, nil
}

// reference is the first of references, or nil.
func (p *Pack) reference(x *fhirpath.Expr, obj fhir.Object) (fhir.Object, error) {
	refs, err := p.references(x, obj)
	if len(refs) == 0 {
		return nil, err
	}
	return refs[0], err
}

// instant evaluates x on obj and returns the first instant of its first date or date-time (a date, or a
// date-time without a zone, is read in UTC); ok is false when it gives none.
func (p *Pack) instant(x *fhirpath.Expr, obj fhir.Object, extra ...fhirpath.Option) (time.Time, bool, error) {
	out, err := x.Evaluate(obj, p.options(extra...)...)
	if err != nil {
		return time.Time{}, false, err
	}
	for _, v := range out {
		if t, ok := v.Temporal(); ok && t.Kind != fhirpath.KindTime {
			return t.Start(time.UTC).UTC(), true, nil
		}
	}
	return time.Time{}, false, nil
}

// text evaluates x on obj and returns its first string, or "".
func (p *Pack) text(x *fhirpath.Expr, obj fhir.Object) string {
	if x == nil {
		return ""
	}
	out, err := x.Evaluate(obj, p.options()...)
	if err != nil {
		return ""
	}
	for _, v := range out {
		if s, ok := v.AsString(); ok && s != "" {
			return s
		}
	}
	return ""
}

// triggerVar binds %trigger to the trigger resource.
func triggerVar(trigger fhir.Object) fhirpath.Option {
	return fhirpath.WithVariable("trigger", fhirpath.ElementValue(trigger, ""))
}

// patientVar binds %patient to the Patient an obligation is about (empty when unknown).
func patientVar(patient fhir.Object) fhirpath.Option {
	if patient == nil {
		return fhirpath.WithVariable("patient")
	}
	return fhirpath.WithVariable("patient", fhirpath.ElementValue(patient, ""))
}

// openedVar binds %opened to the instant an obligation opened.
func openedVar(t time.Time) fhirpath.Option {
	v, err := fhirpath.DateTimeValue(t.UTC().Format(fhir.InstantFormat))
	if err != nil {
		return fhirpath.WithVariable("opened")
	}
	return fhirpath.WithVariable("opened", v)
}
