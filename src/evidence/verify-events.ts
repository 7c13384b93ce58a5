import { createHash } from "node:crypto";
import { type BundleManifest, EVENTS_MEMBER, RunRoot } from "./bundle-format.js";
import { checkEventLine, type EventLineFacts } from "./event-line.js";
import type { LineBatch, LineBatchResult } from "./event-line-batch.js";
import type { EventLinePool } from "./event-line-pool.js";
import type { EvidenceLimits } from "./limits.js";
import { VerifyStop } from "./verify-codes.js";

/** Lines go to a worker in batches of about this many bytes. */
const BATCH_BYTES = 256 * 1024;
/** How many batches may be out before the reader waits (see `drain`). */
const MAX_IN_FLIGHT = 4;

/**
 * `events.ndjson`, streamed: every byte goes into the file hash; lines are checked as they
 * complete (strict JSON, CloudEvents shape, content hash, id, seq, run id), on this thread or, with
 * a pool, on worker threads in batches whose results are applied here in line order. The first
 * line problem is held back until the file hash and size have been checked, because those come
 * first in the verification order; after it, lines are only hashed.
 */
export class EventsChecker {
  private readonly sha = createHash("sha256");
  private readonly root = new RunRoot();
  private bytes = 0;
  private line = 0;
  private count = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineFailure: VerifyStop | undefined;
  /** Set once a line problem is known or queued: later lines are only hashed. */
  private stopReading = false;
  /** Lines waiting to be sent to the pool, and the first one's number. */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchFirstLine = 1;
  private batchId = 0;
  /** Batches sent, in line order. */
  private readonly inFlight: Promise<LineBatchResult>[] = [];

  constructor(
    private readonly manifest: BundleManifest,
    private readonly limits: EvidenceLimits,
    private readonly pool?: EventLinePool,
  ) {}

