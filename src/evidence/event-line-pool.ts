import { Worker } from "node:worker_threads";
import type { LineBatch, LineBatchResult } from "./event-line-batch.js";

// Built, the worker is the .js beside this module. Under tsx (tests) both are .ts sources, and a
// worker does not inherit tsx's loader: a small eval'd entry registers it, then loads the source.
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(
  FROM_SOURCE ? "./event-lines-worker.ts" : "./event-lines-worker.js",
  import.meta.url,
);

function startWorker(): Worker {
  // A worker inherits the process's flags, but `--input-type` (a host run with `node -e`) would
  // stop it from loading its file.
  const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
  // Its garbage is short-lived strings: a small young generation keeps the verifier's peak RSS
  // ~30 MB lower at the same speed (bench:evidence).
  const resourceLimits = { maxYoungGenerationSizeMb: 8 };
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { execArgv, resourceLimits });
  const entry = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(entry, { eval: true, resourceLimits });
}

/**
 * Worker threads that check event lines while the main thread inflates, hashes and splits the
 * file. Batches go out round-robin; each worker answers in the order it was asked.
 */
export class EventLinePool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve(r: LineBatchResult): void; reject(e: Error): void }>();
  private next = 0;
  private broken: Error | undefined;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const w = startWorker();
      w.on("message", (r: LineBatchResult) => {
        const p = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        p?.resolve(r);
      });
      w.on("error", (err) => this.fail(err));
      w.on("exit", (code) => {
        if (this.waiting.size > 0) this.fail(new Error(`line checker exited (${code})`));
      });
      return w;
    });
  }

  /** Check a batch on the next worker; its bytes are moved there, not copied. */
  check(batch: LineBatch): Promise<LineBatchResult> {
    if (this.broken) return Promise.reject(this.broken);
    const worker = this.workers[this.next++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(batch.id, { resolve, reject });
      worker.postMessage(batch, [batch.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.waiting.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(err: Error): void {
    this.broken ??= err;
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}
