import { type KernelCaptureFacts, type RawKernelEvent, type U64, u64 } from "../contract.js";
import {
  BPFTRACE_HOOKS,
  type BpftraceHook,
  MAX_CHUNKS,
  OPEN_SYSCALLS,
  PATH_CHUNK,
} from "./bpftrace-script.js";
import { beforeNul, hexEscapedBytes, pathText, sockaddrFromBytes } from "./raw-decode.js";

/** What the output said about each hook: bpftrace's counters (at exit) and what we received. */
export interface HookTally {
  /** `@enter_<hook>`: syscalls entered (open, openat, openat2, connect only). */
  entered: number;
  /** `@event_<hook>`: events the probe emitted. */
  events: number;
  /** `@lines_<hook>`: records the probe printed (a long path takes several). */
  lines: number;
  /** Records of this hook that reached us. */
  received: number;
}

/** Everything the parser counted, for the facts and for tests. */
export interface BpftraceTally {
  hooks: Record<BpftraceHook, HookTally>;
  /** Sum of bpftrace's `Lost N events` lines. */
  lostReported: number;
  parseErrors: number;
  /** The cgroup id of the `ASSAY_READY` line, once seen. */
  readyCgroupId: number | null;
  /** The `ASSAY_END` line was seen (END ran: the map dump follows). */
  ended: boolean;
  /** Per CPU, the latest flush request its ASSAY_TICK answered (monotonic ns, as process.hrtime). */
  ticks: Map<number, bigint>;
}

interface Pending {
  head: OpenHead | ExecHead;
  chunks: (Buffer | undefined)[];
}
interface OpenHead {
  kind: "openat";
  hook: BpftraceHook;
  pid: number;
  flags: U64;
  mode: U64;
  resolve: U64;
  ret: number;
}
interface ExecHead {
  kind: "exec";
  hook: "exec";
  pid: number;
}

/** `n` strings: the fields of a record whose length was checked. */
type Fields<N extends number, T extends string[] = []> = T["length"] extends N
  ? T
  : Fields<N, [...T, string]>;

const INT = /^-?\d+$/;
const COUNTER = /^@(enter|event|lines)_([a-z0-9]+): (\d+)$/;
const LOST = /^Lost (\d+) events$/;
const TICK = /^ASSAY_TICK (\d+) (\d+)$/;
const ATTACHING = /^Attaching \d+ probes?\.\.\.$/;

/**
 * Reads the output of the script of bpftrace-script.ts line by line, turning records into raw
 * events (a path split over several records is joined by (tid, ts)), and counts what it needs to
 * report losses exactly.
 */
export class BpftraceParser {
  private readonly tally: BpftraceTally = {
    hooks: Object.fromEntries(
      BPFTRACE_HOOKS.map((h) => [h, { entered: 0, events: 0, lines: 0, received: 0 }]),
    ) as Record<BpftraceHook, HookTally>,
    lostReported: 0,
    parseErrors: 0,
    readyCgroupId: null,
    ended: false,
    ticks: new Map(),
  };
  private readonly pending = new Map<string, Pending>();

  /** One line of output, without its newline; returns the events it completed. */
  line(text: string): RawKernelEvent[] {
    const sp = text.indexOf(" ");
    const tag = sp < 0 ? text : text.slice(0, sp);
    switch (tag) {
      case "OPEN":
        return this.open(text.split(" "));
      case "CONNECT":
        return this.connect(text.split(" "));
      case "EXEC":
        return this.exec(text.split(" "));
      case "":
        // bpftrace separates its map dump with blank lines.
        if (text !== "") this.tally.parseErrors++;
        return [];
      default:
        this.other(text);
        return [];
    }
  }

  /** The output ended: events whose last record never came (lost) are emitted with what arrived. */
  end(): RawKernelEvent[] {
    const out: RawKernelEvent[] = [];
    for (const p of this.pending.values()) out.push(assemble(p));
    this.pending.clear();
    return out;
  }

  /** The counts so far. */
  counts(): Readonly<BpftraceTally> {
    return this.tally;
  }

