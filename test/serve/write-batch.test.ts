import assert from "node:assert/strict";
import { test } from "node:test";
import type { FastifyReply, FastifyRequest } from "fastify";
import { createWriteBatch } from "../../src/serve/write-batch.js";

const request = {} as FastifyRequest;
const reply = {} as FastifyReply;

test("answers sent in one turn are held, then released together, in order, with their payloads", async () => {
  const hook = createWriteBatch();
  const released: [Error | null, unknown][] = [];
  for (const payload of ["a", "b", "c"]) hook(request, reply, payload, (err, p) => released.push([err, p]));
  assert.equal(released.length, 0, "nothing is written in the turn that produced it");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(released, [
    [null, "a"],
    [null, "b"],
    [null, "c"],
  ]);
  // The next turn starts a new batch: an answer is never held behind a released one.
  hook(request, reply, "d", (err, p) => released.push([err, p]));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(released[3], [null, "d"]);
});

test("an answer is held no longer than the event loop's turn: timers due later do not run first", async () => {
  const hook = createWriteBatch();
  const order: string[] = [];
  setTimeout(() => order.push("timer 5 ms"), 5);
  hook(request, reply, "x", () => order.push("answer"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(order, ["answer", "timer 5 ms"]);
});
