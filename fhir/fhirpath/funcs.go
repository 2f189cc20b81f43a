package fhirpath

import (
	"slices"
)

// funcDef is a FHIRPath function: its number of arguments, whether the first is a type name (is, as, ofType),
// and its implementation, which gets the input collection and the call with its unevaluated arguments.
type funcDef struct {
	min, max int
	typeArg  bool
	fn       func(c *evalCtx, in []Value, x *call) ([]Value, error)
}

// newFunctions returns the function table of an Engine: FHIRPath N1 (https://hl7.org/fhirpath/N1/#functions) and
// the FHIR additions of R4 (https://hl7.org/fhir/R4/fhirpath.html#functions).
func newFunctions() map[string]*funcDef {
	f := map[string]*funcDef{
		// existence
		"empty":      {0, 0, false, fnEmpty},
		"exists":     {0, 1, false, fnExists},
		"all":        {1, 1, false, fnAll},
		"allTrue":    {0, 0, false, boolAggregate(true, true)},
		"anyTrue":    {0, 0, false, boolAggregate(false, true)},
		"allFalse":   {0, 0, false, boolAggregate(true, false)},
		"anyFalse":   {0, 0, false, boolAggregate(false, false)},
		"subsetOf":   {1, 1, false, fnSubsetOf},
		"supersetOf": {1, 1, false, fnSupersetOf},
		"count":      {0, 0, false, fnCount},
		"distinct":   {0, 0, false, fnDistinct},
		"isDistinct": {0, 0, false, fnIsDistinct},
		"not":        {0, 0, false, fnNot},
		// filtering and projection
		"where":  {1, 1, false, fnWhere},
		"select": {1, 1, false, fnSelect},
		"repeat": {1, 1, false, fnRepeat},
		"ofType": {1, 1, true, fnOfType},
		"is":     {1, 1, true, fnIs},
		"as":     {1, 1, true, fnAs},
		// subsetting and combining
		"single":    {0, 0, false, fnSingle},
		"first":     {0, 0, false, fnFirst},
		"last":      {0, 0, false, fnLast},
		"tail":      {0, 0, false, fnTail},
		"skip":      {1, 1, false, fnSkip},
		"take":      {1, 1, false, fnTake},
		"intersect": {1, 1, false, fnIntersect},
		"exclude":   {1, 1, false, fnExclude},
		"union":     {1, 1, false, fnUnion},
		"combine":   {1, 1, false, fnCombine},
		// conversion
		"iif":                {2, 3, false, fnIif},
		"toBoolean":          {0, 0, false, convert(toBoolean)},
		"convertsToBoolean":  {0, 0, false, convertsTo(toBoolean)},
		"toInteger":          {0, 0, false, convert(toInteger)},
		"convertsToInteger":  {0, 0, false, convertsTo(toInteger)},
		"toDecimal":          {0, 0, false, convert(toDecimalValue)},
		"convertsToDecimal":  {0, 0, false, convertsTo(toDecimalValue)},
		"toString":           {0, 0, false, convert(toStringValue)},
		"convertsToString":   {0, 0, false, convertsTo(toStringValue)},
		"toDate":             {0, 0, false, convert(toTemporal(KindDate))},
		"convertsToDate":     {0, 0, false, convertsTo(toTemporal(KindDate))},
		"toDateTime":         {0, 0, false, convert(toTemporal(KindDateTime))},
		"convertsToDateTime": {0, 0, false, convertsTo(toTemporal(KindDateTime))},
		"toTime":             {0, 0, false, convert(toTemporal(KindTime))},
		"convertsToTime":     {0, 0, false, convertsTo(toTemporal(KindTime))},
		"toQuantity":         {0, 1, false, fnToQuantity},
		"convertsToQuantity": {0, 1, false, fnConvertsToQuantity},
		// strings
		"indexOf":        {1, 1, false, fnIndexOf},
		"substring":      {1, 2, false, fnSubstring},
		"startsWith":     {1, 1, false, stringTest(hasPrefix)},
		"endsWith":       {1, 1, false, stringTest(hasSuffix)},
		"contains":       {1, 1, false, stringTest(containsString)},
		"upper":          {0, 0, false, stringMap(upper)},
		"lower":          {0, 0, false, stringMap(lower)},
		"trim":           {0, 0, false, stringMap(trim)},
		"replace":        {2, 2, false, fnReplace},
		"matches":        {1, 1, false, fnMatches},
		"replaceMatches": {2, 2, false, fnReplaceMatches},
		"length":         {0, 0, false, fnLength},
		"toChars":        {0, 0, false, fnToChars},
		"split":          {1, 1, false, fnSplit},
		"join":           {0, 1, false, fnJoin},
		"encode":         {1, 1, false, fnEncode},
		"decode":         {1, 1, false, fnDecode},
		// math
		"abs":      {0, 0, false, fnAbs},
		"ceiling":  {0, 0, false, rounding(roundCeiling)},
		"floor":    {0, 0, false, rounding(roundFloor)},
		"truncate": {0, 0, false, rounding(roundTruncate)},
		"round":    {0, 1, false, fnRound},
		"exp":      {0, 0, false, floatMath(mathExp)},
		"ln":       {0, 0, false, floatMath(mathLn)},
		"sqrt":     {0, 0, false, floatMath(mathSqrt)},
		"log":      {1, 1, false, fnLog},
		"power":    {1, 1, false, fnPower},
		// tree navigation
		"children":    {0, 0, false, fnChildren},
		"descendants": {0, 0, false, fnDescendants},
		// utility
		"trace":     {1, 2, false, fnTrace},
		"now":       {0, 0, false, fnNow},
		"today":     {0, 0, false, fnToday},
		"timeOfDay": {0, 0, false, fnTimeOfDay},
		"aggregate": {1, 2, false, fnAggregate},
		// FHIR
		"extension":  {1, 1, false, fnExtension},
		"hasValue":   {0, 0, false, fnHasValue},
		"getValue":   {0, 0, false, fnGetValue},
		"resolve":    {0, 0, false, fnResolve},
		"htmlChecks": {0, 0, false, fnHTMLChecks},
		"memberOf":   {1, 1, false, unsupported("memberOf() needs a terminology service")},
		"conformsTo": {1, 1, false, unsupported("conformsTo() needs the validator")},
	}
	f["htmlchecks"] = f["htmlChecks"]
	return f
}

