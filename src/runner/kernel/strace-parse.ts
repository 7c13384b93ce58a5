import { constants } from "node:os";
import { type KernelCaptureFacts, type RawKernelEvent, type U64, u64 } from "../contract.js";
import { hexEscapedBytes, pathText, sockaddrFromBytes } from "./raw-decode.js";
import { StraceLineJoiner, type StraceRecord, splitArgs, structFields } from "./strace-lines.js";

/** What the first pass over a strace log learned: which tids were threads of which process. */
export interface StraceScan {
  /** `<tid>#<life>` of a thread (CLONE_THREAD) → `<creator tid>#<life>`; a tid not here is its own process. */
  threads: Map<string, string>;
  parseErrors: number;
  hooks: { openat: number; openat2: number; connect: number };
  /** Records seen (lines that were calls, exits or pid changes). */
  records: number;
  /** The first traced process ended (exited or was killed): strace wrote its log to the end. */
  rootEnded: boolean;
}

type Lines = AsyncIterable<string> | Iterable<string>;
type Unowned<T> = T extends RawKernelEvent ? Omit<T, "pid"> : never;
type CallEvent = Unowned<RawKernelEvent>;

const CLONE_THREAD = 0x10000;
/**
 * Where a thread died inside a call strace shows `= ?`: the call never returned. An open of that
 * kind is kept (it was attempted: failed opens belong to the surface) with the kernel's code for a
 * call cut short by a signal, ERESTARTSYS.
 */
const RET_UNKNOWN = -512;
/** Kernel-internal errnos strace can print, which os.constants.errno does not name (include/linux/errno.h). */
const KERNEL_ERRNO: Readonly<Record<string, number>> = {
  ERESTARTSYS: 512,
  ERESTARTNOINTR: 513,
  ERESTARTNOHAND: 514,
  ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516,
  EPROBE_DEFER: 517,
  EOPENSTALE: 518,
  ENOPARAM: 519,
};

/**
 * Pass one: every line, for the thread → process map and the counts. A thread's tid is mapped to
 * its process through the clone that made it; the creator's own clone line may come after the
 * thread's first calls (the child runs first), which is why there are two passes. Tids are reused,
 * so each is keyed with its life: the number of its exits (`+++ … +++`) before the line.
 */
export async function scanStraceLog(lines: Lines): Promise<StraceScan> {
  const joiner = new StraceLineJoiner();
  const exits = new Map<number, number[]>();
  const clones: { child: number; parent: number; entry: number }[] = [];
  const scan: StraceScan = {
    threads: new Map(),
    parseErrors: 0,
    hooks: { openat: 0, openat2: 0, connect: 0 },
    records: 0,
    rootEnded: false,
  };
  let root: number | null = null;
  const take = (records: StraceRecord[]) => {
    for (const r of records) {
      if (r.type === "error") {
        scan.parseErrors++;
        continue;
      }
      scan.records++;
      root ??= r.tid;
      if (r.type === "exit") {
        const list = exits.get(r.tid) ?? [];
        list.push(joiner.index);
        exits.set(r.tid, list);
        if (r.tid === root && r.how !== "superseded") scan.rootEnded = true;
      } else if (r.type === "call") {
        const clone = cloneOf(r);
        if (clone === "error") scan.parseErrors++;
        else if (clone !== null) {
          if (clone.thread) clones.push({ child: clone.child, parent: r.tid, entry: r.entry });
        } else {
          const ev = callEvent(r);
          if (ev === "error") scan.parseErrors++;
          else if (ev?.kind === "openat") scan.hooks[r.name === "openat2" ? "openat2" : "openat"]++;
          else if (ev?.kind === "connect") scan.hooks.connect++;
        }
      } else if (r.type === "pid-changed" && pidChangedEvent(r) === null) scan.parseErrors++;
    }
  };
  for await (const line of lines) take(joiner.push(line));
  take(joiner.end());
  const life = (tid: number, before: number) => (exits.get(tid) ?? []).filter((i) => i < before).length;
  for (const c of clones) {
    scan.threads.set(`${c.child}#${life(c.child, c.entry)}`, `${c.parent}#${life(c.parent, c.entry)}`);
  }
  return scan;
}

