import { EVENTS_MEMBER } from "./bundle-format.js";
import { checkEventLine } from "./event-line.js";
import { type VerifyFailure, VerifyStop } from "./verify-codes.js";

/** Consecutive lines of `events.ndjson` (without their newlines), checked as one unit. */
export interface LineBatch {
  id: number;
  /** The lines' bytes back to back. */
  bytes: Uint8Array;
  /** Where each line ends in `bytes`; the next one starts there. */
  ends: Int32Array;
  /** Line number of the first line (1-based). */
  firstLine: number;
  maxDepth: number;
}

/** The facts of each line that passed, in order, up to the first that failed (if any). */
export interface LineBatchResult {
  id: number;
  contentHashes: string[];
  seqs: number[];
  runIds: string[];
  failure?: VerifyFailure;
  /** Set when the checker itself failed (not the bundle). */
  error?: string;
}

/** Check a batch's lines in order, stopping at the first that fails. */
export function checkLineBatch(batch: LineBatch): LineBatchResult {
  const out: LineBatchResult = { id: batch.id, contentHashes: [], seqs: [], runIds: [] };
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i] as number;
    try {
      const facts = checkEventLine(
        batch.bytes.subarray(start, end),
        `${EVENTS_MEMBER}:${batch.firstLine + i}`,
        batch.maxDepth,
      );
      out.contentHashes.push(facts.contentHash);
      out.seqs.push(facts.seq);
      out.runIds.push(facts.runId);
    } catch (err) {
      if (!(err instanceof VerifyStop)) throw err;
      out.failure = err.failure;
      return out;
    }
    start = end;
  }
  return out;
}
