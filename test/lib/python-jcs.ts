import { spawnSync } from "node:child_process";

/**
 * An RFC 8785 implementation that is not ours, for cross-checks: Python's `json` (its own number
 * parser: correctly rounded `float()`, exact `int`), `repr(float)` for the shortest round-trip
 * digits, and the ECMAScript Number::toString layout rules (RFC 8785 §3.2.2.3) applied to them.
 * Keys sort by UTF-16 code units; strings escape as `json.dumps(ensure_ascii=False)` does, which
 * is RFC 8785's escaping.
 *
 * `jcs(value)` rounds every number to a double, as RFC 8785 says; `jcs(value, exact=True)` keeps
 * integers as written (what a canonicalizer over arbitrary-precision integers would produce).
 */
export const PYTHON_JCS = `
import hashlib, json, math, sys
from decimal import Decimal

def es_number(x):
    if math.isnan(x) or math.isinf(x):
        return None
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    _, digits, exp = Decimal(repr(abs(x))).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0")
    k = len(ds)
    n = exp + len(digits)
    if k <= n <= 21:
        s = ds + "0" * (n - k)
    elif 0 < n <= 21:
        s = ds[:n] + "." + ds[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + ds
    else:
        e = n - 1
        s = ds[0] + ("." + ds[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s

def number(v, exact):
    if exact and isinstance(v, int):
        return str(v)
    try:
        out = es_number(float(v))
    except OverflowError:
        out = None
    if out is None:
        raise ValueError("number out of range")
    return out

def jcs(v, exact=False):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return number(v, exact)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x, exact) for x in v) + "]"
    keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jcs(v[k], exact) for k in keys) + "}"

def sha256(text):
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
`;

/** A python3 to run, or why there is none (for a test's `skip`). */
export function findPython(): { python: string } | { skip: string } {
  const r = spawnSync("python3", ["-c", "import decimal, hashlib, json"], { encoding: "utf8" });
  if (r.status === 0) return { python: "python3" };
  return { skip: `python3 is not available (${r.error?.message ?? r.stderr.trim()})` };
}

/** Run `PYTHON_JCS` followed by `script` with `input` as JSON on stdin; parse its stdout as JSON. */
export function runPython(python: string, script: string, input: unknown): unknown {
  const r = spawnSync(python, ["-c", `${PYTHON_JCS}\n${script}`], {
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
