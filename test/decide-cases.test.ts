import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { buildPlan, toRulePlan } from "../src/adapt/plan.js";
import {
  type AnyGateEvent,
  checkTrace,
  createGate,
  DECISION_META_KEY,
  type DecisionEventData,
  decide,
  MemoryDecisionLog,
  parseDecisionLog,
} from "../src/index.js";
import { type DecideCase, decideCases, type ViolationRow } from "./policy/decide-cases.js";
import { FIXTURES, fixturePolicy } from "./policy/helpers.js";
import { ASSAY_BIN } from "./run-assay.js";
import { tempDir } from "./temp-dir.js";

// One case table (test/fixtures/policy/decide-cases.yaml), every way a call is decided: decide(),
// the gate in-process (createGate over the MCP SDK's in-memory transports), the gate over stdio
// (`assay mcp wrap` as users run it, around a tiny recording server) and checkTrace(). Only
// public entry points: the library's index and the CLI.

const RECORDING_SERVER = fileURLToPath(new URL("fixtures/gate/recording-server.mjs", import.meta.url));

/** What a path saw of the case's call: the decision, as far as that path can tell. */
interface Seen {
  effect: string;
  /** Absent where the path cannot tell (checkTrace reports no rule for an allowed call). */
  decided?: { rule_id: string | null; reason_code: string; message: string };
  violations: ViolationRow[];
}

function assertAgrees(c: DecideCase, seen: Seen): void {
  const e = c.expect;
  assert.equal(seen.effect, e.effect, JSON.stringify(seen));
  if (seen.decided !== undefined) {
    assert.deepEqual(
      { rule_id: seen.decided.rule_id, reason_code: seen.decided.reason_code },
      { rule_id: e.rule_id, reason_code: e.reason_code },
      JSON.stringify(seen),
    );
    if (e.message_includes)
      assert.ok(seen.decided.message.includes(e.message_includes), seen.decided.message);
  }
  if (e.violations) assert.deepEqual(seen.violations, e.violations);
}

const rows = (vs: readonly { rule_id: string | null; path: string; reason_code: string }[]) =>
  vs.map((v) => [v.rule_id, v.path, v.reason_code] as ViolationRow);

/** The case's context without `history`: its earlier calls are made for real on the other paths. */
function contextOf(c: DecideCase): { context: Record<string, unknown>; history: unknown[] } {
  const { history = [], ...context } = c.context ?? {};
  return { context, history: history as unknown[] };
}

/**
 * The JSON-RPC request a client sends for `call` (decide()'s input), with id `id`: a whole
 * request as it is; `{tool | name, arguments}` as tools/call params; anything else as the params.
 * Undefined when MCP has no tool call for it (another method is not decided by the gate).
 */
function requestFor(call: unknown, id: number): JSONRPCMessage | undefined {
  if (call !== null && typeof call === "object" && !Array.isArray(call)) {
    const o = call as Record<string, unknown>;
    if ("jsonrpc" in o) return o.method === "tools/call" ? ({ ...o, id } as JSONRPCMessage) : undefined;
    const { tool, name, ...rest } = o;
    const toolName = tool ?? name;
    const params = toolName === undefined ? rest : { name: toolName, ...rest };
    return { jsonrpc: "2.0", id, method: "tools/call", params };
  }
  return { jsonrpc: "2.0", id, method: "tools/call", params: call } as unknown as JSONRPCMessage;
}

/** A violation path the gate reports, as decide() reports it (the gate sees the call inside a request). */
function asDecidePath(c: DecideCase, path: string): string {
  // A call that is not an object is the request's `params`; decide(), handed the bare value, says "".
  return typeof c.call !== "object" && path === "/params" ? "" : path;
}

/** What one gated session did: every decision record, the answers by request id, and the ids the server got. */
interface GateRun {
  records: DecisionEventData[];
  answers: Map<number, Record<string, unknown>>;
  reached: Set<number>;
}

