import { artifactInvalid, whereAt } from "./fault.js";
import type { JsonKind } from "./json-kind.js";
import { expectObject } from "./shape.js";

const WHAT = "a bench result";

// Whether a JSON value holds a number anywhere: a benchmark's line measures something.
function holdsNumber(v: unknown): boolean {
  if (typeof v === "number") return true;
  if (typeof v === "object" && v !== null) return Object.values(v).some(holdsNumber);
  return false;
}

/**
 * The JSON object `npm run bench:<name> -- --json` prints as its last stdout line. Benchmarks
 * choose their own fields, so what is checked is that it is an object of measurements and not a
 * document of another kind (those name themselves in `schema_version` / `schema`, or are
 * verification results with `valid`).
 */
export const bench: JsonKind = {
  what: WHAT,
  judge(doc, at) {
    const obj = expectObject(doc, at, WHAT);
    for (const key of ["schema_version", "schema"])
      if (typeof obj[key] === "string")
        throw artifactInvalid(`not ${WHAT}: it says it is \`${obj[key]}\``, whereAt(at, `/${key}`));
    if (typeof obj.valid === "boolean")
      throw artifactInvalid(`not ${WHAT}: \`valid\` makes it a verification result`, whereAt(at, "/valid"));
    if (!holdsNumber(obj)) throw artifactInvalid(`not ${WHAT}: it holds no number`, whereAt(at));
    return { data: obj, time: null };
  },
};
