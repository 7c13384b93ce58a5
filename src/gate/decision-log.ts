import { fstatSync, ftruncateSync, writeSync } from "node:fs";
import { type FileHandle, open, stat, truncate } from "node:fs/promises";
import type { AnyGateEvent } from "../records/decision-event.js";
import { assertRecord, assertRecords } from "../records/decision-record.js";
import { ByteOut } from "./byte-out.js";
import { FileLock } from "./file-lock.js";
import { RecordLines } from "./record-line.js";

/** Where the gate's records go. `append` resolves once the record is stored; a rejection fails the call closed. */
export interface DecisionSink {
  append(event: AnyGateEvent): Promise<void>;
  /**
   * Store several records at once, synchronously: all of them or (throwing) none. Optional; the
   * stdio gate uses it to store a whole chunk's decisions in one write before forwarding any,
   * and createGate to decide, record and forward a message within one send().
   */
  appendSync?(events: readonly AnyGateEvent[]): void;
  close(): Promise<void>;
}

/**
 * The decision log file: NDJSON, one CloudEvent per line, appended. Records are written as
 * complete lines, a batch (one chunk's calls) per write, and a line cut short by a crash is
 * removed when the log is opened again (the call it described was never forwarded: records are
 * written first). So a crash can leave records of calls that were then never forwarded, never a
 * forwarded call without its record. Readers skip a last line without its newline, so a reader
 * racing a writer never sees half a record.
 */
export class FileDecisionLog implements DecisionSink {
  /** Set when a failed append could not be undone: every later append fails (closed). */
  private broken: string | undefined;
  private readonly lines = new RecordLines();
  private readonly out = new ByteOut();
  /** Whether a batch is being built in `out` (see appendSync). */
  private building = false;

  private constructor(
    private readonly file: FileHandle,
    private size: number,
    private readonly lock: FileLock | undefined,
  ) {}

  /**
   * Open (or create) a log. A regular file is locked for this gate (`<path>.lock`): cutting off
   * a half-written record is safe only while no other process appends, so a log another live
   * gate holds is refused (`output_unwritable`). A pipe or terminal is neither locked nor cut.
   */
  static async open(path: string): Promise<FileDecisionLog> {
    // Opened (created) first, so that the lock is taken on its real path: a symlink to a log
    // takes the same lock as the log.
    const file = await open(path, "a", 0o644);
    let lock: FileLock | undefined;
    try {
      if ((await file.stat()).isFile()) {
        lock = await FileLock.acquire(path, { what: "decision log" });
        await dropPartialLastLine(path);
      }
      return new FileDecisionLog(file, (await file.stat()).size, lock);
    } catch (err) {
      await lock?.release().catch(() => {});
      await file.close().catch(() => {});
      throw err;
    }
  }

  async append(event: AnyGateEvent): Promise<void> {
    this.appendSync([event]);
  }

  appendSync(events: readonly AnyGateEvent[]): void {
    if (this.broken) throw new Error(`the decision log is unusable: ${this.broken}`);
    // Every record is checked before any is written (all or none): the usual ones by RecordLines,
    // the rest by the schema validator. They are written as bytes into one buffer, the batch's.
    // A record's own toJSON (records built outside the gate) may append to this log while the
    // batch is being built: that append builds its batch in a buffer of its own.
    const nested = this.building;
    const out = nested ? new ByteOut(1024) : this.out;
    out.reset();
    this.building = true;
    try {
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        if (!this.lines.encode(e, out)) {
          assertRecord(e);
          this.lines.accepted(e);
          out.utf8(JSON.stringify(e));
        }
        out.byte(0x0a);
      }
    } finally {
      this.building = nested;
    }
    // Synchronous on purpose: the call waits for its record either way, and a trip through
    // libuv's thread pool per record halved the gate's throughput (bench:gate). A write that
    // comes up short goes on from where it stopped.
    const bytes = out.len;
    let off = 0;
    try {
      while (off < bytes) off += writeSync(this.file.fd, out.buf, off, bytes - off);
    } catch (err) {
      // A record cut short (disk full) must not stay: the next one would be glued to it. Only
      // this gate appends to a locked log, so what lies past `size` is this record's start.
      if (off > 0) this.cutPartial(off);
      throw err;
    }
    this.size += bytes;
  }

  /**
   * Cut off the `off` bytes of a record a failed write left. Only when the file is exactly what
   * this gate wrote plus those bytes (a locked log: nobody else appends; a hard link to it under
   * another name would still show up here): otherwise nothing is cut and the log is unusable.
   */
  private cutPartial(off: number): void {
    if (this.lock === undefined) {
      this.broken = "a partial record was written to a log that is not a regular file";
      return;
    }
    try {
      const size = fstatSync(this.file.fd).size;
      if (size !== this.size + off) {
        this.broken = `a partial record could not be removed: the log is ${size} bytes, not the ${this.size + off} this gate wrote (another process appends to it)`;
        return;
      }
      ftruncateSync(this.file.fd, this.size);
    } catch (undo) {
      this.broken = `a partial record could not be removed: ${(undo as Error).message}`;
    }
  }

  async close(): Promise<void> {
    try {
      await this.file.close();
    } finally {
      await this.lock?.release();
    }
  }
}

/** Records kept in memory (tests, embedding). */
export class MemoryDecisionLog implements DecisionSink {
  readonly events: AnyGateEvent[] = [];
  async append(event: AnyGateEvent): Promise<void> {
    this.appendSync([event]);
  }
  appendSync(events: readonly AnyGateEvent[]): void {
    assertRecords(events);
    this.events.push(...events);
  }
  async close(): Promise<void> {}
}

async function dropPartialLastLine(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (size === 0) return;
  const fh = await open(path, "r");
  try {
    // Scan back from the end for the last newline, a block at a time.
    const block = Buffer.alloc(64 * 1024);
    let pos = size;
    while (pos > 0) {
      const len = Math.min(block.length, pos);
      pos -= len;
      await fh.read(block, 0, len, pos);
      const nl = block.subarray(0, len).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = pos + nl + 1;
        if (keep === size) return;
        await fh.close();
        await truncate(path, keep);
        return;
      }
    }
  } finally {
    await fh.close().catch(() => {});
  }
  await truncate(path, 0);
}
