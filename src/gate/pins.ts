import { writeFileAtomic } from "../lib/atomic-write.js";
import { canonicalDigest, sha256Digest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { readTextFile } from "../lib/read-text.js";
import { assertWritable, schemaValidator } from "../lib/schema-validator.js";
import { FileLock } from "./file-lock.js";

/**
 * The fingerprint of one tool as a server listed it: for every field of the tool except its
 * `name` (description, inputSchema, title, outputSchema, annotations, icons, execution, _meta and
 * any field a later MCP version adds), the sha256 of the RFC 8785 canonical JSON of its value.
 */
export interface ToolPin {
  fields: Record<string, string>;
}

/** A pin from a version 1 file: only the inputSchema and the description were pinned. */
export interface LegacyToolPin {
  input_schema: string;
  description: string;
}

/** The pins file (schemas/tool-pins.schema.json); version 1 files load as version 2. */
export interface PinsDoc {
  schema_version: 2;
  tools: Record<string, ToolPin | LegacyToolPin>;
}

/** A tool as `tools/list` describes it: a name and any other fields, all of them pinned. */
export interface ListedTool {
  name: string;
  [field: string]: unknown;
}

/** The order drifted fields are named in: what clients show and act on first. */
const FIELD_ORDER = [
  "description",
  "inputSchema",
  "title",
  "outputSchema",
  "annotations",
  "icons",
  "execution",
  "_meta",
];

export function pinTool(tool: ListedTool): ToolPin {
  // Entries, not assignments: a field named `__proto__` must be pinned like any other.
  const entries: [string, string][] = [];
  for (const key of Object.keys(tool).sort()) {
    if (key === "name" || tool[key] === undefined) continue;
    entries.push([key, canonicalDigest(tool[key])]);
  }
  return { fields: Object.fromEntries(entries) };
}

function isLegacy(pin: ToolPin | LegacyToolPin): pin is LegacyToolPin {
  return !Object.hasOwn(pin, "fields");
}

/** An own property of a parsed object, never one of its prototype (`constructor`, `__proto__`). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A version 1 fingerprint, to compare a tool with a pin from a version 1 file. */
function legacyPinTool(tool: ListedTool): LegacyToolPin {
  return {
    input_schema: canonicalDigest(tool.inputSchema ?? null),
    description: sha256Digest(typeof tool.description === "string" ? tool.description : ""),
  };
}

/** What changed in a tool since it was pinned, as field names (a field added or removed counts). */
export function pinChanges(pinned: ToolPin | LegacyToolPin, tool: ListedTool): string[] {
  if (isLegacy(pinned)) {
    const now = legacyPinTool(tool);
    const out: string[] = [];
    if (pinned.description !== now.description) out.push("description");
    if (pinned.input_schema !== now.input_schema) out.push("inputSchema");
    return out;
  }
  const now = pinTool(tool).fields;
  const keys = new Set([...Object.keys(pinned.fields), ...Object.keys(now)]);
  return [...keys].filter((k) => own(pinned.fields, k) !== own(now, k)).sort(byFieldOrder);
}

function byFieldOrder(a: string, b: string): number {
  const ia = FIELD_ORDER.indexOf(a);
  const ib = FIELD_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? FIELD_ORDER.length : ia) - (ib < 0 ? FIELD_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What every session of one server shares: the pins, and what the latest listing of each tool showed. */
class PinStore {
  readonly pins = new Map<string, ToolPin | LegacyToolPin>();
  /** The fields that differed from the pin in the latest listing of each tool, in any session ([] = none). */
  readonly latest = new Map<string, string[]>();
  /** Pins made or completed that no save has stored yet: every listing tries again until one does. */
  readonly unsaved = new Set<string>();
}

/**
 * Tool pins of one gate session: trust on first use, then every later `tools/list` is compared.
 * A tool whose listing differs from its pin in any field is drifted until it matches again or
 * is re-approved. Sessions of one server share the pins (what one pinned first, every session
 * is compared with); what was listed and what drifted is each session's own.
 */
export class PinSet {
  private readonly store: PinStore;
  private readonly drifted = new Map<string, string[]>();
  /** Tools a `tools/list` of this session has shown. */
  private readonly listed = new Set<string>();

  constructor(doc?: PinsDoc, store?: PinStore) {
    this.store = store ?? new PinStore();
    for (const [name, pin] of Object.entries(doc?.tools ?? {})) this.store.pins.set(name, pin);
  }

  /** A set for another session of the same server (see the class). */
  session(): PinSet {
    return new PinSet(undefined, this.store);
  }

  get size(): number {
    return this.store.pins.size;
  }

  /**
   * Compare a `tools/list` page with the pins. Tools seen for the first time are pinned, and a
   * version 1 pin the tool matches becomes a full pin: both are in `added`, the pins to save.
   */
  observe(tools: readonly ListedTool[]): { added: string[]; drifted: string[] } {
    // A listing may name a tool twice; it is drifted when any entry differs from the pin, so a
    // matching duplicate cannot clear the drift of a changed one.
    const byName = new Map<string, ListedTool[]>();
    for (const tool of tools) {
      const list = byName.get(tool.name);
      if (list) list.push(tool);
      else byName.set(tool.name, [tool]);
    }
    const added: string[] = [];
    const drifted: string[] = [];
    for (const [name, seen] of byName) {
      this.listed.add(name);
      let pin = this.store.pins.get(name);
      if (!pin) {
        pin = pinTool(seen[0] as ListedTool);
        this.store.pins.set(name, pin);
        this.store.unsaved.add(name);
        added.push(name);
      }
      const full = pin;
      // Entries that differ from the pin, or (a version 1 pin pins two fields) from each other.
      const first = pinTool(seen[0] as ListedTool);
      const changes = [
        ...new Set(seen.flatMap((now) => [...pinChanges(full, now), ...pinChanges(first, now)])),
      ].sort(byFieldOrder);
      if (isLegacy(full) && changes.length === 0) {
        // Every entry matches its version 1 pin and each other: the pin is completed.
        this.store.pins.set(name, first);
        this.store.unsaved.add(name);
        added.push(name);
      }
      this.store.latest.set(name, changes);
      if (changes.length > 0) {
        this.drifted.set(name, changes);
        drifted.push(name);
      } else this.drifted.delete(name);
    }
    return { added, drifted };
  }

  /**
   * The fields that changed, when the tool is drifted: as this session's listing showed it, or,
   * for a tool this session has not listed, as the latest listing in any session showed it. A
   * tool no session has listed is decided on its pin.
   */
  drift(tool: string): string[] | undefined {
    const changes = this.listed.has(tool) ? this.drifted.get(tool) : this.store.latest.get(tool);
    return changes !== undefined && changes.length > 0 ? changes : undefined;
  }

  /** Pins not stored by a save yet (`onPinsAdded` is called while there are any). */
  unsaved(): string[] {
    return [...this.store.unsaved];
  }

  /** A save stored these pins. */
  saved(names: readonly string[]): void {
    for (const n of names) this.store.unsaved.delete(n);
  }

  toDoc(): PinsDoc {
    return pinsDoc(this.store.pins);
  }
}

/** A pins document of `pins`, tools sorted by name (a Map: a tool named `__proto__` is one like any other). */
export function pinsDoc(pins: ReadonlyMap<string, ToolPin | LegacyToolPin>): PinsDoc {
  const names = [...pins.keys()].sort();
  return {
    schema_version: 2,
    tools: Object.fromEntries(names.map((n) => [n, pins.get(n) as ToolPin | LegacyToolPin])),
  };
}

/** Read a pins file (version 1 or 2, as version 2); undefined when it does not exist yet. */
export async function loadPins(path: string): Promise<PinsDoc | undefined> {
  let text: string;
  try {
    text = await readTextFile(path, "input_unreadable", "pins file");
  } catch (err) {
    if (((err as AssayError).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return undefined;
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AssayError("input_invalid", `pins file is not JSON: ${(err as Error).message}`, {
      where: path,
    });
  }
  const validatePins = schemaValidator("tool-pins");
  if (!validatePins(doc)) {
    const e = validatePins.errors?.[0];
    throw new AssayError(
      "input_invalid",
      `pins file ${e?.instancePath || "/"} ${e?.message ?? "is invalid"}`,
      {
        where: path,
      },
    );
  }
  const read = doc as { schema_version: 1 | 2; tools: PinsDoc["tools"] };
  return { schema_version: 2, tools: read.tools };
}

/** Write a pins file atomically (temp file, then rename). */
export async function savePins(path: string, doc: PinsDoc): Promise<void> {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  // Checked as the next load will read it.
  assertWritable("tool-pins", JSON.parse(text), `the pins file ${path}`);
  await writeFileAtomic(path, text);
}

/** How long a save waits for another gate's save of the same pins file. */
const PINS_LOCK_WAIT_MS = 5000;

/**
 * Save pins into a file as it is when saving: tools the file does not pin yet are added, and a
 * version 1 pin becomes the full pin of a tool listed unchanged. A tool the file pins otherwise
 * keeps the file's pin (another gate, or `assay mcp pins update`, wrote it since). Saves are
 * made one at a time, each atomically, and under the file's lock (`<file>.lock`), so two gates
 * saving at once both keep their pins.
 */
export function pinsSaver(path: string): (doc: PinsDoc) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (doc) => {
    const save = last.then(async () => {
      const lock = await FileLock.acquire(path, { what: "pins file", waitMs: PINS_LOCK_WAIT_MS });
      try {
        const onDisk = new Map(Object.entries((await loadPins(path))?.tools ?? {}));
        const tools = new Map(onDisk);
        for (const [name, pin] of Object.entries(doc.tools)) {
          const there = onDisk.get(name);
          if (there === undefined || (isLegacy(there) && !isLegacy(pin))) tools.set(name, pin);
        }
        await savePins(path, pinsDoc(tools));
      } finally {
        await lock.release();
      }
    });
    last = save.catch(() => {});
    return save;
  };
}
