import type { IncomingMessage } from "node:http";

/** How much of a refused body is kept to read its JSON-RPC `id` from. */
const PEEK_BYTES = 64 * 1024;

export type RequestBody =
  | { kind: "complete"; bytes: Buffer }
  /** Over the limit: reading stopped; `prefix` is its start, `bytes` its declared or seen size. */
  | { kind: "oversize"; prefix: Buffer; bytes: number }
  | { kind: "aborted" };

/**
 * Read a request body of at most `limit` bytes. A larger one is not read to its end (memory stays
 * bounded): reading stops at the limit, or at once when `Content-Length` already says too much.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  const declared = Number(req.headers["content-length"]);
  const tooBig = Number.isFinite(declared) && declared > limit;
  const stopAt = tooBig ? Math.min(PEEK_BYTES, limit) : limit;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (body: RequestBody) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > stopAt || (tooBig && size >= stopAt)) {
        req.pause();
        const prefix = Buffer.concat(chunks).subarray(0, PEEK_BYTES);
        chunks.length = 0;
        finish({ kind: "oversize", prefix, bytes: tooBig ? declared : size });
      }
    };
    req.on("data", onData);
    req.on("end", () => {
      if (tooBig) {
        finish({ kind: "oversize", prefix: Buffer.concat(chunks), bytes: declared });
        return;
      }
      finish({ kind: "complete", bytes: Buffer.concat(chunks, size) });
    });
    req.on("error", () => finish({ kind: "aborted" }));
    req.on("close", () => finish({ kind: "aborted" }));
  });
}
