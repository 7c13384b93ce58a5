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

  test("runWith passes its arguments; call hands back the result, at once while nothing is pending", async () => {
    const seen: unknown[] = [];
    const lane = new SerialLane(() => assert.fail("nothing should fail"));
    lane.runWith((a: string, b: number) => void seen.push(a, b), "x", 1);
    assert.deepEqual(seen, ["x", 1], "ran before runWith() returned");
    assert.equal(
      lane.call((a: number, b: number, c: number) => a + b + c, 1, 2, 3),
      6,
    );
    let release: () => void = () => {};
    const slow = lane.call(
      () =>
        new Promise<string>((r) => {
          release = () => r("slow");
        }),
      undefined,
      undefined,
      undefined,
    );
    const queued = lane.call((a: string) => `${a}!`, "after", undefined, undefined);
    assert.ok(queued instanceof Promise, "a task behind a pending one waits");
    release();
    assert.equal(await slow, "slow");
    assert.equal(await queued, "after!");
  });

  test("a call's failure goes to its caller, not to report, and the tasks behind it still run", async () => {
    const reported: unknown[] = [];
    const lane = new SerialLane((err) => reported.push(err));
    assert.throws(
      () =>
        lane.call(
          () => {
            throw new Error("sync boom");
          },
          undefined,
          undefined,
          undefined,
        ),
      /sync boom/,
    );
    const failing = lane.call(() => Promise.reject(new Error("async boom")), undefined, undefined, undefined);
    const behind = lane.call(() => "behind", undefined, undefined, undefined);
    await assert.rejects(Promise.resolve(failing), /async boom/);
    assert.equal(await behind, "behind");
    assert.deepEqual(reported, []);
  });

  test("later never runs its task before it returns, and runs it after the tasks queued before", async () => {
    const seen: string[] = [];
    const lane = new SerialLane(() => assert.fail("nothing should fail"));
    lane.later(() => {
      seen.push("later");
    });
    assert.equal(seen.length, 0, "not from inside later()");
    lane.run(() => {
      seen.push("queued behind it");
    });
    await lane.idle();
    assert.deepEqual(seen, ["later", "queued behind it"]);
  });
});
