import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { lazyChildLogger } from "../../src/serve/request-logger.js";

function logger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  // The service's logger as the service makes it: fastify's pino, with redaction.
  const parent = Fastify({
    logger: { level, stream, redact: { paths: ["token"], censor: "[redacted]" } },
  }).log;
  let children = 0;
  const child = parent.child;
  // pino's children inherit from their parent: `this`, not the parent, is whose child is made.
  parent.child = function (this: FastifyBaseLogger, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof parent.child;
  return { parent: parent as FastifyBaseLogger, lines, children: () => children };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

test("below the level, a request's logger writes nothing and never makes pino's child", async () => {
  const { parent, lines, children } = logger("warn");
  const log = lazyChildLogger(parent, { request_id: "r-1" }, {});
  log.info({ a: 1 }, "request");
  log.debug("detail");
  log.trace("more");
  await flushed();
  assert.deepEqual(lines, []);
  assert.equal(children(), 0);
  assert.equal(log.level, "warn");
});

test("at or above the level, lines carry the request's bindings and redaction, through one child", async () => {
  const { parent, lines, children } = logger("warn");
  const log = lazyChildLogger(parent, { request_id: "r-2" }, {});
  log.warn({ token: "secret", status: 503 }, "request");
  log.error("failed");
  await flushed();
  assert.equal(children(), 1);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.request_id, "r-2");
  assert.equal(lines[0]?.token, "[redacted]");
  assert.equal(lines[0]?.status, 503);
  assert.equal(lines[1]?.msg, "failed");
  // A grandchild keeps the request's bindings.
  log.child({ step: "x" }, {}).error("deeper");
  await flushed();
  assert.equal(lines[2]?.request_id, "r-2");
  assert.equal(lines[2]?.step, "x");
});

test("a level set on the request's logger applies to it alone", async () => {
  const { parent, lines } = logger("warn");
  const log = lazyChildLogger(parent, { request_id: "r-3" }, {});
  log.level = "debug";
  log.debug("now shown");
  parent.debug("parent still quiet");
  await flushed();
  assert.deepEqual(
    lines.map((l) => l.msg),
    ["now shown"],
  );
});

test("a route's own level (fastify's logLevel) is honoured: that request's logger is pino's child at once", async () => {
  const { parent, lines, children } = logger("warn");
  const log = lazyChildLogger(parent, { request_id: "r-4" }, { level: "debug" });
  assert.equal(children(), 1);
  log.debug("route detail");
  await flushed();
  assert.equal(lines[0]?.msg, "route detail");
  assert.equal(lines[0]?.request_id, "r-4");
});
