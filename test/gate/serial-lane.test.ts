import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SerialLane } from "../../src/gate/serial-lane.js";

describe("SerialLane", () => {
  test("runs tasks at once while nothing is pending", () => {
    const seen: string[] = [];
    const lane = new SerialLane(() => assert.fail("nothing should fail"));
    lane.run(() => {
      seen.push("a");
    });
    lane.run(() => {
      seen.push("b");
    });
    assert.deepEqual(seen, ["a", "b"], "both ran before run() returned");
  });

  test("a pending task holds back later tasks, which then run in order; idle() waits for all", async () => {
    const seen: string[] = [];
    const lane = new SerialLane(() => assert.fail("nothing should fail"));
    let release: () => void = () => {};
    lane.run(() => {
      seen.push("slow:start");
      return new Promise<void>((r) => {
        release = () => {
          seen.push("slow:end");
          r();
        };
      });
    });
    lane.run(() => {
      seen.push("b");
    });
    lane.run(async () => {
      seen.push("c");
    });
    lane.run(() => {
      seen.push("d");
    });
    assert.deepEqual(seen, ["slow:start"], "later tasks wait");
    const idle = lane.idle();
    release();
    await idle;
    assert.deepEqual(seen, ["slow:start", "slow:end", "b", "c", "d"]);
    lane.run(() => {
      seen.push("e");
    });
    assert.equal(seen.at(-1), "e", "synchronous again once the lane is idle");
  });

  test("a failing task is reported and the tasks behind it still run", async () => {
    const errors: string[] = [];
    const seen: string[] = [];
    const lane = new SerialLane((err) => errors.push((err as Error).message));
    lane.run(() => {
      throw new Error("sync boom");
    });
    lane.run(() => Promise.reject(new Error("async boom")));
    lane.run(() => {
      seen.push("after");
    });
    await lane.idle();
    assert.deepEqual(errors, ["sync boom", "async boom"]);
    assert.deepEqual(seen, ["after"]);
  });
});
