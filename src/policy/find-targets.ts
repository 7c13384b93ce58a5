import { type KeyRole, keyRole } from "./host-keys.js";
import { type IpBits, ipBits } from "./ip-bits.js";
import { escapeSegment } from "./json-pointer.js";
import { looksLikeJsonContainer, parseJsonText } from "./json-text.js";
import type { NetworkIR } from "./network-ir.js";
import { isIpLiteral, readDestination } from "./read-destination.js";
import { mayHoldUrl, type SpanSink, scanUrlSpans } from "./text-urls.js";

/** A network destination found in a call's arguments. */
export interface NetTarget {
  readonly pointer: string;
  readonly raw: string;
  /** How `raw` was read, for messages: "" or ` (in JSON inside the string)`, ` (read without its tabs and newlines)`. */
  readonly note: string;
  readonly scheme: string | null;
  readonly host: string;
  readonly ip: string | null;
  /** The IP in numeric form, for range checks. */
  readonly bits: IpBits | null;
  readonly port: number | null;
}

/** One reason a call's destinations are refused. */
export interface NetFinding {
  readonly pointer: string;
  readonly message: string;
}

/** The destinations a rule found, and what it refused to read. */
export interface FoundTargets {
  readonly targets: readonly NetTarget[];
  /** Values that name a destination no single reading can be given to: refused, never skipped. */
  readonly unreadable: readonly NetFinding[];
  /** Why the rule stopped reading (refused too), or null. */
  readonly overflow: string | null;
}

// More than this in one call is refused, not truncated: a check that stopped reading would let one
// bad URL hide behind many harmless ones.
const MAX_TARGETS = 256; // distinct destinations
const MAX_READS = 4096; // spans and values read as destinations
const MAX_JSON_LEVELS = 4; // JSON in a string in JSON in a string ...
const MAX_JSON_TEXTS = 256; // strings read as JSON
const MAX_JSON_CHARS = 8 * 1024 * 1024; // characters parsed as JSON
const MAX_JSON_DEPTH = 64; // nesting inside one JSON text

const IN_JSON = " (in JSON inside the string)";
const CLEANED = " (read without its tabs and newlines)";

/** How a value is read: by its key's role, or (`all`, under a configured path) every string and number is a destination. */
type Role = KeyRole | "all";

interface Frame {
  readonly value: unknown;
  readonly pointer: string;
  readonly role: Role;
  /** How many JSON texts inside strings this value sits in (0: the arguments themselves). */
  readonly level: number;
}

/** Every destination in `args` the rule looks at. */
export function findTargets(ir: NetworkIR, args: Record<string, unknown>): FoundTargets {
  const f = new Finder();
  if (ir.paths) {
    for (const path of ir.paths) collectPath(args, path, 0, "/arguments", 0, f);
  } else {
    f.walk({ value: args, pointer: "/arguments", role: "text", level: 0 });
  }
  return { targets: f.targets, unreadable: f.unreadable, overflow: f.overflow };
}

