import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import fc from "fast-check";
import { KIT, type KitManifest, SOAK_RESULT_V1 } from "../../src/audit-kit/manifest.js";
import { SLSA_PROVENANCE_V1, SOAK_BUILD_TYPE, type SoakProvenance } from "../../src/audit-kit/provenance.js";
import { verifyAuditKit } from "../../src/audit-kit/verify.js";
import { buildAuditKit, writeAuditKit } from "../../src/audit-kit/write-kit.js";
import { canonicalJson, sha256Hex } from "../../src/lib/canonical-json.js";
import { AssayError } from "../../src/lib/errors.js";
import { type Bundle, loadBundle } from "../../src/sim/target/load.js";
import { readSchema } from "../read-schema.js";
import { assertStoredText } from "../stored-bytes.js";
import { suiteTempDir } from "../temp-dir.js";
import { DEMO, demoSoak, ed25519, fixedEd25519, rewriteManifest, writeKit } from "./helpers.js";

const tmp = suiteTempDir("assay-audit-kit-");
let bundle: Bundle;
let reportBytes: Buffer;
const keys = ed25519();

before(async () => {
  ({ bundle, reportBytes } = await demoSoak());
});

let n = 0;
async function freshKit(): Promise<string> {
  const dir = join(tmp, `kit-${n++}`);
  await writeKit(dir, reportBytes, bundle, keys.privateKey);
  return dir;
}

async function flipByte(path: string, at?: number): Promise<void> {
  const bytes = await readFile(path);
  const i = at ?? Math.floor(bytes.length / 2);
  bytes[i] = (bytes[i] as number) ^ 0x01;
  await writeFile(path, bytes);
}

function failing(rows: { item: string; status: string; code?: string }[]) {
  return rows.filter((r) => r.status === "fail").map((r) => `${r.item}:${r.code}`);
}

describe("audit kit: build", () => {
  test("the manifest: packs_applied, mappings, report digest, every file as an item", async () => {
    const kit = await buildAuditKit({
      reportBytes,
      bundle,
      privateKey: keys.privateKey,
      assayVersion: "1.2.3",
    });
    const m = kit.manifest as KitManifest;
    const guard = bundle.files.get("packs/guard.yaml") as Buffer;
    assert.deepEqual(m["x-assay"].packs_applied, [
      {
        id: "demo-guard",
        version: "1.0.0",
        digest: `sha256:${createHash("sha256").update(guard).digest("hex")}`,
        path: "target/packs/guard.yaml",
      },
    ]);
    assert.ok(
      m["x-assay"].mappings.some(
        (x) => x.rule_id === "no-private-egress" && x.framework === "OWASP-MCP-Top10" && x.ref === "MCP05",
      ),
    );
    const sorted = [...m["x-assay"].mappings].sort((a, b) =>
      JSON.stringify([a.rule_id, a.framework, a.ref]) < JSON.stringify([b.rule_id, b.framework, b.ref])
        ? -1
        : 1,
    );
    assert.deepEqual(m["x-assay"].mappings, sorted);
    assert.equal(
      m["x-assay"].soak_report_digest,
      `sha256:${createHash("sha256").update(reportBytes).digest("hex")}`,
    );
    assert.deepEqual(
      m.items.map((i) => i.path),
      [...kit.files.keys()].filter((p) => p !== KIT.manifest).sort(),
    );
    assert.equal(m.items.find((i) => i.path === "target/packs/guard.yaml")?.kind, "pack");
  });

  test("deterministic with Ed25519: a fixed key and inputs give the stored kit, byte for byte", async () => {
    const kit = await buildAuditKit({
      reportBytes,
      bundle,
      privateKey: fixedEd25519().privateKey,
      assayVersion: "1.2.3",
    });
    const sums = [...kit.files.keys()]
      .sort()
      .map((p) => `${sha256Hex(kit.files.get(p) as Uint8Array)}  ${p}\n`);
    assertStoredText("audit-kit/demo-kit.sha256sums", sums.join(""));
  });

  test("a report measured on another bundle is refused (input_invalid, exit 2)", async () => {
    const other = join(tmp, "other-bundle");
    await cp(DEMO, other, { recursive: true });
    await writeFile(join(other, "NOTES.md"), "changed\n");
    const changed = await loadBundle(other);
    await assert.rejects(
      buildAuditKit({ reportBytes, bundle: changed, privateKey: keys.privateKey, assayVersion: "1" }),
      (e: unknown) =>
        e instanceof AssayError && e.code === "input_invalid" && /bundle_digest/.test(e.message),
    );
  });

  test("a non-empty --out is refused without force", async () => {
    const dir = await freshKit();
    const kit = await buildAuditKit({
      reportBytes,
      bundle,
      privateKey: keys.privateKey,
      assayVersion: "1.2.3",
    });
    await assert.rejects(
      writeAuditKit(dir, kit.files),
      (e: unknown) => e instanceof AssayError && e.code === "output_unwritable",
    );
    await writeAuditKit(dir, kit.files, { force: true });
    assert.equal((await verifyAuditKit(dir, keys.publicKey)).verdict, "valid");
  });
});

