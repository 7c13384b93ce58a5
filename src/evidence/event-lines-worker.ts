// Worker thread entry: checks batches of event lines for EventLinePool.
import { parentPort } from "node:worker_threads";
import { checkLineBatch, type LineBatch, type LineBatchResult } from "./event-line-batch.js";

parentPort?.on("message", (batch: LineBatch) => {
  let result: LineBatchResult;
  try {
    result = checkLineBatch(batch);
  } catch (err) {
    result = {
      id: batch.id,
      contentHashes: [],
      seqs: [],
      runIds: [],
      error: String((err as Error)?.message ?? err),
    };
  }
  parentPort?.postMessage(result);
});
