#!/usr/bin/python3
"""Check proto/openapi.yaml against a running annalsd --http.

    openapi-check.py SPEC BASE_URL

Every path of the spec must list x-checks; each check is one request
(its query, body or id), and the answer must have the status the check
names, that status must be documented for the operation, and the JSON
body must fit the documented schema: the required keys present, no key
the schema does not list, and the same one level down for arrays of
objects.  Then every GET must take exactly the query parameters it
documents.  Prints one line per check and ends with "N passed, N failed".
"""
import json
import sys
import urllib.error
import urllib.request

import yaml


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local references: " + ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def keys_fit(spec, schema, value, where):
    """Problems of value against an object schema, one level deep."""
    schema = resolve(spec, schema)
    if "oneOf" in schema:
        results = [keys_fit(spec, s, value, where) for s in schema["oneOf"]]
        return [] if any(not r for r in results) else results[0]
    if schema.get("type") == "array":
        if not isinstance(value, list):
            return [where + ": not an array"]
        problems = []
        for i, item in enumerate(value[:50]):
            problems += keys_fit(spec, schema.get("items", {}), item,
                                 "%s[%d]" % (where, i))
        return problems
    if schema.get("type") != "object" or "properties" not in schema:
        return []
    if not isinstance(value, dict):
        return [where + ": not an object"]
    props = schema["properties"]
    problems = [where + ": no " + k for k in schema.get("required", [])
                if k not in value]
    if not schema.get("additionalProperties", False):
        problems += [where + ": unexpected " + k for k in value
                     if k not in props]
    for k, v in value.items():
        sub = resolve(spec, props.get(k, {}))
        if sub.get("type") == "array" and "$ref" in sub.get("items", {}):
            problems += keys_fit(spec, sub, v, where + "." + k)
    return problems


def request(base, method, path, body):
    data = body.encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    base = sys.argv[2].rstrip("/")
    passed = failed = 0
    for path, item in spec["paths"].items():
        ops = [m for m in ("get", "post", "delete") if m in item]
        if not ops:
            print("FAIL %s: no operations" % path)
            failed += 1
        for method in ops:
            op = item[method]
            checks = op.get("x-checks", [])
            if not checks:
                print("FAIL %s %s: no x-checks" % (method.upper(), path))
                failed += 1
            for c in checks:
                url = path.replace("{id}", str(c.get("id", ""))).replace(
                    "{code}", str(c.get("code", "")))
                if "query" in c:
                    url += "?" + c["query"]
                status, ctype, raw = request(base, method.upper(), url,
                                             c.get("body"))
                what = "%s %s -> %d" % (method.upper(), url, status)
                problems = []
                if status != c["status"]:
                    problems.append("status %d, spec says %d" %
                                    (status, c["status"]))
                doc = op["responses"].get(str(status))
                if doc is None:
                    problems.append("status %d is not documented" % status)
                else:
                    doc = resolve(spec, doc)
                    content = doc.get("content", {})
                    mtype = ctype.split(";")[0].strip()
                    if content and mtype not in content:
                        problems.append("content type %s is not documented"
                                        % mtype)
                    elif mtype in content:
                        try:
                            value = json.loads(raw)
                        except ValueError:
                            problems.append("body is not JSON")
                        else:
                            problems += keys_fit(
                                spec, content[mtype]["schema"], value,
                                "body")
                if problems:
                    print("FAIL %s: %s" % (what, "; ".join(problems)))
                    failed += 1
                else:
                    print("ok   " + what)
                    passed += 1
    p, f = check_parameters(spec, base)
    passed += p
    failed += f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def check_parameters(spec, base):
    """Every GET takes exactly the query parameters it documents.

    Each name documented anywhere is sent, empty, to every GET path: the
    server must refuse it as unknown exactly where it is not documented.
    An empty value counts as absent, so a known name changes nothing.
    """
    names = set()
    documented = {}
    for path, item in spec["paths"].items():
        if "get" not in item or "{" in path:
            continue
        params = [resolve(spec, x) for x in item["get"].get("parameters", [])]
        documented[path] = {x["name"] for x in params if x["in"] == "query"}
        names |= documented[path]
    passed = failed = 0
    for path, mine in sorted(documented.items()):
        for name in sorted(names):
            status, _, raw = request(base, "GET", "%s?%s=" % (path, name),
                                     None)
            try:
                detail = json.loads(raw).get("detail", "")
            except (ValueError, AttributeError):
                detail = ""
            unknown = detail == 'unknown parameter "%s"' % name
            what = "GET %s?%s=" % (path, name)
            if name in mine and unknown:
                print("FAIL %s: documented, refused as unknown" % what)
                failed += 1
            elif name not in mine and not unknown:
                print("FAIL %s: taken (%d), not documented" % (what, status))
                failed += 1
            else:
                passed += 1
    print("ok   query parameters of %d paths" % len(documented))
    return passed, failed


if __name__ == "__main__":
    sys.exit(main())
