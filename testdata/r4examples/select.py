#!/usr/bin/env python3
"""Select the official R4 examples committed in testdata/r4examples.

Not run by the tests: run it by hand to refresh the selection, from the repository root:

    python3 testdata/r4examples/select.py /tmp/npm/node_modules/hl7.fhir.r4.examples

It picks at most 3 examples per resource type (every type with an example), each at most 200 KB, preferring
diversity (after the FORCED ones): first the examples that bring a feature the set does not have yet (contained resources, primitive
extensions such as _birthDate, decimals with trailing zeros such as 1.50, extensions, a new Bundle.type, a new
resource type inside a Bundle), then those that use the most elements not yet seen for that type, then the smaller.
Ties go to the file name, so the selection is deterministic. Files are copied byte for byte.

The package has no standalone Parameters example, so the script also writes the Parameters contained in
GuidanceResponse-example.json as Parameters-outputParameters1.json.
"""

import json
import os
import re
import shutil
import sys

MAX_PER_TYPE = 3
MAX_BYTES = 200 * 1000
MAX_TOTAL = 20 * 1000 * 1000
# Examples that must be in the set: Bundles carrying Parameters as entry resources (transaction and its
# response) and a resource with a contained Parameters.
# Also two small examples that the official R4 JSON schema rejects (see README.md), so that the tests' skip list
# is exercised and the schema's known defects stay visible.
FORCED = [
    "Bundle-bundle-transaction.json",
    "Bundle-bundle-response.json",
    "GuidanceResponse-example.json",
    "StructureDefinition-example-composition.json",
    "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
]
# A JSON number with a fractional part ending in 0: 1.50, 0.0, 12.340e3.
TRAILING_ZERO = re.compile(r"^-?\d+\.\d*0([eE][+-]?\d+)?$")


def features(doc):
    """Return (global feature set, element path set) of one example."""
    glob, paths = set(), set()

    def walk(v, path, in_bundle):
        if isinstance(v, dict):
            if "resourceType" in v and path:
                if in_bundle:
                    glob.add("bundle-entry:" + str(v["resourceType"]))
                glob.add("nested:" + str(v["resourceType"]))
            for k, x in v.items():
                if k == "contained":
                    glob.add("contained")
                if k.startswith("_"):
                    glob.add("primitive-extension")
                if k in ("extension", "modifierExtension"):
                    glob.add("extension")
                p = path + "." + k if path else k
                paths.add(p)
                walk(x, p, in_bundle)
        elif isinstance(v, list):
            for x in v:
                walk(x, path, in_bundle)
        elif isinstance(v, TrailingZero):
            glob.add("decimal-trailing-zero")

    if doc.get("resourceType") == "Bundle":
        glob.add("bundle-type:" + str(doc.get("type")))
    walk(doc, "", doc.get("resourceType") == "Bundle")
    return glob, paths


class TrailingZero(float):
    """A float parsed from text with a trailing zero in its fraction."""


def parse_float(s):
    return TrailingZero(s) if TRAILING_ZERO.match(s) else float(s)


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), parse_float=parse_float)


def candidates(src):
    by_type = {}
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if not name.endswith(".json") or name == "package.json" or name.startswith("."):
            continue
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            continue
        try:
            doc = load(path)
        except ValueError:
            continue
        rt = doc.get("resourceType") if isinstance(doc, dict) else None
        if not isinstance(rt, str):
            continue
        glob, paths = features(doc)
        by_type.setdefault(rt, []).append({"name": name, "size": size, "glob": glob, "paths": paths})
    return by_type


def select(by_type):
    chosen, seen_glob = [], set()
    forced = [c for cs in by_type.values() for c in cs if c["name"] in FORCED]
    for c in forced:
        seen_glob |= c["glob"]
    for rt in sorted(by_type):
        pool = by_type[rt]
        picked = [c for c in pool if c["name"] in FORCED]
        seen_paths = set().union(*(c["paths"] for c in picked)) if picked else set()
        rest = [c for c in pool if c not in picked]
        while len(picked) < MAX_PER_TYPE and rest:
            rest.sort(key=lambda c: (-len(c["glob"] - seen_glob), -len(c["paths"] - seen_paths), c["size"], c["name"]))
            best = rest.pop(0)
            if picked and not (best["glob"] - seen_glob) and not (best["paths"] - seen_paths):
                break  # nothing new: keep the set small
            picked.append(best)
            seen_glob |= best["glob"]
            seen_paths |= best["paths"]
        chosen.extend(picked)
    return chosen


def extract_parameters(src, dst):
    """Write the Parameters contained in GuidanceResponse-example.json as a standalone example."""
    doc = load(os.path.join(src, "GuidanceResponse-example.json"))
    params = next(r for r in doc["contained"] if r.get("resourceType") == "Parameters")

    def no_floats(v):
        if isinstance(v, float):
            raise SystemExit("Parameters has a decimal; write it byte for byte instead")
        for x in v.values() if isinstance(v, dict) else v if isinstance(v, list) else []:
            no_floats(x)

    no_floats(params)
    out = os.path.join(dst, "Parameters-" + params["id"] + ".json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(params, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return os.path.getsize(out)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/npm/node_modules/hl7.fhir.r4.examples"
    dst = os.path.dirname(os.path.abspath(__file__))
    for name in os.listdir(dst):
        if name.endswith(".json"):
            os.remove(os.path.join(dst, name))
    chosen = select(candidates(src))
    total = 0
    for c in chosen:
        shutil.copyfile(os.path.join(src, c["name"]), os.path.join(dst, c["name"]))
        total += c["size"]
    total += extract_parameters(src, dst)
    if total > MAX_TOTAL:
        raise SystemExit("selection is %d bytes, over the %d limit" % (total, MAX_TOTAL))
    covered = set().union(*(c["glob"] for c in chosen))
    print("%d files, %d bytes" % (len(chosen) + 1, total))
    print("features:", ", ".join(sorted(f for f in covered if not f.startswith(("nested:", "bundle-entry:")))))


if __name__ == "__main__":
    main()
