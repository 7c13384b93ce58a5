import { AssayError } from "../lib/errors.js";
import {
  KERNEL_EVENT_TYPE,
  type KernelNormalized,
  type RawKernelEvent,
  RUNNER_SCHEMA,
  type U64,
} from "./contract.js";
import { accessMode, OPERATION_FLAG_MASK, operationFlags } from "./open-flags.js";
import { compareUtf8 } from "./serialize.js";
import { endpointText } from "./sockaddr-text.js";
import { isTelemetryEvent } from "./telemetry-filter.js";

/** Lines are handed to `write` in chunks of about this many characters (whole lines only). */
const CHUNK_CHARS = 64 * 1024;
/** The dedup key of an open whose path is unreadable or empty (a real path never holds NUL). */
const NO_PATH = "\0";
const TOP_FILTERED = 5;

/**
 * Turn a backend's raw events into layers/kernel.ndjson (contract §5, §6), streaming: lines go to
 * `write` in chunks of whole lines (about 64 KiB each, the last one smaller) as events arrive,
 * one call at a time (a returned promise settles before the next call; a rejection is thrown), and
 * what is kept in memory grows with the distinct (path, flags) pairs and distinct values, never
 * with the number of events.
 *
 * Opens are deduplicated first (only the first event per (path, flags) is kept: the earlier
 * implementation did this in eBPF, so its normalizer only ever saw first opens), then loader
 * telemetry is dropped (opens only) and counted; `seq` numbers what remains, in arrival order.
 */
export async function normalizeKernel(
  events: AsyncIterable<RawKernelEvent | readonly RawKernelEvent[]>,
  runId: string,
  write: (line: string) => void | Promise<void>,
): Promise<KernelNormalized> {
  const head = `{"schema":"${RUNNER_SCHEMA.kernelEvent}","run_id":${JSON.stringify(runId)},"seq":`;
  // path → the flags it was opened with: one number, or a set once a second value appears.
  const opens = new Map<string, number | Set<number>>();
  const filteredByPath = new Map<string, number>();
  const endpoints = new Set<string>();
  const endpointCache = new Map<string, string | null>();
  const execs = new Set<string>();
  const emitted = { openat: 0, connect: 0, exec: 0 };
  let filtered = 0;
  let seq = 0;
  let chunk = "";
  let writing: Promise<void> | undefined;

  for await (const item of events) {
    for (const ev of Array.isArray(item) ? (item as readonly RawKernelEvent[]) : [item as RawKernelEvent]) {
      let body: string;
      switch (ev.kind) {
        case "openat": {
          const path = ev.path === "" ? null : ev.path;
          if (!firstOpen(opens, path ?? NO_PATH, ev.flags)) continue;
          if (path !== null && isTelemetryEvent("openat", path)) {
            filtered++;
            const count = filteredByPath.get(path);
            // Map.set keeps the key it already holds: only a new key needs detaching.
            filteredByPath.set(count === undefined ? detached(path) : path, (count ?? 0) + 1);
            continue;
          }
          body = openBody(ev, path);
          emitted.openat++;
          break;
        }
        case "connect": {
          const value = endpoint(endpointCache, endpoints, ev.sockaddr);
          // INVARIANT: endpointText returns only digits, hex letters, `.`, `:`, `[` and `]`: nothing to escape.
          body = `${int(ev.pid)},"event_type":${KERNEL_EVENT_TYPE.connect},"kind":"connect","value":${value === null ? "null" : `"${value}"`}}\n`;
          emitted.connect++;
          break;
        }
        case "exec": {
          const value = ev.path === "" ? null : ev.path;
          if (value !== null && !execs.has(value)) execs.add(detached(value));
          body = `${int(ev.pid)},"event_type":${KERNEL_EVENT_TYPE.exec},"kind":"exec","value":${jsonOrNull(value)}}\n`;
          emitted.exec++;
          break;
        }
        default:
          throw new AssayError("internal", `unknown kernel event kind \`${(ev as { kind: unknown }).kind}\``);
      }
      chunk += `${head}${seq},"pid":${body}`;
      seq++;
      if (chunk.length >= CHUNK_CHARS) {
        // One write in flight while the next chunk is built: the sink's I/O overlaps our work, and
        // `write` is never called again before its previous call settled.
        await writing;
        writing = settle(write(chunk));
        chunk = "";
      }
    }
  }
  await writing;
  if (chunk !== "") await write(chunk);

  const filesystemPaths: string[] = [];
  for (const path of opens.keys())
    if (path !== NO_PATH && !filteredByPath.has(path)) filesystemPaths.push(path);
  return {
    retained: seq,
    filtered,
    filteredTop: topFiltered(filteredByPath),
    surface: {
      filesystem_paths: sortDistinct(filesystemPaths),
      network_endpoints: sortDistinct([...endpoints]),
      process_execs: sortDistinct([...execs]),
    },
    emitted,
  };
}

/**
 * A write's outcome as a promise that is observed at once: a failure waits, unreported, for the
 * `await` that collects it (an unobserved rejection would end the process first).
 */
