import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { CaptureFiles } from "./archive.js";
import type {
  KernelOutcome,
  ObservationHealth,
  RunFinishedEvent,
  RunnerLayers,
  RunStartedEvent,
} from "./contract.js";
import { buildCorrelation } from "./correlation.js";
import { buildHealth, healthPlatform } from "./health.js";
import type { KernelCaptureResult } from "./kernel/backend.js";
import { normalizeKernel } from "./kernel-normalize.js";
import { readPolicyLayer } from "./policy-layer.js";
import { readSdkLayer } from "./sdk-layer.js";
import { ndjsonLine } from "./serialize.js";
import { buildSurface } from "./surface.js";

export interface ArtifactInputs {
  runId: string;
  scratch: string;
  /** What the kernel backend saw, or null when no backend ran. */
  kernel: KernelCaptureResult | null;
  /** Why there is no kernel layer (when `kernel` is null). */
  kernelAbsentReason: string | undefined;
  decisionLogs: readonly string[];
  sdkLog: string;
  agentShim: string;
  events: [RunStartedEvent, RunFinishedEvent];
}

/**
 * From a finished run's raw layers to the archive's files: the kernel events normalized into
 * `<scratch>/kernel.ndjson` as they stream in, the decision logs into the policy layer, the
 * agent's SDK log into the SDK layer, and the three evidence documents built from them.
 */
export async function buildArtifacts(
  inp: ArtifactInputs,
): Promise<{ files: CaptureFiles; health: ObservationHealth }> {
  const kernelPath = join(inp.scratch, "kernel.ndjson");
  let kernel: KernelOutcome;
  if (inp.kernel === null) {
    kernel = { facts: null, reason: inp.kernelAbsentReason ?? "no kernel backend ran" };
    await writeStreamed(kernelPath, async () => {});
  } else {
    const { events, facts } = inp.kernel;
    let normalized: Awaited<ReturnType<typeof normalizeKernel>> | undefined;
    await writeStreamed(kernelPath, async (write) => {
      normalized = await normalizeKernel(events, inp.runId, write);
    });
    kernel = { facts, normalized: normalized as NonNullable<typeof normalized> };
  }

  const policyLayer = inp.decisionLogs.length > 0 ? await readPolicyLayer(inp.decisionLogs, inp.runId) : null;
  const sdkText = await readFile(inp.sdkLog, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw new AssayError("input_unreadable", `cannot read the SDK event log: ${err.code}`, {
      where: inp.sdkLog,
    });
  });
  if (sdkText.trim() === "" && inp.agentShim !== "none")
    throw new AssayError(
      "runner_layer_invalid",
      `--agent-shim ${inp.agentShim}: the agent wrote no SDK events (contract §7: a shim's empty log is an error)`,
      { where: inp.sdkLog },
    );
  const layers: RunnerLayers = {
    runId: inp.runId,
    kernel,
    // No gate record of a call at all is no policy layer: present means the gate saw a call.
    policy:
      policyLayer !== null && (policyLayer.events.length > 0 || policyLayer.frameRejections > 0)
        ? policyLayer
        : null,
    sdk: sdkText.trim() === "" ? null : readSdkLayer(sdkText, inp.runId, inp.sdkLog),
  };
  const validEvent = schemaValidator("runner-run-event");
  for (const e of inp.events)
    if (!validEvent(e))
      throw new AssayError(
        "runner_contract_invalid",
        `events.ndjson: ${(e as { type: string }).type} does not match its schema: ${validEvent.errors?.[0]?.instancePath || "/"} ${validEvent.errors?.[0]?.message ?? ""}`,
      );
  const health = buildHealth(layers, healthPlatform(process.platform));
  return {
    health,
    files: {
      "capability-surface.json": buildSurface(layers),
      "correlation-report.json": buildCorrelation(layers),
      "events.ndjson": inp.events.map(ndjsonLine).join(""),
      "layers/kernel.ndjson": { path: kernelPath },
      "layers/policy.ndjson": layers.policy?.ndjson ?? "",
      "layers/sdk.ndjson": layers.sdk?.ndjson ?? "",
      "observation-health.json": health,
    },
  };
}

/** Write a file through `fill`'s chunks, waiting for the stream to drain, and close it. */
async function writeStreamed(
  path: string,
  fill: (write: (chunk: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => {});
  const write = (chunk: string) =>
    out.write(chunk)
      ? Promise.resolve()
      : Promise.race([new Promise<void>((r) => out.once("drain", r)), failed]);
  try {
    await Promise.race([fill(write), failed]);
  } finally {
    await new Promise<void>((resolve, reject) => {
      out.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
