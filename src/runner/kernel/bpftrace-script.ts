/**
 * The bpftrace program of a capture, for bpftrace 0.17 (Debian bookworm). Everything here was
 * checked against that version on Linux 6.18; the comments say what it can and cannot do.
 *
 * Output, one line per perf record (the parser in bpftrace-parse.ts reads exactly this):
 *
 *   ASSAY_READY <cgroup id>                     BEGIN: every probe is attached
 *   OPEN <syscall> <tid> <pid> <ts> <flags> <mode> <resolve> <how size> <ret> <chunk> <more> <hex>
 *   CONNECT <tid> <pid> <ret> <family> <addrlen> <hex>
 *   EXEC <tid> <pid> <ts> <chunk> <more> <hex>
 *   ASSAY_TICK <cpu> <request>                  this CPU's records up to the flush request are out
 *   ASSAY_END                                   END: the map dump follows
 *
 * then, printed by bpftrace itself at exit, every map: `@enter_<hook>: N` (syscalls entered),
 * `@event_<hook>: N` (events emitted) and `@lines_<hook>: N` (records printed), all per-CPU count()
 * maps, so counting never contends; and, on stdout wherever the perf buffer overflowed,
 * `Lost N events`.
 *
 * bpftrace 0.17's printf `%d` is C's: a 64-bit value is cut to 32 bits (nsecs prints as a negative
 * number). Every 64-bit value goes out as `%lld` (signed) or `%llu` (unsigned).
 */

/** The str() buffer of a path chunk: BPFTRACE_STRLEN. See PATH_CHUNK for why not more. */
export const STRLEN = 104;
/**
 * Path bytes per record (the 104-byte str() buffer holds 103 bytes and the NUL).
 *
 * bpftrace 0.17 keeps str(), buf() and printf's arguments on the 512-byte BPF stack: BPFTRACE_STRLEN
 * is capped at 200, and our sys_exit_openat2 probe fails to load ("BPF stack limit of 512 bytes is
 * exceeded") at 112. So a path is printed in chunks, one record each.
 */
export const PATH_CHUNK = STRLEN - 1;
/** Chunks per path: 40 × 103 = 4120 bytes ≥ PATH_MAX (4096, with its NUL). */
export const MAX_CHUNKS = 40;
/** How often each CPU looks for a flush request: at most 4 ms of waiting per stop. */
export const TICK_HZ = 250;

/** Flush tokens lie above any pid (pid_max is at most 2^22), so `kill(-token, 0)` signals no one. */
const FLUSH_TOKEN_MIN = 2 ** 29;

/** A random token for a capture's flush requests. */
export function newFlushToken(): number {
  return FLUSH_TOKEN_MIN + Math.floor(Math.random() * FLUSH_TOKEN_MIN);
}

function isFlushToken(n: number): boolean {
  return Number.isInteger(n) && n >= FLUSH_TOKEN_MIN && n < 2 * FLUSH_TOKEN_MIN;
}

/**
 * A flush request: `kill(-token, 0)`, which asks whether the process group `token` exists (it
 * cannot: no pid is that large) and which the script's sys_enter_kill probe sees. A syscall with
 * an argument of our choosing, not a pid filter: bpftrace's `pid` is the root namespace's, which a
 * runner in a container does not know.
 */
export function flushRequest(token: number): void {
  try {
    process.kill(-token, 0);
  } catch {
    // ESRCH, as intended.
  }
}

/** The hooks the script counts, as they appear in map names and OPEN lines. */
export const OPEN_SYSCALLS = ["open", "openat", "openat2"] as const;
export type OpenSyscall = (typeof OPEN_SYSCALLS)[number];
export type BpftraceHook = OpenSyscall | "connect" | "exec";
export const BPFTRACE_HOOKS: readonly BpftraceHook[] = [...OPEN_SYSCALLS, "connect", "exec"];