/** The requests of a case: its history (ids 1..n), then its call (id n + 1). Undefined: not a tool call. */
function requestsOf(c: DecideCase): JSONRPCMessage[] | undefined {
  const { history } = contextOf(c);
  const call = requestFor(c.call, history.length + 1);
  if (call === undefined) return undefined;
  return [...history.map((h, i) => requestFor(h, i + 1) as JSONRPCMessage), call];
}

const decisions = (events: readonly AnyGateEvent[]) =>
  events.filter((e) => e.type === "assay.tool.decision").map((e) => e.data as DecisionEventData);

/** The gate's part: each earlier call forwarded; the case's call decided, recorded and answered as expected. */
function assertGateAgrees(c: DecideCase, requests: readonly JSONRPCMessage[], run: GateRun): void {
  assert.equal(run.records.length, requests.length, JSON.stringify(run.records));
  const last = requests.length;
  for (let id = 1; id < last; id++) {
    assert.equal(run.records[id - 1]?.outcome, "forwarded", `earlier call ${id} was not forwarded`);
    assert.ok(run.reached.has(id));
  }
  const r = run.records[last - 1] as DecisionEventData;
  assertAgrees(c, {
    effect: r.effect,
    decided: r,
    violations: rows(r.violations).map(([rule, path, reason]) => [rule, asDecidePath(c, path), reason]),
  });
  const answer = run.answers.get(last);
  assert.ok(answer, `no answer to the call: ${JSON.stringify([...run.answers.values()])}`);
  const result = answer.result as { isError?: boolean; _meta?: Record<string, unknown> } | undefined;
  if (c.expect.effect === "deny") {
    assert.equal(r.outcome, "denied");
    assert.ok(!run.reached.has(last), "a denied call reached the server");
    assert.equal(result?.isError, true, JSON.stringify(answer));
    const d = result?._meta?.[DECISION_META_KEY] as DecisionEventData | undefined;
    assert.deepEqual([d?.rule_id, d?.reason_code], [r.rule_id, r.reason_code]);
  } else {
    assert.equal(r.outcome, "forwarded");
    assert.ok(run.reached.has(last), "an allowed call did not reach the server");
    assert.equal(result?.isError, undefined, JSON.stringify(answer));
  }
}

/** `createGate` around an in-memory connection to a server that answers every call. */
async function throughGate(
  c: DecideCase,
  requests: readonly JSONRPCMessage[],
  adaptive = false,
): Promise<GateRun> {
  const sink = new MemoryDecisionLog();
  const policy = fixturePolicy(c.packs);
  const context = contextOf(c).context;
  const plan = adaptive ? { plan: toRulePlan(buildPlan(policy, context)) } : {};
  const gate = createGate({ policy, sink, context, ...plan });
  const [client, server] = InMemoryTransport.createLinkedPair();
  const reached = new Set<number>();
  server.onmessage = (m) => {
    if (!("id" in m) || !("method" in m)) return;
    reached.add(m.id as number);
    void server.send({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "ran" }] } });
  };
  await server.start();
  const gated = gate.wrap(client);
  const answers = new Map<number, Record<string, unknown>>();
  const all = new Promise<void>((resolve) => {
    gated.onmessage = (m) => {
      answers.set((m as { id: number }).id, m as Record<string, unknown>);
      if (answers.size === requests.length) resolve();
    };
  });
  await gated.start();
  for (const r of requests) await gated.send(r);
  await all;
  await gated.close();
  return { records: decisions(sink.events), answers, reached };
}