  private other(text: string): void {
    const t = this.tally;
    if (text.startsWith("ASSAY_READY ")) {
      const id = text.slice("ASSAY_READY ".length);
      if (INT.test(id) && t.readyCgroupId === null) t.readyCgroupId = Number(id);
      else t.parseErrors++;
      return;
    }
    const tick = TICK.exec(text);
    if (tick) {
      const cpu = Number(tick[1]);
      const request = BigInt(tick[2] as string);
      if (request > (t.ticks.get(cpu) ?? -1n)) t.ticks.set(cpu, request);
      return;
    }
    if (text === "ASSAY_END") {
      t.ended = true;
      return;
    }
    const lost = LOST.exec(text);
    if (lost) {
      t.lostReported += Number(lost[1]);
      return;
    }
    const counter = COUNTER.exec(text);
    if (counter) {
      const hook = t.hooks[counter[2] as BpftraceHook] as HookTally | undefined;
      if (hook === undefined) t.parseErrors++;
      else if (counter[1] === "enter") hook.entered = Number(counter[3]);
      else if (counter[1] === "event") hook.events = Number(counter[3]);
      else hook.lines = Number(counter[3]);
      return;
    }
    // Entries left in the enter/exit maps (syscalls in flight at exit) are printed too; the
    // counters already account for them (entered > events). The flush maps mean nothing now.
    if (text.startsWith("@inflight_") || text.startsWith("@flush") || ATTACHING.test(text)) return;
    t.parseErrors++;
  }

  private open(f: string[]): RawKernelEvent[] {
    // OPEN <syscall> <tid> <pid> <ts> <flags> <mode> <resolve> <how size> <ret> <chunk> <more> <hex>
    const syscall = f[1] as BpftraceHook;
    if (!(OPEN_SYSCALLS as readonly string[]).includes(syscall)) return this.bad();
    this.tally.hooks[syscall].received++;
    if (f.length !== 13 || !f.slice(2, 12).every((x) => INT.test(x))) return this.bad();
    const [, , tid, pid, ts, flags, mode, resolve, howSize, ret, chunk, more, hex] = f as Fields<13>;
    // open/openat pass `int flags` and `umode_t mode`; openat2's open_how is read only when the
    // caller's size covered it (else the kernel refused the call without reading it).
    const wide = syscall === "openat2";
    const howRead = !wide || Number(howSize) >= 24;
    const head: OpenHead = {
      kind: "openat",
      hook: syscall,
      pid: Number(pid),
      flags: howRead ? unsigned(flags, wide ? 64 : 32) : 0,
      mode: howRead ? unsigned(mode, wide ? 64 : 16) : 0,
      resolve: howRead ? unsigned(resolve, 64) : 0,
      ret: Number(ret),
    };
    return this.chunk(`O${tid}:${ts}`, head, chunk, more, hex);
  }

  private exec(f: string[]): RawKernelEvent[] {
    // EXEC <tid> <pid> <ts> <chunk> <more> <hex>
    this.tally.hooks.exec.received++;
    if (f.length !== 7 || !f.slice(1, 6).every((x) => INT.test(x))) return this.bad();
    const head: ExecHead = { kind: "exec", hook: "exec", pid: Number(f[2]) };
    return this.chunk(`E${f[1]}:${f[3]}`, head, f[4] as string, f[5] as string, f[6] as string);
  }

  private connect(f: string[]): RawKernelEvent[] {
    // CONNECT <tid> <pid> <ret> <family> <addrlen> <hex>
    this.tally.hooks.connect.received++;
    if (f.length !== 7 || !f.slice(1, 6).every((x) => INT.test(x))) return this.bad();
    const bytes = hexEscapedBytes(f[6] as string);
    if (bytes === null) return this.bad();
    const family = Number(f[4]);
    return [{ kind: "connect", pid: Number(f[2]), sockaddr: sockaddrFromBytes(family, bytes) }];
  }