/**
 * The program for the cgroup at `cgroupPath`; `flushToken` names this capture's flush requests
 * (see flushRequest).
 *
 * Pairing enter and exit: a map keyed by tid, written at sys_enter and read and deleted at
 * sys_exit, one map per syscall. Arguments are read at exit, not at enter: by then the kernel has
 * copied them itself, so the user pages are resident (at sys_enter a path on a page not yet
 * faulted in reads as nothing: BPF cannot take page faults). A full map does not drop silently:
 * `@enter_<hook>` counts every enter, `@event_<hook>` every exit that found its enter, and the
 * parser reports the difference as dropped (so does a syscall still in flight when we stop).
 *
 * Paths are printed with `%rx` over `buf(str(p), 104)`: bpftrace 0.17 prints every byte of the
 * buffer as `\xNN` (str() zero-fills after the NUL), so any byte a path can hold, newline included,
 * comes through unambiguously. `%s` would print newlines raw, and `%r` leaves printable bytes as
 * they are (a path holding the text `\x41` would be ambiguous). A path longer than one chunk goes on
 * in more records keyed by (tid, ts); `more` says that this chunk held no NUL (see pathLoop).
 *
 * Flushing: bpftrace 0.17 stops reading its perf buffers at SIGINT, so records still queued there
 * are lost (and not reported: see bpftraceFacts). Before stopping, the runner makes a flush request
 * (flushRequest): that sets `@flushreq` to the time of the call, and on every CPU the next profile
 * tick prints one ASSAY_TICK with it. A CPU's buffer is read in order, so once a tick carrying a
 * request made after the agent exited has come from every CPU, every record of the agent is out.
 */