function settle(result: void | Promise<void>): Promise<void> | undefined {
  if (!result) return undefined;
  result.catch(() => {});
  return result;
}

/**
 * A copy of `s` that does not keep alive a larger string it was sliced from. V8 slices share
 * their parent's characters, so a path a backend cut out of a 64 KiB read would otherwise hold the
 * whole read for as long as the path is remembered. Concatenating flattens into a fresh string.
 */
function detached(s: string): string {
  return ` ${s}`.slice(1);
}

/** Record (key, flags); false when that pair was seen before. */
function firstOpen(opens: Map<string, U64 | Set<U64>>, key: string, flags: U64): boolean {
  const seen = opens.get(key);
  if (seen === undefined) {
    opens.set(detached(key), flags);
    return true;
  }
  if (!(seen instanceof Set)) {
    if (seen === flags) return false;
    opens.set(key, new Set([seen, flags]));
    return true;
  }
  if (seen.has(flags)) return false;
  seen.add(flags);
  return true;
}

// The `"operation_flags":[...]` fragment per combination of the bits it reads (16 at most).
const operationFragments = new Map<number, string>();

function operationFragment(flags: number): string {
  const bits = flags & OPERATION_FLAG_MASK;
  let text = operationFragments.get(bits);
  if (text === undefined) {
    const names = operationFlags(bits);
    text = names.length === 0 ? "" : `,"operation_flags":${JSON.stringify(names)}`;
    operationFragments.set(bits, text);
  }
  return text;
}

/** An open's line after `"pid":`, keys in the contract's emit order. */
function openBody(ev: Extract<RawKernelEvent, { kind: "openat" }>, path: string | null): string {
  const flags = u64Text(ev.flags);
  const resolve = u64Text(ev.resolve);
  const ret = int(ev.ret);
  const low = low32(ev.flags);
  return (
    `${int(ev.pid)},"event_type":${KERNEL_EVENT_TYPE.openat},"kind":"openat","value":${jsonOrNull(path)}` +
    `,"flags":${flags},"mode":${u64Text(ev.mode)}${resolve !== "0" ? `,"resolve":${resolve}` : ""}` +
    `,"return_value":${ret},"access_mode":"${accessMode(low)}"${operationFragment(low)}` +
    `,"status":"${ret >= 0 ? "success" : "error"}"}\n`
  );
}

// What JSON.stringify would escape (`"`, `\\`, control characters) or might (surrogates: a lone
// one is escaped); a value without any is written between quotes as it is, which is much faster.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonOrNull(value: string | null): string {
  if (value === null) return "null";
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

type Sockaddr = Extract<RawKernelEvent, { kind: "connect" }>["sockaddr"];

/**
 * endpointText, remembered per distinct sockaddr (parsing an address costs more than a lookup);
 * a new endpoint joins `endpoints` when it is first seen, so a repeat costs one lookup.
 */
function endpoint(
  cache: Map<string, string | null>,
  endpoints: Set<string>,
  sockaddr: Sockaddr,
): string | null {
  if (sockaddr === null) return null;
  const key = `${sockaddr.family} ${sockaddr.address} ${sockaddr.port}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = endpointText(sockaddr);
    cache.set(detached(key), text);
    if (text !== null) endpoints.add(text);
  }
  return text;
}

// Below U+D800, UTF-16 code unit order is code point order, which is UTF-8 byte order.
const ABOVE_D800 = /[\ud800-\uffff]/;

/**
 * Values already distinct, in byteSort's order (UTF-8 bytes, then UTF-16 for equal bytes) without
 * its deduplicating copy: the kernel's path set can be the largest thing the normalizer holds.
 * When no value has a code unit at or above U+D800, the engine's own string order is that order.
 */
function sortDistinct(values: string[]): string[] {
  if (!values.some((v) => ABOVE_D800.test(v))) return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return values.sort((a, b) => compareUtf8(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A number as it goes into a line; the line is built by hand, so a non-integer must not slip in. */
/** A u64 field as the JSON number it is, exactly (a value beyond 2^53 arrives as decimal text). */
function u64Text(n: U64): string {
  if (typeof n === "string") {
    if (!/^(?:0|[1-9]\d{0,19})$/.test(n) || BigInt(n) >= 2n ** 64n)
      throw new AssayError("internal", `kernel event field \`${n}\` is not a u64`);
    return n;
  }
  if (!Number.isSafeInteger(n) || n < 0)
    throw new AssayError("internal", `kernel event field \`${n}\` is not a u64`);
  return String(n);
}

/** The low 32 bits, where every open flag the contract reads lives. */
function low32(n: U64): number {
  return typeof n === "string" ? Number(BigInt.asUintN(32, BigInt(n))) : n >>> 0;
}

function int(n: number): number {
  if (!Number.isSafeInteger(n))
    throw new AssayError("internal", `kernel event field \`${n}\` is not an integer`);
  return n;
}

function topFiltered(byPath: Map<string, number>): { path: string; count: number }[] {
  return [...byPath]
    .sort(([pa, ca], [pb, cb]) => cb - ca || compareUtf8(pa, pb))
    .slice(0, TOP_FILTERED)
    .map(([path, count]) => ({ path, count }));
}
