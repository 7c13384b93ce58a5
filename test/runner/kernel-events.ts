import type { RawKernelEvent } from "../../src/runner/contract.js";
import { normalizeKernel } from "../../src/runner/kernel-normalize.js";

/** An open as a backend reports it; flags O_RDONLY|O_CLOEXEC and a successful fd unless given. */
export function open(
  path: string | null,
  o: Partial<{
    pid: number;
    flags: number | string;
    mode: number | string;
    resolve: number | string;
    ret: number;
  }> = {},
): RawKernelEvent {
  return {
    kind: "openat",
    pid: o.pid ?? 100,
    path,
    flags: o.flags ?? 0o2000000,
    mode: o.mode ?? 0,
    resolve: o.resolve ?? 0,
    ret: o.ret ?? 3,
  };
}

export function connect(family: 2 | 10, address: string, port: number, pid = 100): RawKernelEvent {
  return { kind: "connect", pid, sockaddr: { family, address, port } };
}

export function exec(path: string | null, pid = 100): RawKernelEvent {
  return { kind: "exec", pid, path };
}

export async function* stream(events: Iterable<RawKernelEvent>): AsyncGenerator<RawKernelEvent> {
  for (const e of events) yield e;
}

/** Normalize `events` and keep what was written: the text and each line parsed. */
export async function normalized(events: Iterable<RawKernelEvent>, runId = "run_test") {
  let text = "";
  const result = await normalizeKernel(stream(events), runId, (chunk) => {
    text += chunk;
  });
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  return { result, text, lines, parsed: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