func unsupported(msg string) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(*evalCtx, []Value, *call) ([]Value, error) { return nil, errorf("%s", msg) }
}

// --- argument helpers ------------------------------------------------------------------------------------------

// arg evaluates argument i on the function's input, as fhirpath.js does for value arguments.
func (c *evalCtx) arg(x *call, i int, in []Value) ([]Value, error) {
	v, err := x.args[i].eval(c, in)
	return withValues(v), err
}

// argAtThis evaluates argument i on $this: the collection arguments of union(), combine(), subsetOf() …
func (c *evalCtx) argAtThis(x *call, i int) ([]Value, error) {
	v, err := x.args[i].eval(c, c.this)
	return withValues(v), err
}

// argString evaluates argument i to one String; ok is false when it is empty.
func (c *evalCtx) argString(x *call, i int, in []Value) (string, bool, error) {
	v, err := c.arg(x, i, in)
	if err != nil || len(v) == 0 {
		return "", false, err
	}
	if len(v) > 1 || v[0].kind != KindString {
		return "", false, errorf("%s() argument %d must be one String", x.name, i+1)
	}
	return v[0].str, true, nil
}

// argInt evaluates argument i to one Integer; ok is false when it is empty.
func (c *evalCtx) argInt(x *call, i int, in []Value) (int64, bool, error) {
	v, err := c.arg(x, i, in)
	if err != nil || len(v) == 0 {
		return 0, false, err
	}
	n, ok := singleInt(v)
	if !ok {
		return 0, false, errorf("%s() argument %d must be one Integer", x.name, i+1)
	}
	return n, true, nil
}

// withItem evaluates e with $this the item i of in (and $index i), as where(), select(), all() … do.
func (c *evalCtx) withItem(e expr, in []Value, i int) ([]Value, error) {
	saveThis, saveIndex := c.this, c.index
	c.this, c.index = in[i:i+1:i+1], i
	r, err := e.eval(c, c.this)
	c.this, c.index = saveThis, saveIndex
	return r, err
}

// single returns the one item of in, or an error naming the function when there are more.
func single(name string, in []Value) (*Value, error) {
	in = withValues(in)
	switch len(in) {
	case 0:
		return nil, nil
	case 1:
		return &in[0], nil
	}
	return nil, errorf("%s() needs one item, not %d", name, len(in))
}