/** `assay mcp wrap` (bin/assay: `npm run build` first) around test/fixtures/gate/recording-server.mjs. */
async function throughStdio(
  c: DecideCase,
  requests: readonly JSONRPCMessage[],
  t: TestContext,
): Promise<GateRun> {
  const dir = tempDir("assay-decide-cases-", t);
  const log = join(dir, "decisions.ndjson");
  const received = join(dir, "received");
  const contextFile = join(dir, "context.json");
  writeFileSync(contextFile, JSON.stringify(contextOf(c).context));
  const packs = c.packs.flatMap((p) => ["--policy", fileURLToPath(new URL(p, FIXTURES))]);
  const args = ["mcp", "wrap", ...packs, "--decision-log", log, "--context", contextFile];
  const child = spawn(
    process.execPath,
    [ASSAY_BIN, ...args, "--", process.execPath, RECORDING_SERVER, received],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (b) => {
    stderr += b;
  });
  const answers = new Map<number, Record<string, unknown>>();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    out += text;
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      const m = JSON.parse(out.slice(0, nl)) as { id: number };
      out = out.slice(nl + 1);
      answers.set(m.id, m);
      if (answers.size === requests.length) child.stdin.end();
    }
  });
  const timer = setTimeout(() => child.kill(), 30_000);
  child.stdin.write(requests.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `assay mcp wrap: ${stderr}`);
  const reached = new Set<number>();
  // The server writes the file when something reaches it.
  const got = existsSync(received) ? readFileSync(received, "utf8") : "";
  for (const line of got.split("\n")) {
    if (line !== "") reached.add((JSON.parse(line) as { id: number }).id);
  }
  return { records: decisions(parseDecisionLog(readFileSync(log, "utf8"))), answers, reached };
}

/** Why a path does not run a case, or undefined when it does. */
const cases = decideCases();
/** The gate decides tool calls only (other methods are forwarded): the cases that are one. */
const gateCases = cases.filter((c) => requestsOf(c) !== undefined);

describe("decision cases: decide()", () => {
  for (const c of cases) {
    test(c.name, () => {
      const d = decide(fixturePolicy(c.packs), c.call, c.context);
      assertAgrees(c, { effect: d.effect, decided: d, violations: rows(d.violations) });
    });
  }
});

describe("decision cases: decide() with a plan (src/adapt), both selectors", () => {
  for (const c of cases) {
    test(c.name, () => {
      const policy = fixturePolicy(c.packs);
      for (const selector of ["basic", "weighted"] as const) {
        const plan = toRulePlan(buildPlan(policy, c.context ?? {}, { selector }));
        const d = decide(policy, c.call, c.context, { plan });
        assertAgrees(c, { effect: d.effect, decided: d, violations: rows(d.violations) });
        assert.deepEqual(d, decide(policy, c.call, c.context));
      }
    });
  }
});

describe("decision cases: the gate in-process with --adaptive's plan", () => {
  for (const c of gateCases) {
    test(c.name, async () => {
      const requests = requestsOf(c) as JSONRPCMessage[];
      assertGateAgrees(c, requests, await throughGate(c, requests, true));
    });
  }
});

describe("decision cases: the gate in-process (createGate, in-memory transports)", () => {
  for (const c of gateCases) {
    test(c.name, async () => {
      const requests = requestsOf(c) as JSONRPCMessage[];
      assertGateAgrees(c, requests, await throughGate(c, requests));
    });
  }
});

describe("decision cases: the gate over stdio (assay mcp wrap, built CLI)", { concurrency: 4 }, () => {
  for (const c of gateCases) {
    test(c.name, async (t) => {
      const requests = requestsOf(c) as JSONRPCMessage[];
      assertGateAgrees(c, requests, await throughStdio(c, requests, t));
    });
  }
});

describe("decision cases: checkTrace() (earlier calls, then the call, as one trace)", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { context, history } = contextOf(c);
      const at = history.length;
      const found = checkTrace(fixturePolicy(c.packs), { calls: [...history, c.call], context });
      assert.deepEqual(
        found.filter((v) => v.call_index !== at),
        [],
        "only the case's call has violations",
      );
      const prefix = `/calls/${at}`;
      const violations = found.map((v) => {
        assert.ok(v.path.startsWith(prefix), v.path);
        return { ...v, path: v.path.slice(prefix.length) };
      });
      const deciding =
        violations.find((v) => v.effect === "deny") ?? violations.find((v) => v.effect === "warn");
      assertAgrees(c, {
        effect: deciding?.effect ?? "allow",
        ...(deciding === undefined ? {} : { decided: deciding }),
        violations: rows(violations),
      });
    });
  }
});
