import { listServerTools } from "../../gate/list-server-tools.js";
import { loadPins, type PinsDoc, pinChanges, pinsDoc, pinTool, savePins } from "../../gate/pins.js";
import { EXIT } from "../../lib/errors.js";

/** `assay mcp pins update`: list the server's tools and write their pins. */
export async function pinsUpdate(server: string[], opts: { pins: string; tool?: string[] }): Promise<number> {
  const [command, ...args] = server;
  const before: PinsDoc = (await loadPins(opts.pins)) ?? { schema_version: 2, tools: {} };
  const listed = await listServerTools(command as string, args);
  const only = opts.tool ? new Set(opts.tool) : undefined;
  // A Map: a tool named `__proto__` is pinned like any other.
  const tools = new Map(Object.entries(before.tools));
  const lines: string[] = [];
  for (const t of listed) {
    if (only && !only.has(t.name)) continue;
    const old = Object.hasOwn(before.tools, t.name) ? before.tools[t.name] : undefined;
    if (!old) lines.push(`  + ${t.name}`);
    else {
      const changed = pinChanges(old, t);
      if (changed.length > 0) lines.push(`  ~ ${t.name} (${changed.join(", ")})`);
    }
    tools.set(t.name, pinTool(t));
  }
  for (const name of only ?? []) {
    if (!listed.some((t) => t.name === name))
      lines.push(`  ? ${name}: not listed by the server, pin kept as it was`);
  }
  const doc = pinsDoc(tools);
  await savePins(opts.pins, doc);
  process.stdout.write(`${lines.length === 0 ? "no changes" : lines.join("\n")}\n`);
  process.stdout.write(`${Object.keys(doc.tools).length} tools pinned in ${opts.pins}\n`);
  return EXIT.ok;
}