// --- existence -------------------------------------------------------------------------------------------------

func fnEmpty(_ *evalCtx, in []Value, _ *call) ([]Value, error) { return boolColl(len(in) == 0), nil }

func fnExists(c *evalCtx, in []Value, x *call) ([]Value, error) {
	if len(x.args) == 0 {
		return boolColl(len(in) > 0), nil
	}
	for i := range in {
		r, err := c.withItem(x.args[0], in, i)
		if err != nil {
			return nil, err
		}
		if b, known, err := truth(r); err != nil {
			return nil, err
		} else if known && b {
			return boolColl(true), nil
		}
	}
	return boolColl(false), nil
}

func fnAll(c *evalCtx, in []Value, x *call) ([]Value, error) {
	for i := range in {
		r, err := c.withItem(x.args[0], in, i)
		if err != nil {
			return nil, err
		}
		if b, known, err := truth(r); err != nil {
			return nil, err
		} else if !known || !b {
			return boolColl(false), nil
		}
	}
	return boolColl(true), nil
}

// boolAggregate implements allTrue (all, true), anyTrue (any, true), allFalse (all, false), anyFalse.
func boolAggregate(all, want bool) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		for i := range in {
			if in[i].kind != KindBoolean {
				return nil, errorf("%s() needs Booleans, not %s", x.name, in[i].kind)
			}
			match := (in[i].num != 0) == want
			if all && !match {
				return boolColl(false), nil
			}
			if !all && match {
				return boolColl(true), nil
			}
		}
		return boolColl(all), nil
	}
}

func fnSubsetOf(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	return boolColl(subset(in, other)), nil
}

func fnSupersetOf(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	return boolColl(subset(other, in)), nil
}

func subset(a, b []Value) bool {
	for i := range a {
		if !containsValue(b, &a[i]) {
			return false
		}
	}
	return true
}

func fnCount(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	return []Value{IntegerValue(int64(len(in)))}, nil
}

func fnDistinct(_ *evalCtx, in []Value, _ *call) ([]Value, error) { return union(in, nil), nil }

func fnIsDistinct(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	return boolColl(len(union(in, nil)) == len(in)), nil
}

func fnNot(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	b, known, err := truth(in)
	if err != nil || !known {
		return nil, err
	}
	return boolColl(!b), nil
}

// --- filtering and projection ------------------------------------------------------------------------------------

func fnWhere(c *evalCtx, in []Value, x *call) ([]Value, error) {
	var out []Value
	for i := range in {
		r, err := c.withItem(x.args[0], in, i)
		if err != nil {
			return nil, err
		}
		if b, known, err := truth(r); err != nil {
			return nil, err
		} else if known && b {
			out = append(out, in[i])
		}
	}
	return out, nil
}

