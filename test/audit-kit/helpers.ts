import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildKitManifest, KIT, type KitManifest } from "../../src/audit-kit/manifest.js";
import { buildAuditKit, readSoakReportBytes, writeAuditKit } from "../../src/audit-kit/write-kit.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { serializeSoakReport } from "../../src/sim/soak/report.js";
import { runSoak } from "../../src/sim/soak/run.js";
import { type Bundle, loadBundle } from "../../src/sim/target/load.js";
import { DEFAULT_BUNDLE_LIMITS } from "../../src/sim/target/paths.js";
import { readBundleDir } from "../../src/sim/target/read-dir.js";
import { generatedKeyPair } from "../evidence/helpers.js";
import { ROOT } from "../run-assay.js";

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
  return generatedKeyPair("ed25519");
}

/** The same Ed25519 key in every run: a fixed seed in its PKCS#8 wrapping (RFC 8410). */
export function fixedEd25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, 7)]);
  const privateKey = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
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

/**
 * Write the manifest the verifier recomputes from the kit's files, as an attacker who changed
 * them can: the manifest is not signed.
 */
export async function rewriteManifest(dir: string, bundle: Bundle): Promise<void> {
  const files = await readBundleDir(dir, DEFAULT_BUNDLE_LIMITS);
  const old = JSON.parse(await readFile(join(dir, KIT.manifest), "utf8")) as KitManifest;
  const report = readSoakReportBytes(files.get(KIT.report) as Buffer, KIT.report);
  const m = buildKitManifest({ files, bundle, report, producerVersion: old.producer.version });
  await writeFile(join(dir, KIT.manifest), canonicalJson(m));
}