export function bpftraceScript(cgroupPath: string, flushToken: number): string {
  if (/["\\\n]/.test(cgroupPath))
    throw new Error(`cgroup path \`${cgroupPath}\` cannot go in a bpftrace string`);
  if (!isFlushToken(flushToken)) throw new Error(`bad flush token ${flushToken}`);
  const filter = `/cgroup == cgroupid("${cgroupPath}")/`;
  const openLike = (syscall: "open" | "openat") => `
tracepoint:syscalls:sys_enter_${syscall} ${filter} {
  @enter_${syscall} = count();
  @inflight_${syscall}[tid] = (1, (uint64)args->filename, (uint64)args->flags, (uint64)args->mode);
}
tracepoint:syscalls:sys_exit_${syscall} ${filter} {
  $e = @inflight_${syscall}[tid];
  if ($e.0 == 1) {
    delete(@inflight_${syscall}[tid]);
    @event_${syscall} = count();
${pathLoop("uptr", "$e.1", `"OPEN ${syscall} %d %d %llu %lld %lld 0 24 %lld %d %d %rx\\n", tid, pid, $ts, $e.2, $e.3, args->ret`, syscall)}
  }
}`;
  return `// Generated by assay (src/runner/kernel/bpftrace-script.ts) for bpftrace 0.17.
BEGIN { printf("ASSAY_READY %llu\\n", cgroupid("${cgroupPath}")); }
END { printf("ASSAY_END\\n"); }

// bpftrace 0.17 reads the pid_t zero-extended (as unsigned): compare its low 32 bits with -token's.
tracepoint:syscalls:sys_enter_kill /(args->pid & 0xffffffff) == ${2 ** 32 - flushToken} && args->sig == 0/ { @flushreq = nsecs; }
profile:hz:${TICK_HZ} /@flushreq/ {
  $r = @flushreq;
  if (@flushed[cpu] != $r) {
    @flushed[cpu] = $r;
    printf("ASSAY_TICK %d %llu\\n", cpu, $r);
  }
}
${openLike("open")}
${openLike("openat")}

tracepoint:syscalls:sys_enter_openat2 ${filter} {
  @enter_openat2 = count();
  @inflight_openat2[tid] = (1, (uint64)args->filename, (uint64)args->how, (uint64)args->usize);
}
tracepoint:syscalls:sys_exit_openat2 ${filter} {
  $e = @inflight_openat2[tid];
  if ($e.0 == 1) {
    delete(@inflight_openat2[tid]);
    @event_openat2 = count();
    // struct open_how is { u64 flags; u64 mode; u64 resolve; } (24 bytes, OPEN_HOW_SIZE_VER0), read
    // in the printf itself (a variable each overflows the stack); the parser zeroes them when the
    // caller's size was below 24 (the kernel refused the call without reading them).
${pathLoop("uptr", "$e.1", `"OPEN openat2 %d %d %llu %llu %llu %llu %lld %lld %d %d %rx\\n", tid, pid, $ts, *(uint64 *)uptr($e.2), *(uint64 *)uptr($e.2 + 8), *(uint64 *)uptr($e.2 + 16), $e.3, args->ret`, "openat2")}
  }
}

tracepoint:syscalls:sys_enter_connect ${filter} {
  @enter_connect = count();
  @inflight_connect[tid] = (1, (uint64)args->uservaddr, (uint64)args->addrlen);
}
tracepoint:syscalls:sys_exit_connect ${filter} {
  $e = @inflight_connect[tid];
  if ($e.0 == 1) {
    delete(@inflight_connect[tid]);
    @event_connect = count();
    @lines_connect = count();
    // Raw sockaddr bytes, decoded in userspace: the address text must be the contract's (RFC 5952,
    // \`::ffff:a.b.c.d\`), which ntop()'s inet_ntop does not promise. 24 bytes of a sockaddr_in6
    // reach through the address; its scope id is not part of an endpoint.
    $fam = *(uint16 *)uptr($e.1);
    $len = (uint64)($fam == 2 ? 16 : ($fam == 10 ? 24 : 0));
    if ($e.2 < $len) { $len = 0; }
    printf("CONNECT %d %d %lld %d %lld %rx\\n", tid, pid, args->ret, $fam, $e.2, buf(uptr($e.1), $len));
  }
}

tracepoint:sched:sched_process_exec ${filter} {
  @event_exec = count();
  // filename is a __data_loc string in kernel memory (bprm->filename), the path execve was given.
${pathLoop("kptr", "(uint64)args->filename", `"EXEC %d %d %llu %d %d %rx\\n", tid, pid, $ts`, "exec")}
}
`;
}

/**
 * One record per path chunk. One printf in a loop, not one per chunk: each printf of a buffer
 * takes its own stack slot, and two of them already overflow the BPF stack.
 *
 * `more` is exact: the chunk's 103 bytes are read as 13 words (the last at offset 95) and any word
 * holding a zero byte (`(w - 0x01…01) & ~w & 0x80…80`) ends the path. Checking only the chunk's last
 * byte is not enough: a path in .rodata (ld.so's "/etc/ld.so.cache") is followed by other strings,
 * which made a one-chunk path look like sixteen. A word that cannot be read counts as holding the
 * NUL, rightly: the kernel read the whole path, so memory that cannot be read lies past its end.
 */
function pathLoop(space: "uptr" | "kptr", pointer: string, head: string, hook: BpftraceHook): string {
  const words = Math.ceil(PATH_CHUNK / 8);
  return `    $p = ${pointer}; $ts = nsecs; $n = (uint64)0; $more = 1;
    $lo = (uint64)0x01010101 << 32 | (uint64)0x01010101; $hi = $lo << 7;
    while ($more) {
      $more = 0;
      if ($n < ${MAX_CHUNKS - 1}) {
        $more = 1; $k = (uint64)0;
        while ($k < ${words}) {
          $w = *(uint64 *)${space}($p + $n * ${PATH_CHUNK} + ($k < ${words - 1} ? $k * 8 : ${PATH_CHUNK - 8}));
          if ((($w - $lo) & ~$w & $hi) != 0) { $more = 0; break; }
          $k++;
        }
      }
      @lines_${hook} = count();
      printf(${head}, $n, $more, buf(str(${space}($p + $n * ${PATH_CHUNK})), ${STRLEN}));
      $n++;
    }`;
}