  private chunk(
    key: string,
    head: OpenHead | ExecHead,
    chunkText: string,
    moreText: string,
    hex: string,
  ): RawKernelEvent[] {
    const index = Number(chunkText);
    const bytes = hexEscapedBytes(hex);
    if (bytes === null || index < 0 || index >= MAX_CHUNKS || (moreText !== "0" && moreText !== "1"))
      return this.bad();
    const more = moreText === "1";
    let p = this.pending.get(key);
    if (p === undefined) {
      // The common case: a whole path in one record.
      if (index === 0 && !more) return [assemble({ head, chunks: [bytes] })];
      p = { head, chunks: [] };
      this.pending.set(key, p);
    }
    if (p.chunks[index] !== undefined) return this.bad();
    p.chunks[index] = bytes;
    if (more) return [];
    this.pending.delete(key);
    return [assemble(p)];
  }

  private bad(): RawKernelEvent[] {
    this.tally.parseErrors++;
    return [];
  }
}

/**
 * The facts of a bpftrace capture from the parser's counts. `summarized`: bpftrace ran END and
 * printed its maps (it exited by itself after our SIGINT); without that the counters are unknown,
 * which is reported as one parse error.
 *
 * Losses are counted from bpftrace's own counters, per hook: records printed minus records
 * received (perf buffer overruns), plus syscalls entered minus events emitted (an enter/exit map
 * that was full, or a syscall still in flight at exit). The kernel reports a perf overrun (bpftrace's
 * `Lost N events`) only when the next record fits in the buffer, so an overrun at the very end is
 * never reported; the counters catch it. `drops` is the larger of the two perf counts plus the
 * pairing losses. Lost exec records count in `drops` only: there is no exec hook in the facts.
 */
export function bpftraceFacts(
  tally: Readonly<BpftraceTally>,
  summarized: boolean,
  closedEarly: boolean,
): KernelCaptureFacts {
  const perf = (h: BpftraceHook) => Math.max(0, tally.hooks[h].lines - tally.hooks[h].received);
  const pairing = (h: BpftraceHook) =>
    h === "exec" ? 0 : Math.max(0, tally.hooks[h].entered - tally.hooks[h].events);
  const dropped = (...hs: BpftraceHook[]) => hs.reduce((s, h) => s + perf(h) + pairing(h), 0);
  const emitted = (...hs: BpftraceHook[]) => hs.reduce((s, h) => s + tally.hooks[h].events, 0);
  const perfTotal = BPFTRACE_HOOKS.reduce((s, h) => s + perf(h), 0);
  const pairingTotal = BPFTRACE_HOOKS.reduce((s, h) => s + pairing(h), 0);
  return {
    backend: "bpftrace",
    drops: Math.max(perfTotal, tally.lostReported) + pairingTotal,
    hooks: {
      openat: { emitted: emitted("open", "openat"), dropped: dropped("open", "openat") },
      openat2: { emitted: emitted("openat2"), dropped: dropped("openat2") },
      connect: { emitted: emitted("connect"), dropped: dropped("connect") },
    },
    parse_errors: tally.parseErrors + (summarized ? 0 : 1),
    closed_early: closedEarly,
  };
}

function assemble(p: Pending): RawKernelEvent {
  const path = joinChunks(p.chunks);
  const h = p.head;
  if (h.kind === "exec") return { kind: "exec", pid: h.pid, path };
  return { kind: "openat", pid: h.pid, path, flags: h.flags, mode: h.mode, resolve: h.resolve, ret: h.ret };
}

/** The path from its chunks: up to the chunk holding the NUL; null if a chunk before it was lost. */
function joinChunks(chunks: (Buffer | undefined)[]): string | null {
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    if (c === undefined) return null;
    const s = beforeNul(c);
    parts.push(s);
    if (s.length < PATH_CHUNK) break;
  }
  return pathText(Buffer.concat(parts));
}

/** A decimal printed by bpftrace's `%d` (signed 64-bit) as the unsigned value of its low `bits`. */
function unsigned(text: string, bits: 16 | 32 | 64): U64 {
  return u64(BigInt.asUintN(bits, BigInt(text)));
}
