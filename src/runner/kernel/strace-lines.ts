/**
 * The lines strace 6.1 writes with `-f -o FILE` (every line starts with the tid), joined into
 * whole records: a call interrupted by another thread's output is written as
 * `name(args <unfinished ...>` and finished later as `<... name resumed>rest`.
 */

/** One whole line of strace's log, joined and classified. */
export type StraceRecord =
  | {
      type: "call";
      tid: number;
      name: string;
      /** The text between the parentheses. */
      args: string;
      /** The text after ` = `: `3`, `-1 ENOENT (No such file or directory)`, `?` (the thread died inside it). */
      ret: string;
      /** Index of the line where the call began (its `<unfinished ...>` line, if it was split). */
      entry: number;
    }
  /** `+++ exited with N +++`, `+++ killed by SIG… +++`, `+++ superseded by execve in pid N +++`: this tid's life ends. */
  | { type: "exit"; tid: number; how: "exited" | "killed" | "superseded" }
  /**
   * `execve(args <pid changed to P ...>`: a thread other than the leader executed a program and
   * took over the leader's pid P (the exec succeeded: strace reports nothing else that says so
   * reliably; under --seccomp-bpf the resumed line carries a bogus return value).
   */
  | { type: "pid-changed"; tid: number; newPid: number; name: string; args: string }
  | { type: "error"; line: string };

// strace pads the tid to the width of the largest possible pid (`1112  openat(`).
const LINE = /^(\d+) +(.*)$/;
const UNFINISHED = " <unfinished ...>";
const RESUMED = /^<\.\.\. ([A-Za-z0-9_]+) resumed>(.*)$/;
const PID_CHANGED = /^(.*) <pid changed to (\d+) \.\.\.>$/;
const EXIT =
  /^\+\+\+ (exited with -?\d+|killed by SIG[A-Z0-9+-]+(?: \(core dumped\))?|superseded by execve in pid \d+) \+\+\+$/;
const SIGNAL = /^--- .* ---$/;
const CALL = /^([A-Za-z0-9_?]+)\((.*)$/;
const RESULT = /^(.*)\) +=(?: (.*))?$/;

/** Joins strace's lines into records, line by line. */
export class StraceLineJoiner {
  private readonly unfinished = new Map<number, { head: string; name: string; entry: number }>();
  /** Leaders whose pid a thread's execve took over: the `<... execve resumed>` that follows is that execve's. */
  private readonly execResume = new Set<number>();
  /** Index (0-based) of the line last pushed. */
  index = -1;

  /** The records line `text` completes (most lines complete one; a blank or signal line none). */
  push(text: string): StraceRecord[] {
    this.index++;
    if (text === "") return [];
    const m = LINE.exec(text);
    if (!m) return [{ type: "error", line: text }];
    const tid = Number(m[1]);
    const rest = m[2] as string;

    const exit = EXIT.exec(rest);
    if (exit) {
      const how = (exit[1] as string).startsWith("exited")
        ? "exited"
        : exit[1]?.startsWith("killed")
          ? "killed"
          : "superseded";
      // A call still open when its thread ends never returns: record it with an unknown result.
      const open = this.flush(tid);
      return [...open, { type: "exit", tid, how }];
    }
    if (SIGNAL.test(rest)) return [];

    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const name = resumed[1] as string;
      const open = this.unfinished.get(tid);
      if (this.execResume.has(tid) && (name === "execve" || name === "execveat")) {
        this.execResume.delete(tid);
        return [];
      }
      if (open === undefined || open.name !== name) return [{ type: "error", line: text }];
      this.unfinished.delete(tid);
      return this.complete(tid, open.head + (resumed[2] as string), open.entry, text);
    }

    const changed = PID_CHANGED.exec(rest);
    if (changed) {
      const call = CALL.exec(changed[1] as string);
      if (!call) return [{ type: "error", line: text }];
      const newPid = Number(changed[2]);
      this.execResume.add(newPid);
      return [{ type: "pid-changed", tid, newPid, name: call[1] as string, args: call[2] as string }];
    }

    if (rest.endsWith(UNFINISHED)) {
      const head = rest.slice(0, -UNFINISHED.length);
      const call = CALL.exec(head);
      if (!call) return [{ type: "error", line: text }];
      // A thread has one call open at a time; a second one means the first was never finished.
      const stale = this.flush(tid);
      this.unfinished.set(tid, { head, name: call[1] as string, entry: this.index });
      return stale;
    }
    return this.complete(tid, rest, this.index, text);
  }

  /** The log ended: calls still open are returned with an unknown result. */
  end(): StraceRecord[] {
    const out: StraceRecord[] = [];
    for (const tid of [...this.unfinished.keys()]) out.push(...this.flush(tid));
    return out;
  }

  private flush(tid: number): StraceRecord[] {
    const open = this.unfinished.get(tid);
    if (open === undefined) return [];
    this.unfinished.delete(tid);
    const call = CALL.exec(open.head);
    if (!call) return [{ type: "error", line: open.head }];
    return [
      { type: "call", tid, name: call[1] as string, args: call[2] as string, ret: "?", entry: open.entry },
    ];
  }

  private complete(tid: number, text: string, entry: number, line: string): StraceRecord[] {
    const call = CALL.exec(text);
    // Arguments never hold `) = ` (strings are all \x escapes under -xx), so the last one ends them;
    // strace pads short calls to a column before the `=`.
    const done = RESULT.exec(text);
    if (!call || !done) return [{ type: "error", line }];
    const name = call[1] as string;
    const args = (done[1] as string).slice(name.length + 1);
    const ret = (done[2] ?? "").trim();
    return [{ type: "call", tid, name, args, ret, entry }];
  }
}

/**
 * Split strace's argument text at top-level `, `: strings (`"…"`, with `\` escapes), structs
 * (`{…}`), arrays (`[…]`), and comments (`/* … *\/`) are kept whole.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? text.length : close + 1;
    } else if (c === "{" || c === "[" || c === "(") depth++;
    else if (c === "}" || c === "]" || c === ")") depth--;
    else if (c === "," && depth === 0 && text[i + 1] === " ") {
      out.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  if (start < text.length || out.length > 0) out.push(text.slice(start));
  return out;
}

/**
 * `name=value` fields of a struct `{…}` (its first level), ignoring what follows its closing brace
 * (clone3's `{…} => {parent_tid=[…]}`); null when `text` is not a struct.
 */
export function structFields(text: string): Map<string, string> | null {
  if (!text.startsWith("{")) return null;
  let depth = 0;
  let close = -1;
  for (let i = 0; i < text.length && close < 0; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) close = i;
  }
  if (close < 0) return null;
  const fields = new Map<string, string>();
  for (const part of splitArgs(text.slice(1, close))) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return fields;
}
