import { artifactInvalid } from "./fault.js";
import type { ArtifactBody } from "./json-artifact.js";
import { toUtc } from "./timestamp.js";
import { parseXmlDocument, type XmlElement } from "./xml-document.js";

export type JunitStatus = "pass" | "fail" | "error" | "skipped";

export interface JunitCase {
  name: string;
  classname: string;
  status: JunitStatus;
  /** The failure's, error's or skip's `message` (else its text's first line), when it has one. */
  message?: string;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export interface JunitSuite extends Counts {
  name: string;
  time: number | null;
  timestamp: string | null;
  cases: JunitCase[];
}

/** What criteria see of a JUnit file: the totals and every suite (nested ones flattened, in document order). */
export interface JunitData extends Counts {
  time: number | null;
  /** The earliest suite timestamp, UTC (the artifact's time). */
  timestamp: string | null;
  suites: JunitSuite[];
}

// A case as counted: its status and, when given, its duration.
interface Counted {
  junit: JunitCase;
  time: number | null;
}

interface Stamp {
  utc: string;
  zoned: boolean;
  label: string;
}

const OUTCOMES: Readonly<Record<string, JunitStatus>> = {
  failure: "fail",
  error: "error",
  skipped: "skipped",
};

function label(el: XmlElement): string {
  const name = el.attrs.get("name");
  return name === undefined ? `<${el.name}>` : `<${el.name} name=${JSON.stringify(name)}>`;
}

// Collects the suites (flattened, in document order) and timestamps of one document.
class JunitReader {
  readonly suites: JunitSuite[] = [];
  readonly stamps: Stamp[] = [];

  constructor(private readonly path: string) {}

  private fault(el: XmlElement, attr: string, value: string, what: string): Error {
    return artifactInvalid(`\`${attr}\` \`${value}\` of \`${label(el)}\` is not ${what}`, this.path);
  }

  count(el: XmlElement, attr: keyof Counts): number | undefined {
    const v = el.attrs.get(attr);
    if (v === undefined) return undefined;
    if (!/^\s*\d{1,15}\s*$/.test(v)) throw this.fault(el, attr, v, "a count");
    return Number(v);
  }

  seconds(el: XmlElement): number | undefined {
    const v = el.attrs.get("time");
    if (v === undefined || v.trim() === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw this.fault(el, "time", v, "a duration in seconds");
    return n;
  }

  stamp(el: XmlElement): string | null {
    const v = el.attrs.get("timestamp");
    if (v === undefined) return null;
    const t = toUtc(v.trim());
    if (t === undefined) throw this.fault(el, "timestamp", v, "an RFC 3339 time");
    this.stamps.push({ utc: t.utc, zoned: t.zoned, label: label(el) });
    return t.utc;
  }

  testcase(el: XmlElement): Counted {
    const outcome = el.children.find((c) => Object.hasOwn(OUTCOMES, c.name));
    const junit: JunitCase = {
      name: el.attrs.get("name") ?? "",
      classname: el.attrs.get("classname") ?? "",
      status: outcome === undefined ? "pass" : (OUTCOMES[outcome.name] as JunitStatus),
    };
    const message =
      outcome?.attrs.get("message") ??
      outcome?.text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l !== "");
    if (message !== undefined && message !== "") junit.message = message;
    return { junit, time: this.seconds(el) ?? null };
  }

  // A suite, then the suites nested in it (flattened, in document order); returns every case under it.
  testsuite(el: XmlElement): Counted[] {
    const timestamp = this.stamp(el);
    const own = el.children.filter((c) => c.name === "testcase").map((c) => this.testcase(c));
    const at = this.suites.length;
    const nested = el.children.filter((c) => c.name === "testsuite").flatMap((c) => this.testsuite(c));
    // A suite's counts include its nested suites' cases, as JUnit's do.
    this.suites.splice(
      at,
      0,
      this.suite(el, el.attrs.get("name") ?? "", own, [...own, ...nested], timestamp),
    );
    return [...own, ...nested];
  }

