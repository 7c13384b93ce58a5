import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { suiteTempDir } from "../temp-dir.js";
import { call, DEV_TOKEN, ROOT, startFromYaml } from "./service-harness.js";

// What bench:serve's figures rest on is wired into the app the service runs, not only unit-tested.
let service: Awaited<ReturnType<typeof startFromYaml>>;
let children = 0;

before(async () => {
  const dir = suiteTempDir("assay-serve-hot-");
  service = await startFromYaml(
    dir,
    [
      "profile: dev",
      "listen: 127.0.0.1:0",
      "policies:",
      `  - ${ROOT}/packs/mcp-baseline.yaml`,
      "auth:",
      `  dev_token: ${DEV_TOKEN}`,
      "log_level: warn",
    ].join("\n"),
  );
  const log = service.app.log;
  const child = log.child;
  log.child = function (this: typeof log, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof child;
});
after(async () => {
  await service?.close();
});

test("every route's answers go through the turn-end hold", () => {
  const routes = service.app.printRoutes({ includeHooks: true });
  const onSend = routes.split("\n").filter((l) => l.includes("(onSend)"));
  assert.ok(onSend.length >= 8, routes);
  for (const line of onSend) assert.match(line, /"holdAnswerToTurnEnd\(\)"/);
});

test("at `warn`, answered requests make no per-request logger", async () => {
  for (let i = 0; i < 3; i++) {
    const res = await call(service, "POST", "/v1/verify", {
      policy: "mcp-baseline",
      call: { tool: "read_file", arguments: { path: "/workspace/README.md" } },
    });
    assert.equal(res.status, 200);
  }
  assert.equal(
    (await call(service, "GET", "/v1/policies", undefined, { authorization: "Bearer nope" })).status,
    401,
  );
  assert.equal(children, 0);
});