/** Follow a configured path, into JSON inside strings too (`config.host` in `{"config": "{\"host\": …}"}`). */
function collectPath(
  value: unknown,
  path: readonly string[],
  i: number,
  pointer: string,
  level: number,
  f: Finder,
): void {
  if (f.overflow !== null) return;
  if (i === path.length) {
    f.walk({ value, pointer, role: "all", level });
    return;
  }
  if (typeof value === "string" && looksLikeJsonContainer(value)) {
    const json = f.json(value, pointer, level);
    if (json !== undefined) collectPath(json, path, i, pointer, level + 1, f);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const seg = path[i] as string;
  const at = (k: string) => (level > 0 ? pointer : `${pointer}/${escapeSegment(k)}`);
  if (seg === "*") {
    for (const [k, v] of Object.entries(value)) collectPath(v, path, i + 1, at(k), level, f);
  } else if (Object.hasOwn(value, seg)) {
    collectPath((value as Record<string, unknown>)[seg], path, i + 1, at(seg), level, f);
  }
}

/** One rule's reading of one call: what it found so far, deduplicated and bounded. */
class Finder implements SpanSink {
  readonly targets: NetTarget[] = [];
  readonly unreadable: NetFinding[] = [];
  overflow: string | null = null;
  private reads = 0;
  private jsonTexts = 0;
  private jsonChars = 0;
  // Where the spans scanUrlSpans pushes come from.
  private spanPointer = "";
  private spanInJson = false;

  get full(): boolean {
    return this.overflow !== null;
  }

  /** Read every value at or under the frame. */
  walk(root: Frame): void {
    // INVARIANT: the caller has already bounded the arguments' depth and size; JSON read from
    // strings is bounded here (levels, count, characters, depth).
    const stack: Frame[] = [root];
    while (stack.length > 0 && this.overflow === null) {
      const { value, pointer, role, level } = stack.pop() as Frame;
      const inJson = level > 0;
      if (typeof value === "string") {
        const json = looksLikeJsonContainer(value) ? this.json(value, pointer, level) : undefined;
        if (json !== undefined) stack.push({ value: json, pointer, role, level: level + 1 });
        if (role !== "text") {
          // A destination written as JSON (`"[\"10.0.0.1\"]"`) is read as its JSON.
          if (json === undefined) this.read(value, pointer, true, true, inJson ? IN_JSON : "");
        } else if (mayHoldUrl(value)) {
          this.spanPointer = pointer;
          this.spanInJson = inJson;
          scanUrlSpans(value, this);
        }
      } else if (typeof value === "number") {
        // `{"ip": 2852039166}` is 169.254.169.254 to anything that connects to it.
        if (role === "address" || role === "all") {
          this.read(String(value), pointer, true, true, inJson ? IN_JSON : "");
        }
      } else if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) {
          stack.push({ value: value[i], pointer: inJson ? pointer : `${pointer}/${i}`, role, level });
        }
      } else if (value !== null && typeof value === "object") {
        // Keys, not entries: no [key, value] pair allocated per member.
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i] as string;
          stack.push({
            value: (value as Record<string, unknown>)[k],
            pointer: inJson ? pointer : `${pointer}/${escapeSegment(k)}`,
            role: role === "all" ? "all" : keyRole(k),
            level,
          });
        }
      }
    }
  }

  /** SpanSink: a span of free text that may be a URL. */
  push(span: string, primary: boolean, cleaned: boolean): void {
    const note = `${cleaned ? CLEANED : ""}${this.spanInJson ? IN_JSON : ""}`;
    this.read(span, this.spanPointer, false, primary, note);
  }

  private read(raw: string, pointer: string, bareHostOk: boolean, primary: boolean, note: string): void {
    if (++this.reads > MAX_READS) {
      this.overflow = `arguments hold more than ${MAX_READS} values and spans to read as destinations, more than a rule reads`;
      return;
    }
    const r = readDestination(raw, bareHostOk);
    if (r.kind === "none") return;
    if (r.kind === "unreadable") {
      // Another reading of a value that does not parse is no destination; clients that disagree are.
      if (primary || r.conflict) {
        this.refuse(pointer, raw, `names a destination that cannot be read unambiguously: ${r.why}`, note);
      }
      return;
    }
    // The readings of one value are found together: look back only over its pointer's targets.
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i] as NetTarget;
      if (t.pointer !== pointer) break;
      if (t.host === r.host && t.port === r.port && t.scheme === r.scheme) return;
    }
    if (!this.admit()) return;
    const ip = isIpLiteral(r.host) ? r.host : null;
    this.targets.push({
      pointer,
      raw,
      note,
      scheme: r.scheme,
      host: r.host,
      ip,
      bits: ip ? ipBits(ip) : null,
      port: r.port,
    });
  }

  /** The value of a string holding a JSON object or array, or undefined (refusals recorded). */
  json(text: string, pointer: string, level: number): unknown {
    if (level >= MAX_JSON_LEVELS) {
      this.refuse(
        pointer,
        text,
        `holds JSON nested in strings more than ${MAX_JSON_LEVELS} levels deep`,
        IN_JSON,
      );
      return undefined;
    }
    this.jsonChars += text.length;
    if (this.jsonChars > MAX_JSON_CHARS) {
      this.overflow = `arguments hold more than ${MAX_JSON_CHARS} characters of JSON in strings, more than a rule reads`;
      return undefined;
    }
    const r = parseJsonText(text, MAX_JSON_DEPTH);
    if (r.kind === "too_deep") {
      this.refuse(
        pointer,
        text,
        `holds JSON nested more than ${MAX_JSON_DEPTH} levels deep`,
        level > 0 ? IN_JSON : "",
      );
      return undefined;
    }
    if (r.kind === "none" || r.value === null || typeof r.value !== "object") return undefined;
    if (++this.jsonTexts > MAX_JSON_TEXTS) {
      this.overflow = `arguments hold more than ${MAX_JSON_TEXTS} strings of JSON, more than a rule reads`;
      return undefined;
    }
    return r.value;
  }

  private refuse(pointer: string, raw: string, what: string, note: string): void {
    const message = `${quote(raw, note)} ${what}`;
    if (this.unreadable.some((u) => u.pointer === pointer && u.message === message) || !this.admit()) return;
    this.unreadable.push({ pointer, message });
  }

  /** Room for one more distinct finding? (False, and overflow, past the limit.) */
  private admit(): boolean {
    if (this.targets.length + this.unreadable.length < MAX_TARGETS) return true;
    this.overflow = `arguments name more than ${MAX_TARGETS} network destinations, more than a rule checks`;
    return false;
  }
}

/**
 * The value as messages show it: in backticks, cut at 120 characters, with control and invisible
 * characters escaped (a message is one line, and `local\thost` must show its tab), marked when it
 * came from JSON inside a string.
 */
export function quote(raw: string, note: string): string {
  const cut = raw.length > 120 ? `${raw.slice(0, 117)}...` : raw;
  const shown = cut.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `\`${shown}\`${note}`;
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point here
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;
