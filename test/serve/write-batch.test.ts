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

test("an answer that cannot be written is dropped alone: its connection is destroyed, the others go out", async () => {
  const hook = createWriteBatch();
  const events: string[] = [];
  const failing = {
    log: { error: (_o: unknown, msg: string) => events.push(`log: ${msg}`) },
    raw: { destroy: (err: Error) => events.push(`destroyed: ${err.message}`) },
  } as unknown as FastifyReply;
  hook(request, failing, "bad", () => {
    throw new TypeError("Invalid character in header content");
  });
  hook(request, reply, "good", (_err, p) => events.push(`written: ${p}`));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, [
    "log: an answer could not be written",
    "destroyed: Invalid character in header content",
    "written: good",
  ]);
});
