import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import { GZIP_HEADER } from "../../src/evidence/canonical-gzip.js";
import { ROOT } from "./audit-kit-helpers.js";
import { contentsOf, goodLines, gzipOf, member, save, tarOf } from "./craft.js";
import { tempDir } from "./helpers.js";

// Issue 5 §2: a gzip bomb or a tar header declaring 10 GB "fails in milliseconds" with bounded
// memory. verify-bundle.test.ts asserts the codes; this measures the cost, in a fresh process so
// that its peak RSS is the verifier's own (the test process holds the 64 MiB it deflated). The
// bomb's members are valid gzip (right CRC and size), so nothing but a limit stops it early:
// measured at ~20 ms; without the ratio limit the 2 GiB decompressed-size limit answers after
// ~3 s on the development machine. The bounds are loose for a loaded 2-core machine.
// Runs the built library (dist/): `npm run build` first.
const VERIFY = pathToFileURL(join(ROOT, "dist/evidence/verify-bundle.js")).href;
const MAX_MS = 1000;
const MAX_RSS_MB = 200;

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

function measure(path: string): { code: string | null; ms: number; rssMb: number } {
  const script = [
    `const { verifyBundle } = await import(${JSON.stringify(VERIFY)});`,
    "const t = performance.now();",
    "const r = await verifyBundle(process.argv[1]);",
    "const ms = performance.now() - t;",
    "const rssMb = process.resourceUsage().maxRSS / 1024;",
    "console.log(JSON.stringify({ code: r.valid ? null : r.failure.code, ms, rssMb }));",
  ].join("\n");
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, path], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("hostile archives are refused quickly with bounded memory", () => {
  test("a 10 GB gzip bomb: limit_compression_ratio, well under a second, peak RSS under 200 MB", () => {
    const zeros = Buffer.alloc(64 * 2 ** 20);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(zeros), 0);
    trailer.writeUInt32LE(zeros.length, 4);
    const one = Buffer.concat([GZIP_HEADER, deflateRawSync(zeros), trailer]);
    const path = save(dir, "bomb.tar.gz", Buffer.concat(Array.from({ length: 160 }, () => one)));
    const m = measure(path);
    assert.equal(m.code, "limit_compression_ratio");
    assert.ok(m.ms < MAX_MS, `took ${m.ms.toFixed(0)} ms`);
    assert.ok(m.rssMb < MAX_RSS_MB, `peak RSS ${m.rssMb.toFixed(0)} MB`);
  });

  test("a tar header declaring 10 GB: limit_member_size from the header, quickly, bounded memory", () => {
    const huge = (h: Buffer) => h.write((10 * 2 ** 30).toString(8).padStart(12, "0"), 124, "ascii");
    const good = contentsOf(goodLines(3));
    const tar = tarOf(member("manifest.json", good.manifest), member("events.ndjson", "", huge));
    const m = measure(save(dir, "huge-header.tar.gz", gzipOf(tar)));
    assert.equal(m.code, "limit_member_size");
    assert.ok(m.ms < MAX_MS, `took ${m.ms.toFixed(0)} ms`);
    assert.ok(m.rssMb < MAX_RSS_MB, `peak RSS ${m.rssMb.toFixed(0)} MB`);
  });

  test("a valid bundle goes through the same probe: valid, measured (the probe works)", () => {
    const path = save(dir, "valid.tar.gz", gzipOf(tarOf(...validMembers())));
    const m = measure(path);
    assert.equal(m.code, null);
    assert.ok(m.ms > 0 && m.rssMb > 10, JSON.stringify(m));
  });
});

function validMembers(): Buffer[] {
  const good = contentsOf(goodLines(2000));
  return [member("manifest.json", good.manifest), member("events.ndjson", good.events)];
}