  // A suite of `own` cases; absent counts and time are recomputed from `all` the cases under it.
  suite(
    el: XmlElement | undefined,
    name: string,
    own: Counted[],
    all: Counted[],
    timestamp: string | null,
  ): JunitSuite {
    return {
      name,
      ...this.counts(el, all),
      time: (el && this.seconds(el)) ?? sumTimes(all),
      timestamp,
      cases: own.map((c) => c.junit),
    };
  }

  // A count the element declares never hides what its cases show: the larger of the two is kept
  // (a file saying failures="0" around a failed case has a failure).
  counts(el: XmlElement | undefined, cases: Counted[]): Counts {
    const of = (s: JunitStatus) => cases.filter((c) => c.junit.status === s).length;
    const most = (attr: keyof Counts, counted: number) =>
      Math.max((el && this.count(el, attr)) ?? 0, counted);
    return {
      tests: most("tests", cases.length),
      failures: most("failures", of("fail")),
      errors: most("errors", of("error")),
      skipped: most("skipped", of("skipped")),
    };
  }
}

function sumTimes(cases: Counted[]): number | null {
  const times = cases.map((c) => c.time).filter((t): t is number => t !== null);
  return times.length === 0 ? null : times.reduce((a, b) => a + b, 0);
}

function earliest(stamps: Stamp[]): { timestamp: string | null; timestamp_source: string } {
  let first: Stamp | undefined;
  for (const s of stamps) if (first === undefined || Date.parse(s.utc) < Date.parse(first.utc)) first = s;
  if (first === undefined)
    return {
      timestamp: null,
      timestamp_source: "no `<testsuites>` or `<testsuite>` has a `timestamp` attribute",
    };
  const of = stamps.length > 1 ? `, the earliest of ${stamps.length}` : "";
  const zone = first.zoned ? "" : "; it names no zone, so it is read as UTC";
  return { timestamp: first.utc, timestamp_source: `timestamp of \`${first.label}\`${of}${zone}` };
}

/**
 * A JUnit XML file (`<testsuites>` or a single `<testsuite>`) as what criteria see, timed by its
 * earliest `timestamp` (zone-less ones, the usual kind, read as UTC). Written by either writer we
 * meet: ours (src/report/junit.ts: every count, a zone-less `timestamp`) and node's
 * `--test-reporter=junit` (a bare `<testsuites>`, suites nested as `describe` blocks nest,
 * top-level tests directly under `<testsuites>`, no timestamp). Counts an element lacks are
 * recomputed from the cases under it.
 */
export function judgeJunit(text: string, path: string): ArtifactBody {
  const root = parseXmlDocument(text, path);
  if (root.name !== "testsuites" && root.name !== "testsuite")
    throw artifactInvalid(
      `not JUnit XML: the root element is \`<${root.name}>\`, not \`<testsuites>\` or \`<testsuite>\``,
      path,
    );
  const r = new JunitReader(path);
  let totals: Counts & { time: number | null };
  if (root.name === "testsuite") {
    r.testsuite(root);
    const { tests, failures, errors, skipped, time } = r.suites[0] as JunitSuite;
    totals = { tests, failures, errors, skipped, time };
  } else {
    r.stamp(root);
    const cases = root.children.filter((c) => c.name === "testsuite").flatMap((c) => r.testsuite(c));
    // Tests outside any suite (node's reporter writes top-level tests so) form a suite of their own.
    const loose = root.children.filter((c) => c.name === "testcase").map((c) => r.testcase(c));
    if (loose.length > 0) r.suites.push(r.suite(undefined, root.attrs.get("name") ?? "", loose, loose, null));
    cases.push(...loose);
    totals = { ...r.counts(root, cases), time: r.seconds(root) ?? sumTimes(cases) };
  }
  const when = earliest(r.stamps);
  const data: JunitData = { ...totals, timestamp: when.timestamp, suites: r.suites };
  return { ...when, data: data as unknown as Record<string, unknown>, recorded: null };
}
