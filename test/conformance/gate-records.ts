import { readFile } from "node:fs/promises";

/**
 * What the gate recorded during a suite run (its decision logs), by scenario: the suite runs
 * scenarios one at a time, so a record belongs to the last scenario that started before it.
 */
export interface GateRecord {
  at: number;
  type: string;
  tool: string | null;
  effect: string | null;
  /** `reason_code` of a decision, `reason` of a refused frame. */
  reason: string | null;
  outcome: string | null;
}

interface RawEvent {
  type?: unknown;
  time?: unknown;
  data?: { tool?: unknown; effect?: unknown; reason_code?: unknown; reason?: unknown; outcome?: unknown };
}

export class GateLogError extends Error {}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** Every record of the given NDJSON files, oldest first (a missing file has none). */
export async function readGateRecords(files: readonly string[]): Promise<GateRecord[]> {
  const records: GateRecord[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    // a last line without its newline was cut short: not a record
    const lines = text.split("\n").slice(0, -1);
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      let e: RawEvent;
      try {
        e = JSON.parse(line) as RawEvent;
      } catch (err) {
        throw new GateLogError(`${file}:${i + 1}: not a JSON record: ${(err as Error).message}`);
      }
      records.push({
        at: Date.parse(str(e.time) ?? ""),
        type: str(e.type) ?? "",
        tool: str(e.data?.tool),
        effect: str(e.data?.effect),
        reason: str(e.data?.reason_code) ?? str(e.data?.reason),
        outcome: str(e.data?.outcome),
      });
    }
  }
  return records.sort((a, b) => a.at - b.at);
}

/** Records that are not an allowed, forwarded call: denies, would-denies, refused frames. */
export function isRefusal(r: GateRecord): boolean {
  if (r.type === "assay.gate.frame_rejected") return true;
  return r.type === "assay.tool.decision" && (r.effect === "deny" || r.outcome !== "forwarded");
}

export function byScenario(
  records: readonly GateRecord[],
  starts: ReadonlyArray<{ scenario: string; at: number }>,
): Map<string, GateRecord[]> {
  const out = new Map<string, GateRecord[]>();
  for (const r of records) {
    let owner: string | undefined;
    for (const s of starts) if (s.at <= r.at) owner = s.scenario;
    if (owner === undefined) continue;
    out.set(owner, [...(out.get(owner) ?? []), r]);
  }
  return out;
}

/** `test_image_content denied (tool_drift)`, one per distinct refusal. */
export function describeRefusals(records: readonly GateRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records.filter(isRefusal)) {
    seen.add(
      r.type === "assay.gate.frame_rejected"
        ? `frame refused (${r.reason ?? "?"})`
        : `${r.tool ?? "(no tool)"} ${r.outcome ?? r.effect ?? "?"} (${r.reason ?? "?"})`,
    );
  }
  return [...seen];
}