  data(chunk: Buffer): void {
    this.sha.update(chunk);
    this.bytes += chunk.length;
    if (this.lineFailure || this.stopReading) return;
    try {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, from);
        if (nl === -1) break;
        const piece = chunk.subarray(from, nl);
        this.line++;
        if (this.pendingBytes + piece.length > this.limits.maxLineBytes) this.tooLong();
        const text = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
        this.pending = [];
        this.pendingBytes = 0;
        if (this.pool) this.addToBatch(text);
        else this.consume(checkEventLine(text, `${EVENTS_MEMBER}:${this.line}`, this.limits.maxDepth));
        from = nl + 1;
      }
      if (from < chunk.length) {
        this.pending.push(chunk.subarray(from));
        this.pendingBytes += chunk.length - from;
        if (this.pendingBytes > this.limits.maxLineBytes) {
          this.line++;
          this.tooLong();
        }
      }
    } catch (err) {
      if (!(err instanceof VerifyStop)) throw err;
      this.pending = [];
      if (!this.pool) {
        this.lineFailure = err;
        return;
      }
      // Lines before this one are still out: their problems come first.
      this.sendBatch();
      const failure = err.failure;
      this.inFlight.push(Promise.resolve({ id: -1, contentHashes: [], seqs: [], runIds: [], failure }));
      this.stopReading = true;
    }
  }

  /** Wait until at most `max` batches are out, applying the results in order. */
  async drain(max = MAX_IN_FLIGHT): Promise<void> {
    while (this.inFlight.length > max) this.apply(await (this.inFlight.shift() as Promise<LineBatchResult>));
  }

  /** After the last byte: file hash and size, the held-back line problem, then count, run root, bundle id. */
  async finish(): Promise<{ eventCount: number; runRoot: string }> {
    if (this.pool && !this.stopReading) this.sendBatch();
    await this.drain(0);
    const file = this.manifest.files[EVENTS_MEMBER];
    if (this.bytes !== file.bytes)
      throw new VerifyStop(
        "events_size_mismatch",
        `events file has ${this.bytes} bytes, manifest says ${file.bytes}`,
        EVENTS_MEMBER,
      );
    const sha = `sha256:${this.sha.digest("hex")}`;
    if (sha !== file.sha256)
      throw new VerifyStop(
        "events_hash_mismatch",
        `events file hash ${sha} does not match the manifest's ${file.sha256}`,
        EVENTS_MEMBER,
      );
    if (this.lineFailure) throw this.lineFailure;
    if (this.pendingBytes > 0)
      throw new VerifyStop(
        "event_unterminated",
        "last line has no newline",
        `${EVENTS_MEMBER}:${this.line + 1}`,
      );
    if (this.count !== this.manifest.event_count)
      throw new VerifyStop(
        "event_count_mismatch",
        `${this.count} events, manifest says ${this.manifest.event_count}`,
        EVENTS_MEMBER,
      );
    const runRoot = this.root.digest();
    if (runRoot !== this.manifest.run_root)
      throw new VerifyStop(
        "run_root_mismatch",
        `run root ${runRoot} does not match the manifest's ${this.manifest.run_root}`,
        "manifest.json#/run_root",
      );
    if (this.manifest.bundle_id !== runRoot)
      throw new VerifyStop(
        "bundle_id_mismatch",
        `bundle id ${this.manifest.bundle_id} is not the run root ${runRoot}`,
        "manifest.json#/bundle_id",
      );
    return { eventCount: this.count, runRoot };
  }

  private tooLong(): never {
    throw new VerifyStop(
      "limit_line_length",
      `line longer than ${this.limits.maxLineBytes} bytes`,
      `${EVENTS_MEMBER}:${this.line}`,
    );
  }

  /** Apply a checked line's facts that depend on the lines before it: seq, run id, run root. */
  private consume(f: EventLineFacts, where = `${EVENTS_MEMBER}:${this.line}`): void {
    if (f.seq !== this.count)
      throw new VerifyStop("event_seq_mismatch", `seq ${f.seq}, expected ${this.count}`, where);
    if (f.runId !== this.manifest.run_id)
      throw new VerifyStop(
        "event_run_id_mismatch",
        `run id \`${f.runId}\` is not the manifest's \`${this.manifest.run_id}\``,
        where,
      );
    this.root.add(f.contentHash);
    this.count++;
  }

  private addToBatch(line: Buffer): void {
    if (this.batch.length === 0) this.batchFirstLine = this.line;
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batchBytes >= BATCH_BYTES) this.sendBatch();
  }

  private sendBatch(): void {
    if (this.batch.length === 0 || !this.pool) return;
    // Its own ArrayBuffer, so it can be moved to the worker.
    const bytes = new Uint8Array(new ArrayBuffer(this.batchBytes));
    const ends = new Int32Array(this.batch.length);
    let at = 0;
    for (let i = 0; i < this.batch.length; i++) {
      const b = this.batch[i] as Buffer;
      bytes.set(b, at);
      at += b.length;
      ends[i] = at;
    }
    const batch: LineBatch = {
      id: this.batchId++,
      bytes,
      ends,
      firstLine: this.batchFirstLine,
      maxDepth: this.limits.maxDepth,
    };
    this.inFlight.push(this.pool.check(batch));
    this.batch = [];
    this.batchBytes = 0;
  }

  private apply(r: LineBatchResult): void {
    if (this.lineFailure) return;
    if (r.error !== undefined) throw new Error(`event line check failed: ${r.error}`);
    try {
      for (let i = 0; i < r.seqs.length; i++) {
        this.consume(
          {
            contentHash: r.contentHashes[i] as string,
            seq: r.seqs[i] as number,
            runId: r.runIds[i] as string,
          },
          `${EVENTS_MEMBER}:${this.count + 1}`,
        );
      }
    } catch (err) {
      if (!(err instanceof VerifyStop)) throw err;
      this.lineFailure = err;
      this.stopReading = true;
      return;
    }
    if (r.failure) {
      this.lineFailure = new VerifyStop(r.failure.code, r.failure.message, r.failure.where);
      this.stopReading = true;
    }
  }
}
