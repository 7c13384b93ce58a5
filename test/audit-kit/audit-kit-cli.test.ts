import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { auditKitBuild } from "../../src/cli/actions/audit-kit.js";
import { runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { DEMO, demoSoak } from "./helpers.js";

// Runs the built CLI (dist/): `npm run build` first.

const dir = suiteTempDir("assay-audit-kit-cli-");
const assay = (...args: string[]) => runAssay(args, dir);

before(async () => {
  writeFileSync(join(dir, "soak.json"), (await demoSoak()).reportBytes);
  assert.equal(assay("evidence", "keygen", "--out", "signer").code, 0);
  assert.equal(assay("evidence", "keygen", "--out", "other").code, 0);
});

const buildFrom = (target: string, out: string, ...extra: string[]) =>
  assay(
    "audit-kit",
    "build",
    "--report",
    "soak.json",
    "--target",
    target,
    "--key",
    "signer.key",
    "--out",
    out,
    ...extra,
  );
const build = (out: string, ...extra: string[]) => buildFrom(DEMO, out, ...extra);

describe("assay audit-kit build / verify", () => {
  test("build then verify: exit 0, a table with one ok row per item", () => {
    let r = build("kit");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^wrote kit: 6 files/);
    r = assay("audit-kit", "verify", "kit", "--key", "signer.pub");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^ok +provenance\.dsse\.json +attestation/m);
    assert.match(r.out, /^ok +target\/packs\/guard\.yaml +pack/m);
    assert.match(r.out, /^VALID kit: 7 rows ok/m);
  });

  test("--json: {valid, verdict, keyid, rows}", () => {
    const r = assay("audit-kit", "verify", "kit", "--key", "signer.pub", "--json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.valid, true);
    assert.equal(j.rows.length, 7);
    assert.ok(j.rows.every((row: { status: string }) => row.status === "ok"));
  });

  test("a non-empty --out: exit 2 without --force, 0 with it", () => {
    let r = build("kit");
    assert.equal(r.code, 2);
    assert.match(r.err, /non-empty directory/);
    r = build("kit", "--force");
    assert.equal(r.code, 0, r.err);
  });

  test("a report measured on another bundle: exit 2 on build", () => {
    cpSync(DEMO, join(dir, "changed"), { recursive: true });
    writeFileSync(join(dir, "changed", "extra.txt"), "x");
    const r = assay(
      "audit-kit",
      "build",
      "--report",
      "soak.json",
      "--target",
      "changed",
      "--key",
      "signer.key",
      "--out",
      "kit-changed",
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /not measured on this bundle/);
  });

  test("tampered report, manifest, envelope, pack: exit 1, that row fails", () => {
    for (const file of [
      "soak-report.json",
      "manifest.json",
      "provenance.dsse.json",
      "target/packs/guard.yaml",
    ]) {
      const kit = `kit-${file.replace(/\W/g, "_")}`;
      assert.equal(build(kit).code, 0);
      const path = join(dir, kit, file);
      const bytes = readFileSync(path);
      bytes[10] = (bytes[10] as number) ^ 0x01;
      writeFileSync(path, bytes);
      const r = assay("audit-kit", "verify", kit, "--key", "signer.pub");
      assert.equal(r.code, 1, `${file}: ${r.out}`);
      assert.match(r.out, new RegExp(`^fail +${file.replace(/\./g, "\\.")} `, "m"), r.out);
      assert.match(r.out, /^INVALID /m);
    }
  });

  test("the wrong key: exit 1; a missing directory or key: exit 2", () => {
    let r = assay("audit-kit", "verify", "kit", "--key", "other.pub");
    assert.equal(r.code, 1);
    assert.match(r.out, /^fail +provenance\.dsse\.json .*signature_no_matching_keyid/m);
    r = assay("audit-kit", "verify", "no-such-kit", "--key", "signer.pub");
    assert.equal(r.code, 2);
    r = assay("audit-kit", "verify", "kit", "--key", "no-such.pub");
    assert.equal(r.code, 2);
  });
});