/** Pass two: the events, in log order, each with its process id (thread-group id). */
export async function* straceEvents(lines: Lines, scan: StraceScan): AsyncGenerator<RawKernelEvent> {
  const joiner = new StraceLineJoiner();
  const lives = new Map<number, number>();
  const tgid = (tid: number): number => {
    let key = `${tid}#${lives.get(tid) ?? 0}`;
    for (let up = scan.threads.get(key); up !== undefined; up = scan.threads.get(key)) key = up;
    return Number(key.slice(0, key.indexOf("#")));
  };
  const events = function* (records: StraceRecord[]): Generator<RawKernelEvent> {
    for (const r of records) {
      if (r.type === "exit") lives.set(r.tid, (lives.get(r.tid) ?? 0) + 1);
      else if (r.type === "pid-changed") {
        const path = pidChangedEvent(r);
        // After the exec the new pid leads a process of its own.
        if (path !== null) yield { kind: "exec", pid: r.newPid, path: path.path };
      } else if (r.type === "call" && cloneOf(r) === null) {
        const ev = callEvent(r);
        if (ev !== null && ev !== "error") {
          // Same key order as bpftrace's events: kind, pid, then the rest.
          const { kind, ...rest } = ev;
          yield { kind, pid: tgid(r.tid), ...rest } as RawKernelEvent;
        }
      }
    }
  };
  for await (const line of lines) yield* events(joiner.push(line));
  yield* events(joiner.end());
}

/** The facts of a strace capture. ptrace stops the tracee at every traced call until strace has read it: nothing is ever dropped. */
export function straceFacts(scan: StraceScan): KernelCaptureFacts {
  return {
    backend: "strace",
    drops: 0,
    hooks: {
      openat: { emitted: scan.hooks.openat, dropped: 0 },
      openat2: { emitted: scan.hooks.openat2, dropped: 0 },
      connect: { emitted: scan.hooks.connect, dropped: 0 },
    },
    parse_errors: scan.parseErrors,
    // The log ends before the agent's own exit when strace itself was killed (its last lines are
    // lost with it). An empty log counts too: a program that ran was traced at least at its own
    // execve, so nothing traced means the agent never started (strace could not exec it), and a
    // layer of nothing must not read as complete.
    closed_early: scan.records === 0 || !scan.rootEnded,
  };
}

/** A clone/clone3/fork/vfork call: the child it made and whether it is a thread; null for other calls. */
function cloneOf(
  r: Extract<StraceRecord, { type: "call" }>,
): { child: number; thread: boolean } | null | "error" {
  if (r.name !== "clone" && r.name !== "clone3" && r.name !== "fork" && r.name !== "vfork") return null;
  const ret = parseRet(r.ret);
  if (ret === "error") return "error";
  if (ret === "unknown" || ret <= 0) return { child: 0, thread: false };
  let flags = 0;
  if (r.name === "clone" || r.name === "clone3") {
    const args = splitArgs(r.args);
    const text =
      r.name === "clone"
        ? args.find((a) => a.startsWith("flags="))?.slice("flags=".length)
        : structFields(args[0] ?? "")?.get("flags");
    // clone's flags carry the exit signal after a `|` (`0x1200000|17`).
    const value = text === undefined ? null : parseNumber(text.split("|")[0] as string);
    if (value === null) return "error";
    flags = value;
  }
  return { child: ret, thread: (flags & CLONE_THREAD) !== 0 };
}

/** The event a traced call stands for; null for a call that is not one (a failed exec). */
function callEvent(r: Extract<StraceRecord, { type: "call" }>): CallEvent | null | "error" {
  const args = splitArgs(r.args);
  const ret = parseRet(r.ret);
  if (ret === "error") return "error";
  switch (r.name) {
    case "open":
    case "openat": {
      const at = r.name === "openat" ? 1 : 0;
      const path = pathArg(args[at]);
      const flags = parseU64(args[at + 1] ?? "");
      const mode = args[at + 2] === undefined ? 0 : parseU64(args[at + 2] as string);
      if (path === "error" || flags === null || mode === null) return "error";
      return { kind: "openat", path, flags, mode, resolve: 0, ret: ret === "unknown" ? RET_UNKNOWN : ret };
    }
    case "openat2": {
      const path = pathArg(args[1]);
      if (path === "error" || args[2] === undefined) return "error";
      // An unreadable open_how is printed as its address: nothing was read, as bpftrace reports.
      const how = structFields(args[2]);
      const field = (name: string) => (how?.has(name) ? parseU64(how.get(name) as string) : 0);
      const [flags, mode, resolve] = [field("flags"), field("mode"), field("resolve")];
      if (flags === null || mode === null || resolve === null) return "error";
      return { kind: "openat", path, flags, mode, resolve, ret: ret === "unknown" ? RET_UNKNOWN : ret };
    }
    case "connect": {
      if (args[1] === undefined) return "error";
      return { kind: "connect", sockaddr: sockaddrArg(args[1]) };
    }
    case "execve":
    case "execveat": {
      if (ret !== 0) return null;
      const path = pathArg(args[r.name === "execve" ? 0 : 1]);
      return path === "error" ? "error" : { kind: "exec", path };
    }
    default:
      return "error";
  }
}