func fnSelect(c *evalCtx, in []Value, x *call) ([]Value, error) {
	var out []Value
	for i := range in {
		r, err := c.withItem(x.args[0], in, i)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

func fnRepeat(c *evalCtx, in []Value, x *call) ([]Value, error) {
	var out []Value
	queue := in
	for len(queue) > 0 {
		var next []Value
		for i := range queue {
			r, err := c.withItem(x.args[0], queue, i)
			if err != nil {
				return nil, err
			}
			for j := range r {
				if !containsValue(out, &r[j]) {
					out = append(out, r[j])
					next = append(next, r[j])
				}
			}
		}
		queue = next
	}
	return out, nil
}

func fnOfType(c *evalCtx, in []Value, x *call) ([]Value, error) { return c.ofType(in, x.typ), nil }

func fnIs(c *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := single("is", in)
	if v == nil || err != nil {
		return nil, err
	}
	return boolColl(c.isType(v, x.typ)), nil
}

func fnAs(c *evalCtx, in []Value, x *call) ([]Value, error) { return c.ofType(in, x.typ), nil }

// --- subsetting and combining ----------------------------------------------------------------------------------

func fnSingle(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	if len(in) > 1 {
		return nil, errorf("single() needs at most one item, not %d", len(in))
	}
	return in, nil
}

func fnFirst(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[:1:1], nil
}

func fnLast(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[len(in)-1:], nil
}

func fnTail(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	if len(in) < 2 {
		return nil, nil
	}
	return in[1:], nil
}

func fnSkip(c *evalCtx, in []Value, x *call) ([]Value, error) {
	n, ok, err := c.argInt(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	if n <= 0 {
		return in, nil
	}
	if n >= int64(len(in)) {
		return nil, nil
	}
	return in[n:], nil
}

func fnTake(c *evalCtx, in []Value, x *call) ([]Value, error) {
	n, ok, err := c.argInt(x, 0, in)
	if err != nil || !ok || n <= 0 {
		return nil, err
	}
	if n >= int64(len(in)) {
		return in, nil
	}
	return in[:n:n], nil
}

func fnIntersect(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	var out []Value
	for i := range in {
		if containsValue(other, &in[i]) && !containsValue(out, &in[i]) {
			out = append(out, in[i])
		}
	}
	return out, nil
}

func fnExclude(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	var out []Value
	for i := range in {
		if !containsValue(other, &in[i]) {
			out = append(out, in[i])
		}
	}
	return out, nil
}

func fnUnion(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	return union(in, other), nil
}

func fnCombine(c *evalCtx, in []Value, x *call) ([]Value, error) {
	other, err := c.argAtThis(x, 0)
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(in), other...), nil
}

// --- utility ---------------------------------------------------------------------------------------------------

func fnIif(c *evalCtx, in []Value, x *call) ([]Value, error) {
	saveThis := c.this
	c.this = in
	defer func() { c.this = saveThis }()
	cond, err := x.args[0].eval(c, in)
	if err != nil {
		return nil, err
	}
	b, known, err := truth(cond)
	if err != nil {
		return nil, err
	}
	if known && b {
		return x.args[1].eval(c, in)
	}
	if len(x.args) == 3 {
		return x.args[2].eval(c, in)
	}
	return nil, nil
}

// fnTrace returns its input. Accord does not log traces: they would carry resource content.
func fnTrace(c *evalCtx, in []Value, x *call) ([]Value, error) {
	if _, _, err := c.argString(x, 0, in); err != nil {
		return nil, err
	}
	return in, nil
}

func fnAggregate(c *evalCtx, in []Value, x *call) ([]Value, error) {
	var total []Value
	if len(x.args) == 2 {
		var err error
		if total, err = c.argAtThis(x, 1); err != nil {
			return nil, err
		}
	}
	saveTotal := c.total
	defer func() { c.total = saveTotal }()
	for i := range in {
		c.total = total
		r, err := c.withItem(x.args[0], in, i)
		if err != nil {
			return nil, err
		}
		total = r
	}
	return total, nil
}

func fnChildren(c *evalCtx, in []Value, _ *call) ([]Value, error) {
	var out []Value
	for i := range in {
		out = c.children(out, &in[i])
	}
	return out, nil
}

// fnDescendants returns the children, then their children, level by level, as fhirpath.js does.
func fnDescendants(c *evalCtx, in []Value, _ *call) ([]Value, error) {
	var out []Value
	level := in
	for len(level) > 0 {
		var next []Value
		for i := range level {
			next = c.children(next, &level[i])
		}
		out = append(out, next...)
		level = next
	}
	return out, nil
}

// children appends the child elements of v, in the order of their JSON names.
func (c *evalCtx) children(out []Value, v *Value) []Value {
	if v.obj == nil {
		return out
	}
	if v.kind != KindElement && v.kind != KindQuantity {
		out = c.primitiveChild(out, v, "id")
		return c.primitiveChild(out, v, "extension")
	}
	keys := make([]string, 0, len(v.obj))
	isResource := c.m.isResource(v.typ)
	for k := range v.obj {
		if k == "resourceType" && isResource {
			continue
		}
		if k[0] == '_' {
			if _, ok := v.obj[k[1:]]; ok {
				continue
			}
			k = k[1:]
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = c.childByKey(out, v, k)
	}
	return out
}

// childByKey appends the value of JSON name key of v, typed by the model (key may name a choice type).
func (c *evalCtx) childByKey(out []Value, v *Value, key string) []Value {
	if d := c.m.child(v.path, v.typ, key); d != nil && !d.choice {
		return c.appendJSON(out, v.obj[key], v.obj[d.extKey], d.types[0], d)
	}
	if ch, ok := c.m.choice(v.path, v.typ, key); ok {
		return c.appendJSON(out, v.obj[key], v.obj["_"+key], ch.typ, ch.def)
	}
	return c.appendJSON(out, v.obj[key], v.obj["_"+key], "", nil)
}
