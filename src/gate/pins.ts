import { rename, writeFile } from "node:fs/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import { canonicalDigest, sha256Digest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { readSchema } from "../lib/read-schema.js";
import { readTextFile } from "../lib/read-text.js";

/** The fingerprint of one tool as a server advertised it. */
export interface ToolPin {
  input_schema: string;
  description: string;
}

/** The pins file (schemas/tool-pins.schema.json). */
export interface PinsDoc {
  schema_version: 1;
  tools: Record<string, ToolPin>;
}

/** A tool as `tools/list` describes it (only what pinning reads). */
export interface ListedTool {
  name: string;
  description?: unknown;
  inputSchema?: unknown;
}

export function pinTool(tool: ListedTool): ToolPin {
  return {
    input_schema: canonicalDigest(tool.inputSchema ?? null),
    description: sha256Digest(typeof tool.description === "string" ? tool.description : ""),
  };
}

/** What changed in a tool since it was pinned, as field names. */
export function pinChanges(pinned: ToolPin, now: ToolPin): string[] {
  const out: string[] = [];
  if (pinned.input_schema !== now.input_schema) out.push("inputSchema");
  if (pinned.description !== now.description) out.push("description");
  return out;
}

/**
 * Tool pins of one gate: trust on first use, then every later `tools/list` is compared.
 * A tool whose schema or description changed is drifted until re-approved.
 */
export class PinSet {
  private readonly pins: Map<string, ToolPin>;
  private readonly drifted = new Map<string, string[]>();
  /** Tools a `tools/list` has shown since this set was made: their pins have been compared. */
  private readonly listed = new Set<string>();

  constructor(doc?: PinsDoc, shared?: Map<string, ToolPin>) {
    this.pins = shared ?? new Map();
    for (const [name, pin] of Object.entries(doc?.tools ?? {})) this.pins.set(name, pin);
  }

  /**
   * A set for another session of the same server: the pins are shared (what one session pinned
   * first, every session compares with), what was listed and what drifted are its own.
   */
  session(): PinSet {
    return new PinSet(undefined, this.pins);
  }

  get size(): number {
    return this.pins.size;
  }

  /** Compare a `tools/list` page with the pins; tools seen for the first time are pinned. */
  observe(tools: readonly ListedTool[]): { added: string[]; drifted: string[] } {
    // A listing may name a tool twice; it is drifted when any entry differs from the pin, so a
    // matching duplicate cannot clear the drift of a changed one.
    const byName = new Map<string, ToolPin[]>();
    for (const tool of tools) {
      const list = byName.get(tool.name);
      if (list) list.push(pinTool(tool));
      else byName.set(tool.name, [pinTool(tool)]);
    }
    const added: string[] = [];
    const drifted: string[] = [];
    for (const [name, seen] of byName) {
      this.listed.add(name);
      let pinned = this.pins.get(name);
      if (!pinned) {
        pinned = seen[0] as ToolPin;
        this.pins.set(name, pinned);
        added.push(name);
      }
      const changes = [...new Set(seen.flatMap((now) => pinChanges(pinned as ToolPin, now)))];
      if (changes.length > 0) {
        this.drifted.set(name, changes);
        drifted.push(name);
      } else this.drifted.delete(name);
    }
    return { added, drifted };
  }

  /**
   * A tool pinned by a pins file that no `tools/list` has shown yet: what the server would run
   * cannot have been compared with its pin.
   */
  unverified(tool: string): boolean {
    return this.pins.has(tool) && !this.listed.has(tool);
  }

  /** The fields that changed, when the tool is drifted. */
  drift(tool: string): string[] | undefined {
    return this.drifted.get(tool);
  }

  toDoc(): PinsDoc {
    const names = [...this.pins.keys()].sort();
    return {
      schema_version: 1,
      tools: Object.fromEntries(names.map((n) => [n, this.pins.get(n) as ToolPin])),
    };
  }
}

const validatePins = new Ajv2020({ allErrors: false, strict: true }).compile(
  readSchema("tool-pins.schema.json"),
);

/** Read a pins file; undefined when it does not exist yet. */
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
  return doc as PinsDoc;
}

/** Write a pins file atomically (temp file, then rename). */
export async function savePins(path: string, doc: PinsDoc): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}