describe("assay audit-kit build never writes into what it reads", () => {
  const copy = join(dir, "copy");
  before(() => cpSync(DEMO, copy, { recursive: true }));

  test("--out inside the --target folder: exit 2, one line, the bundle left as it was", () => {
    const r = buildFrom("copy", "copy/kit");
    assert.equal(r.code, 2, r.out);
    assert.equal(
      r.err,
      "assay: --out `copy/kit` lies inside --target `copy`: Assay does not write into what it reads\n",
    );
    assert.ok(!existsSync(join(copy, "kit")));
    // The report still matches the bundle: its digest did not change.
    const ok = buildFrom("copy", "kit-of-copy");
    assert.equal(ok.code, 0, ok.err);
  });

  test("--out on or in the target (a folder, a link to it, a tarball), on the report or on the key, even with --force", async () => {
    const tgz = join(dir, "copy.tar.gz");
    assert.equal(spawnSync("tar", ["-czf", tgz, "-C", copy, "."]).status, 0);
    const link = join(dir, "copy-link");
    symlinkSync(copy, link);
    const opts = { report: join(dir, "soak.json"), target: copy, key: join(dir, "signer.key"), force: true };
    const over = "Assay does not write over what it reads or writes";
    const into = "Assay does not write into what it reads";
    const cases: Array<[target: string, out: string, message: string]> = [
      [copy, copy, `--out \`${copy}\` is the same file as --target \`${copy}\`: ${over}`],
      [
        copy,
        `${copy}/packs/../kit`,
        `--out \`${copy}/packs/../kit\` lies inside --target \`${copy}\`: ${into}`,
      ],
      [link, join(copy, "kit"), `--out \`${join(copy, "kit")}\` lies inside --target \`${link}\`: ${into}`],
      [tgz, tgz, `--out \`${tgz}\` is the same file as --target \`${tgz}\`: ${over}`],
      [
        copy,
        opts.report,
        `--out \`${opts.report}\` is the same file as --report \`${opts.report}\`: ${over}`,
      ],
      [copy, opts.key, `--out \`${opts.key}\` is the same file as --key \`${opts.key}\`: ${over}`],
    ];
    for (const [target, out, message] of cases)
      await assert.rejects(auditKitBuild({ ...opts, target, out }), { code: "usage", message }, out);
    assert.ok(!existsSync(join(copy, "kit")) && !existsSync(join(copy, "manifest.json")));
  });

  test("an input that is, or lies in, one of the kit's own entries, which --force removes, is refused", async () => {
    const kit = join(dir, "old-kit");
    cpSync(copy, join(kit, "target"), { recursive: true });
    cpSync(join(dir, "soak.json"), join(kit, "soak-report.json"));
    // An entry that is a folder is removed whole too: a key kept in one would be lost.
    mkdirSync(join(kit, "soak-result.dsse.json"));
    cpSync(join(dir, "signer.key"), join(kit, "soak-result.dsse.json", "signer.key"));
    const opts = {
      report: join(dir, "soak.json"),
      key: join(dir, "signer.key"),
      target: copy,
      force: true,
      out: kit,
    };
    const refusal = (option: string, path: string, entry: string) => ({
      code: "usage",
      message: `${option} \`${path}\` is or lies in the kit's entry \`${entry}\`, which is replaced whole: Assay does not write over what it reads`,
    });
    const target = join(kit, "target");
    await assert.rejects(auditKitBuild({ ...opts, target }), refusal("--target", target, target));
    const report = join(kit, "soak-report.json");
    await assert.rejects(auditKitBuild({ ...opts, report }), refusal("--report", report, report));
    const key = join(kit, "soak-result.dsse.json", "signer.key");
    await assert.rejects(
      auditKitBuild({ ...opts, key }),
      refusal("--key", key, join(kit, "soak-result.dsse.json")),
    );
    assert.ok(
      existsSync(join(target, "assay-target.yaml")) &&
        existsSync(key) &&
        !existsSync(join(kit, "manifest.json")),
    );
  });
});