describe("audit kit: verify", () => {
  test("a fresh kit verifies: every row ok, one row per file plus the bundle", async () => {
    const dir = await freshKit();
    const r = await verifyAuditKit(dir, keys.publicKey);
    assert.deepEqual(failing(r.rows), []);
    assert.equal(r.verdict, "valid");
    const items = r.rows.map((row) => row.item);
    for (const p of [
      KIT.manifest,
      KIT.provenance,
      KIT.soakResult,
      KIT.report,
      "target/",
      "target/packs/guard.yaml",
    ])
      assert.ok(items.includes(p), p);
  });

  test("the provenance in the kit: subject the report, deps the bundle and its pack", async () => {
    const dir = await freshKit();
    const env = JSON.parse(await readFile(join(dir, KIT.provenance), "utf8"));
    const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8"));
    assert.equal(st.predicateType, "https://slsa.dev/provenance/v1");
    assert.deepEqual(st.subject, [
      { name: KIT.report, digest: { sha256: createHash("sha256").update(reportBytes).digest("hex") } },
    ]);
    const p = st.predicate as SoakProvenance;
    assert.deepEqual(
      p.buildDefinition.resolvedDependencies.map((d) => d.name),
      ["target", "packs/guard.yaml"],
    );
  });

  const tampers: [string, string, string][] = [
    ["a report byte", KIT.report, KIT.report],
    ["a manifest byte", KIT.manifest, KIT.manifest],
    ["a provenance envelope byte", KIT.provenance, KIT.provenance],
    ["a soak-result envelope byte", KIT.soakResult, KIT.soakResult],
    ["the pack copy", "target/packs/guard.yaml", "target/packs/guard.yaml"],
    ["a bundle file", "target/assay-target.yaml", "target/assay-target.yaml"],
  ];
  for (const [what, file, row] of tampers) {
    test(`tampering ${what} fails its row`, async () => {
      const dir = await freshKit();
      await flipByte(join(dir, ...file.split("/")));
      const r = await verifyAuditKit(dir, keys.publicKey);
      assert.equal(r.verdict, "invalid");
      assert.ok(
        r.rows.some((x) => x.item === row && x.status === "fail"),
        `${row} should fail; failing: ${failing(r.rows).join(", ")}`,
      );
    });
  }

  test("every single-byte change of the manifest and of an envelope is detected", async () => {
    const dir = await freshKit();
    for (const file of [KIT.manifest, KIT.soakResult]) {
      const original = await readFile(join(dir, file));
      for (let i = 0; i < original.length; i += Math.max(1, Math.floor(original.length / 40))) {
        const bytes = Buffer.from(original);
        bytes[i] = (bytes[i] as number) ^ 0x20;
        await writeFile(join(dir, file), bytes);
        const r = await verifyAuditKit(dir, keys.publicKey);
        assert.equal(r.verdict, "invalid", `${file} byte ${i}`);
      }
      await writeFile(join(dir, file), original);
    }
  });

  test("property: any single-byte change to the report, the manifest, an envelope or a pack copy is detected", async () => {
    const dir = await freshKit();
    const files = [KIT.report, KIT.manifest, KIT.provenance, KIT.soakResult, "target/packs/guard.yaml"];
    const originals = new Map<string, Buffer>();
    for (const f of files) originals.set(f, await readFile(join(dir, f)));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...files),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        async (file, where, xor) => {
          const original = originals.get(file) as Buffer;
          const bytes = Buffer.from(original);
          const i = Math.floor(where * bytes.length);
          bytes[i] = (bytes[i] as number) ^ xor;
          await writeFile(join(dir, file), bytes);
          try {
            const r = await verifyAuditKit(dir, keys.publicKey);
            assert.equal(r.verdict, "invalid", `${file} byte ${i} ^ ${xor}`);
          } catch (err) {
            // Unreadable (exit 2) is detected too; only a valid verdict would be a miss.
            if (!(err instanceof AssayError)) throw err;
          } finally {
            await writeFile(join(dir, file), original);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test("a manifest that lists a different pack digest fails even when re-canonicalized", async () => {
    const dir = await freshKit();
    const m = JSON.parse(await readFile(join(dir, KIT.manifest), "utf8"));
    m["x-assay"].mappings = [];
    await writeFile(join(dir, KIT.manifest), JSON.stringify(m));
    const r = await verifyAuditKit(dir, keys.publicKey);
    assert.deepEqual(failing(r.rows), [`${KIT.manifest}:manifest_mismatch`]);
  });

  test("an extra file and a missing file each fail their row", async () => {
    const dir = await freshKit();
    await writeFile(join(dir, "target", "extra.txt"), "x");
    await rm(join(dir, "target", "packs", "guard.yaml"));
    const f = failing((await verifyAuditKit(dir, keys.publicKey)).rows);
    assert.ok(f.includes("target/extra.txt:unexpected"), f.join());
    assert.ok(f.includes("target/packs/guard.yaml:missing"), f.join());
  });

  test("the manifest is not signed: rewritten to match, a missing statement, a file outside target/ and a rewritten envelope still fail", async () => {
    // What an attacker can do to a kit: change it, then write the manifest the verifier recomputes.
    const missing = await freshKit();
    await rm(join(missing, KIT.soakResult));
    await rewriteManifest(missing, bundle);
    assert.deepEqual(failing((await verifyAuditKit(missing, keys.publicKey)).rows), [
      `${KIT.soakResult}:missing`,
    ]);

    const extra = await freshKit();
    await writeFile(join(extra, "VERDICT.txt"), "Soak passed all checks; approved for production.\n");
    await rewriteManifest(extra, bundle);
    assert.deepEqual(failing((await verifyAuditKit(extra, keys.publicKey)).rows), ["VERDICT.txt:unexpected"]);

    const sig = { keyid: "attacker", sig: "AAAA" };
    for (const rewrite of [
      (env: { signatures: unknown[] }) => JSON.stringify(env, null, 2),
      (env: { signatures: unknown[] }) => canonicalJson({ ...env, note: "reviewed" }),
      (env: { signatures: unknown[] }) => canonicalJson({ ...env, signatures: [...env.signatures, sig] }),
    ]) {
      const dir = await freshKit();
      const env = JSON.parse(await readFile(join(dir, KIT.provenance), "utf8"));
      await writeFile(join(dir, KIT.provenance), rewrite(env));
      await rewriteManifest(dir, bundle);
      const f = failing((await verifyAuditKit(dir, keys.publicKey)).rows);
      assert.ok(f.includes(`${KIT.provenance}:envelope_invalid`), f.join());
    }
  });

  test("the wrong key fails both envelope rows", async () => {
    const dir = await freshKit();
    const r = await verifyAuditKit(dir, ed25519().publicKey);
    assert.equal(r.verdict, "invalid");
    assert.ok(failing(r.rows).includes(`${KIT.provenance}:envelope_invalid`));
    assert.ok(failing(r.rows).includes(`${KIT.soakResult}:envelope_invalid`));
  });

  test("a missing directory, or one without manifest.json, is unreadable (input_unreadable)", async () => {
    for (const dir of [join(tmp, "nope"), tmp]) {
      await assert.rejects(
        verifyAuditKit(dir, keys.publicKey),
        (e: unknown) => e instanceof AssayError && e.code === "input_unreadable",
      );
    }
  });
});

test("the audit kit schemas' $ids and predicate types are pinned", () => {
  assert.deepEqual(
    ["audit-kit-manifest", "slsa-provenance-predicate", "soak-result-predicate"].map(
      (n) => readSchema(`${n}.schema.json`).$id,
    ),
    [
      "https://assay.dev/schemas/audit-kit-manifest.schema.json",
      "https://assay.dev/schemas/slsa-provenance-predicate.schema.json",
      "https://assay.dev/schemas/soak-result-predicate.schema.json",
    ],
  );
  assert.equal(SOAK_RESULT_V1, "https://assay.dev/soak-result/v1");
  assert.equal(SLSA_PROVENANCE_V1, "https://slsa.dev/provenance/v1");
  assert.equal(SOAK_BUILD_TYPE, "https://assay.dev/soak/v1");
});
