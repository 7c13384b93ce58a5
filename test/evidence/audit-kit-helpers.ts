import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAuditKit, writeAuditKit } from "../../src/evidence/audit-kit.js";
import { type Bundle, loadBundle } from "../../src/sim/bundle.js";
import { runSoak } from "../../src/sim/soak.js";
import { serializeSoakReport } from "../../src/sim/soak-report.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEMO = join(ROOT, "examples/demo-agent");

/** A real soak of examples/demo-agent: the loaded bundle and the report file's bytes. */
export async function demoSoak(opts: { deterministic?: boolean } = {}): Promise<{
  bundle: Bundle;
  reportBytes: Buffer;
}> {
  const bundle = await loadBundle(DEMO);
  const { report } = await runSoak({
    bundle,
    iterations: 40,
    seed: 12345678901234567890n,
    assayVersion: "0.0.0-test",
    deterministic: opts.deterministic ?? true,
  });
  return { bundle, reportBytes: Buffer.from(serializeSoakReport(report), "utf8") };
}

export function ed25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ed25519");
}

/** Build an audit kit of `reportBytes` and `bundle` signed with `privateKey`, written to `dir`. */
export async function writeKit(
  dir: string,
  reportBytes: Buffer,
  bundle: Bundle,
  privateKey: KeyObject,
): Promise<void> {
  const kit = await buildAuditKit({ reportBytes, bundle, privateKey, assayVersion: "1.2.3" });
  await writeAuditKit(dir, kit.files);
}