function pidChangedEvent(r: Extract<StraceRecord, { type: "pid-changed" }>): { path: string | null } | null {
  if (r.name !== "execve" && r.name !== "execveat") return null;
  const path = pathArg(splitArgs(r.args)[r.name === "execve" ? 0 : 1]);
  return path === "error" ? null : { path };
}

/** A path argument: a string (`"\x2f…"`, `...` after it when strace cut it), or an address strace could not read (null). */
function pathArg(text: string | undefined): string | null | "error" {
  if (text === undefined) return "error";
  if (!text.startsWith('"')) return text === "NULL" || /^0x[0-9a-f]+$/.test(text) ? null : "error";
  const bytes = stringBytes(text);
  return bytes === null ? "error" : pathText(bytes);
}

function stringBytes(text: string): Buffer | null {
  const body = text.endsWith('"...') ? text.slice(1, -4) : text.endsWith('"') ? text.slice(1, -1) : null;
  return body === null ? null : hexEscapedBytes(body);
}

/** `{sa_family=0x2, sin_port="\x00\x50", sin_addr="\x7f\x00\x00\x01"}` (strace -X raw -xx) to a sockaddr. */
function sockaddrArg(text: string): Extract<RawKernelEvent, { kind: "connect" }>["sockaddr"] {
  const f = structFields(text);
  const family = f?.get("sa_family");
  if (f === null || family === undefined) return null;
  const fam = parseNumber(family);
  const bytes = (name: string, size: number) => {
    const v = f.get(name);
    const b = v === undefined ? null : stringBytes(v);
    return b !== null && b.length === size ? b : null;
  };
  if (fam === 2) {
    const port = bytes("sin_port", 2);
    const addr = bytes("sin_addr", 4);
    if (port === null || addr === null) return null;
    return sockaddrFromBytes(2, Buffer.concat([Buffer.from([2, 0]), port, addr]));
  }
  if (fam === 10) {
    const port = bytes("sin6_port", 2);
    const addr = bytes("sin6_addr", 16);
    if (port === null || addr === null) return null;
    return sockaddrFromBytes(10, Buffer.concat([Buffer.from([10, 0]), port, Buffer.alloc(4), addr]));
  }
  return null;
}

/** A return value: the number (errors as -errno), `unknown` for `?`, `error` when it does not parse. */
function parseRet(text: string): number | "unknown" | "error" {
  if (text.startsWith("?")) return "unknown";
  const named = /^-1 ([A-Z][A-Z0-9_]*) \(/.exec(text);
  if (named) {
    const name = named[1] as string;
    const errno = (constants.errno as Record<string, number>)[name] ?? KERNEL_ERRNO[name];
    return errno === undefined ? "error" : -errno;
  }
  const numbered = /^-1 \(errno (\d+)\)$/.exec(text);
  if (numbered) {
    const errno = Number(numbered[1]);
    return errno > 0 && errno < 4096 ? -errno : "error";
  }
  const plain = /^(-?\d+|0x[0-9a-f]+)(?: .*)?$/.exec(text);
  if (plain) return parseNumber(plain[1] as string) ?? "error";
  return "error";
}

/** An open's u64 argument (flags, mode, resolve) as strace prints it under -X raw, exact. */
function parseU64(text: string): U64 | null {
  let v: bigint;
  if (/^(?:0|[1-9]\d*)$/.test(text)) v = BigInt(text);
  else if (/^0x[0-9a-f]+$/.test(text)) v = BigInt(text);
  else if (/^0[0-7]+$/.test(text)) v = BigInt(`0o${text.slice(1)}`);
  else return null;
  return v < 2n ** 64n ? u64(v) : null;
}

/** strace's numbers under -X raw: decimal, `0x` hex, or octal with a leading 0 (modes). */
function parseNumber(text: string): number | null {
  if (/^-?(?:0|[1-9]\d*)$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return Number.parseInt(text.slice(1), 8);
  return null;
}
