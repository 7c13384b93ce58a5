import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decide } from "../../src/policy/decide.js";
import { decisions, startGate, workspacePolicy } from "./helpers.js";

const policy = workspacePolicy();

const MAX_FRAME = 2048;

/** How a careless server reads a method: the recording server's rule, plus Unicode folding. */
function lenientMethod(m: string): string {
  return m
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^a-z0-9/]/g, "");
}

/** Every message a lenient server would run as a tool call, batches (nested too) unpacked. */
function toolCallsIn(msg: unknown): Record<string, unknown>[] {
  if (Array.isArray(msg)) return msg.flatMap(toolCallsIn);
  if (msg === null || typeof msg !== "object") return [];
  const m = msg as Record<string, unknown>;
  if (typeof m.method !== "string") return [];
  const looksLike =
    lenientMethod(m.method) === "tools/call" ||
    m.method.toLowerCase().replace(/[^a-z0-9/]/g, "") === "tools/call";
  return looksLike ? [m] : [];
}

const idArb = fc.oneof(
  fc.integer({ min: -3, max: 50 }),
  fc.constantFrom("a", "b", "7", ""),
  fc.constantFrom(null, true, 1.5, { n: 1 }, [1]),
  fc.constant(undefined),
);
const methodArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant("tools/call") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "Tools/call",
      "TOOLS/CALL",
      "tools/Call",
      " tools/call",
      "tools/call ",
      "tools/call\u0000",
      "tools/call\n",
      "ｔｏｏｌｓ/ｃａｌｌ",
      "tools/\u200bcall",
      "tools\\call",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "tools/list",
      "ping",
      "resources/read",
      "notifications/cancelled",
      "initialize",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(42, null) },
);
const nameArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("read_file", "list_dir", "write_file", "exec") },
  { weight: 2, arbitrary: fc.constantFrom("Read_File", "read_file ", "exec\u0000", "EXEC", "readFile", "") },
  { weight: 1, arbitrary: fc.constantFrom(42, null, ["read_file"], { n: "read_file" }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const argsArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      path: fc.constantFrom(
        "/workspace/a.txt",
        "/etc/passwd",
        "/workspace/../etc/shadow",
        "",
        "/workspace/%2e%2e/x",
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(["/workspace/a"], "/workspace/a", null, 7) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  },
);
const paramsArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { name: nameArb, arguments: argsArb, _meta: fc.constant({ toolCallId: "tc" }) },
      { requiredKeys: ["name"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(undefined, null, "read_file", ["read_file", { path: "/workspace/a" }], 3),
  },
);
const messageArb = fc
  .record(
    {
      jsonrpc: fc.oneof(
        { weight: 8, arbitrary: fc.constant("2.0") },
        { weight: 1, arbitrary: fc.constantFrom("1.0", 2) },
      ),
      id: idArb,
      method: methodArb,
      params: paramsArb,
      result: fc.constant({}),
    },
    { requiredKeys: ["method"] },
  )
  .map((m) => {
    // `undefined` values disappear in JSON: that is how a key goes missing.
    return m as Record<string, unknown>;
  });
/** A well-formed call, so that allowed and denied calls both come up often. */
const wellFormedCallArb = fc.record({
  jsonrpc: fc.constant("2.0"),
  id: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constantFrom("a", "b", "c")),
  method: fc.constant("tools/call"),
  params: fc.record({
    name: fc.constantFrom("read_file", "list_dir", "write_file", "exec"),
    arguments: fc.record({
      path: fc.constantFrom("/workspace/a.txt", "/workspace/b/c", "/etc/passwd", "/workspace/../x"),
    }),
  }),
});
const shapeArb = fc.oneof(
  { weight: 6, arbitrary: wellFormedCallArb.map((m): unknown => m) },
  { weight: 8, arbitrary: messageArb.map((m): unknown => m) },
  { weight: 1, arbitrary: fc.array(messageArb, { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: messageArb.map((m) => [[m]]) },
);

type Mutation = (text: string, n: number) => Buffer;
const MUTATIONS: Mutation[] = [
  (t) => Buffer.from(t),
  (t) => Buffer.from(t),
  (t, n) => Buffer.from(t.slice(0, n % (t.length + 1))),
  (t, n) => {
    const at = n % (t.length + 1);
    return Buffer.from(t.slice(0, at) + ['"', "{", "}", ",", "\\", "\u0000", " ", "]"][n % 8] + t.slice(at));
  },
  (t) => Buffer.from(t.replace("tools/call", "tools\\/call")),
  (t) => Buffer.from(t.replace("tools/call", "tools/\\u0063all")),
  (t) => Buffer.from(t.replace(/^\{/, '{"method":"tools/call",')),
  (t) => Buffer.from(t.replace(/\}$/, ',"method":"ping"}')),
  (t) => Buffer.from(t.replace(/"name":/, '"name":"read_file","name":')),
  (t) => Buffer.from(t.replace(/^\{/, `{"pad":"${"x".repeat(MAX_FRAME)}",`)),
  (t) => Buffer.from(`\ufeff${t}`),
  (t) => Buffer.from(`${t}\r`),
  (t, n) => {
    const b = Buffer.from(t);
    if (b.length > 0) b[n % b.length] = [0xff, 0xc3, 0x80, 0xed][n % 4] as number;
    return b;
  },
  (t, n) => {
    const at = n % (t.length + 1);
    return Buffer.from(`${t.slice(0, at)}\n${t.slice(at)}`);
  },
];

const frameArb = fc.record({
  shape: shapeArb,
  mutation: fc.nat({ max: MUTATIONS.length - 1 }),
  n: fc.nat(),
});

function frameBytes(f: { shape: unknown; mutation: number; n: number }): Buffer {
  const mutate = MUTATIONS[f.mutation] as Mutation;
  return Buffer.concat([mutate(JSON.stringify(f.shape) ?? "null", f.n), Buffer.from("\n")]);
}

const key = (id: unknown, tool: unknown) => JSON.stringify([id, tool]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The tools/call requests among the bytes sent, read independently of the gate: frames within
 * the size limit, valid UTF-8 and JSON, a single JSON-RPC 2.0 request named exactly `tools/call`
 * with a string or number id. The gate owes each exactly one decision record.
 */
function toolCallRequestsSent(bytes: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const piece = bytes.subarray(start, end);
    start = end + 1;
    if (piece.length > MAX_FRAME) continue;
    let msg: unknown;
    try {
      msg = JSON.parse(strictUtf8.decode(piece));
    } catch {
      continue;
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) continue;
    const m = msg as Record<string, unknown>;
    const idOk = typeof m.id === "string" || (typeof m.id === "number" && Number.isFinite(m.id));
    if (m.jsonrpc !== "2.0" || m.method !== "tools/call" || !idOk) continue;
    const params = m.params as { name?: unknown } | null | undefined;
    out.push(key(m.id, typeof params?.name === "string" ? params.name : null));
  }
  return out;
}

function sortedKeys(keys: string[]): string[] {
  return [...keys].sort();
}

describe("gate fuzz: random and mutated frames around tools/call", () => {
  test("no denied or unparsable tool call ever reaches the server; every one that does was recorded as allowed", async (t) => {
    const g = await startGate(t, { policy, maxFrameBytes: MAX_FRAME });
    let seenLines = 0;
    let seenDecisions = 0;
    let forwardedCalls = 0;
    let deniedCalls = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (frames, cuts) => {
          const bytes = Buffer.concat(frames.map(frameBytes));
          // Arbitrary chunk boundaries, like a pipe delivers them.
          let start = 0;
          for (const c of [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b)) {
            if (c <= start) continue;
            g.send(bytes.subarray(start, c));
            start = c;
          }
          g.send(bytes.subarray(start));
          await g.sync();

          // Lines pass byte for byte, except tools/call requests, which go on as parsed and decided.
          const sentLines = new Set(
            bytes
              .toString("utf8")
              .split("\n")
              .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
              .flatMap((l) => [l, ...reparsed(l)]),
          );
          const lines = g.receivedLines();
          const fresh = lines.slice(seenLines).filter((l) => !l.includes('"id":"sync:'));
          seenLines = lines.length;
          const ds = decisions(g.logPath);
          const freshDecisions = ds.slice(seenDecisions);
          seenDecisions = ds.length;

          const reached: string[] = [];
          for (const line of fresh) {
            assert.ok(sentLines.has(line), `the server got a line the client never sent: ${line}`);
            let msg: unknown;
            assert.doesNotThrow(() => {
              msg = JSON.parse(line);
            }, `an unparsable frame reached the server: ${line}`);
            for (const call of toolCallsIn(msg)) {
              assert.equal(call.method, "tools/call", `a disguised tools/call reached the server: ${line}`);
              assert.equal(call.jsonrpc, "2.0", line);
              assert.ok(
                typeof call.id === "string" || typeof call.id === "number",
                `id-less call forwarded: ${line}`,
              );
              assert.ok(!Array.isArray(msg), `a batch with a tool call reached the server: ${line}`);
              const d = decide(policy, call);
              assert.notEqual(d.effect, "deny", `a denied call reached the server: ${line}`);
              reached.push(key(call.id, (call.params as { name: unknown }).name));
            }
          }
          for (const d of freshDecisions) {
            assert.equal(d.data.outcome, d.data.effect === "deny" ? "denied" : "forwarded");
            if (d.data.outcome === "denied") deniedCalls++;
          }
          assert.deepEqual(
            sortedKeys(freshDecisions.map((d) => key(d.data.request_id, d.data.tool))),
            sortedKeys(toolCallRequestsSent(bytes)),
            "exactly one decision record per tools/call request",
          );
          const forwarded = freshDecisions
            .filter((d) => d.data.outcome === "forwarded")
            .map((d) => key(d.data.request_id, d.data.tool));
          forwardedCalls += forwarded.length;
          assert.deepEqual(
            sortedKeys(reached),
            sortedKeys(forwarded),
            "the calls the server got are exactly the calls recorded as forwarded",
          );
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
    );
    // The generators must exercise both sides, or the property says little.
    assert.ok(forwardedCalls > 5, `only ${forwardedCalls} calls were forwarded`);
    assert.ok(deniedCalls > 20, `only ${deniedCalls} calls were denied`);
    assert.ok(g.warnings.length > 0, "refused frames are reported");
  });
});

function reparsed(line: string): string[] {
  try {
    return [JSON.stringify(JSON.parse(line))];
  } catch {
    return [];
  }
}
