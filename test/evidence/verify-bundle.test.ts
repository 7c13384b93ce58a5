import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { crc32, deflateRawSync } from "node:zlib";
import { GZIP_HEADER } from "../../src/evidence/canonical-gzip.js";
import { DEFAULT_LIMITS, type EvidenceLimits } from "../../src/evidence/limits.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import {
  EVIDENCE_VERIFY_CODES,
  EVIDENCE_VERIFY_WARNINGS,
  type EvidenceVerifyCode,
  type EvidenceVerifyWarningCode,
} from "../../src/evidence/verify-codes.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { suiteTempDir } from "../temp-dir.js";
import { bundleEvent, bundleOf, contentsOf, goodLines, gzipOf, member, save, tarOf } from "./craft.js";

const dir = suiteTempDir("assay-evidence-");
const seen = new Set<string>();
let n = 0;

async function expectFailure(
  bytes: Buffer,
  code: EvidenceVerifyCode,
  limits?: EvidenceLimits,
): Promise<string | undefined> {
  const r = await verifyBundle(save(dir, `b${n++}.tar.gz`, bytes), limits);
  assert.equal(r.valid, false, `expected ${code}, bundle was valid`);
  if (r.valid) return;
  assert.equal(r.failure.code, code, r.failure.message);
  assert.equal(r.failure.class, EVIDENCE_VERIFY_CODES[code]);
  seen.add(code);
  return r.failure.where;
}

/** Valid, with exactly the given warning codes (in order). */
async function expectValid(bytes: Buffer, warnings: EvidenceVerifyWarningCode[] = []): Promise<string[]> {
  const r = await verifyBundle(save(dir, `b${n++}.tar.gz`, bytes));
  assert.ok(r.valid, r.valid ? "" : `${r.failure.code}: ${r.failure.message}`);
  assert.deepEqual(
    r.warnings.map((w) => w.code),
    warnings,
  );
  for (const w of r.warnings) warned.add(w.code);
  return r.warnings.map((w) => w.message);
}
const warned = new Set<string>();

const LINES = goodLines(3);
const good = contentsOf(LINES);
const M = () => member("manifest.json", good.manifest);
const E = () => member("events.ndjson", good.events);

describe("verify: a well-formed bundle", () => {
  test("hand-made bundle is valid and reports what it pins", async () => {
    const r = await verifyBundle(save(dir, "good.tar.gz", bundleOf(LINES)));
    assert.ok(r.valid, r.valid ? "" : JSON.stringify(r.failure));
    assert.equal(r.event_count, 3);
    assert.equal(r.run_id, "run-t");
    assert.equal(r.bundle_id, r.run_root);
  });

  test("a bundle written by Python's tarfile/gzip (the earlier implementation's format) is valid", async () => {
    const r = await verifyBundle("test/fixtures/evidence/python-tarfile.bundle.tar.gz");
    assert.ok(r.valid);
    assert.equal(r.event_count, 4);
  });

  test("an empty run (no events) is valid", async () => {
    const r = await verifyBundle(save(dir, "empty.tar.gz", bundleOf("")));
    assert.ok(r.valid);
    assert.equal(r.event_count, 0);
  });
});

describe("verify: structure (gzip and tar)", () => {
  test("not gzip; empty; truncated gzip; corrupt deflate; reserved flag bits", async () => {
    const b = bundleOf(LINES);
    await expectFailure(Buffer.from("PK\u0003\u0004 not a gzip"), "gzip_invalid");
    await expectFailure(Buffer.alloc(0), "gzip_truncated");
    await expectFailure(b.subarray(0, b.length - 20), "gzip_truncated");
    await expectFailure(b.subarray(0, 6), "gzip_truncated");
    const corrupt = Buffer.from(b);
    corrupt[12] = (corrupt[12] ?? 0) ^ 0xff;
    corrupt[13] = (corrupt[13] ?? 0) ^ 0xff;
    await expectFailure(corrupt, "gzip_invalid");
    const reserved = Buffer.from(b);
    reserved[3] = 0x20;
    await expectFailure(reserved, "gzip_invalid");
  });

  test("gzip mtime, file name, comment, header CRC: valid, with a warning; a wrong header CRC is not", async () => {
    const b = bundleOf(LINES);
    assert.deepEqual(await expectValid(b), []);
    const mtime = Buffer.from(b);
    mtime.writeUInt32LE(1700000000, 4);
    assert.deepEqual(await expectValid(mtime, ["gzip_header_noncanonical"]), [
      "gzip header is not Assay's canonical one: mtime 1700000000",
    ]);
    // What Python's tarfile.open(mode="w:gz") and `gzip file.tar` write: FNAME and an mtime.
    const head = Buffer.from(b.subarray(0, 10));
    head[3] = 0x08 | 0x10 | 0x02;
    head.writeUInt32LE(1700000000, 4);
    const fields = Buffer.concat([head, Buffer.from("run.tar\0a comment\0", "latin1")]);
    const hcrc = Buffer.alloc(2);
    hcrc.writeUInt16LE(crc32(fields) & 0xffff, 0);
    const named = Buffer.concat([fields, hcrc, b.subarray(10)]);
    assert.deepEqual(await expectValid(named, ["gzip_header_noncanonical"]), [
      "gzip header is not Assay's canonical one: header CRC, file name, comment, mtime 1700000000",
    ]);
    hcrc[0] = (hcrc[0] ?? 0) ^ 1;
    await expectFailure(Buffer.concat([fields, hcrc, b.subarray(10)]), "gzip_invalid");
    await expectFailure(named.subarray(0, 15), "gzip_truncated");
  });

  test("tar cut short, bad checksum, non-zero padding, data after the end marker", async () => {
    const tar = tarOf(M(), E());
    await expectFailure(gzipOf(tar.subarray(0, tar.length - 1024)), "tar_truncated");
    await expectFailure(gzipOf(tar.subarray(0, 700)), "tar_truncated");
    const sum = Buffer.from(tar);
    sum[150] = 0x37;
    await expectFailure(gzipOf(sum), "tar_invalid");
    const padded = Buffer.from(tar);
    padded[512 + good.manifest.length + 3] = 1;
    await expectFailure(gzipOf(padded), "tar_invalid");
    await expectFailure(gzipOf(Buffer.concat([tar, Buffer.from("trailing")])), "tar_invalid");
  });

  test("header cosmetics (mode, ids, mtime, owner names, layout, encoding): valid, with a warning", async () => {
    const cases: [(h: Buffer) => void, string][] = [
      [(h) => h.write("000755 ", 100, "ascii"), "mode 0755"],
      [(h) => h.write("001750 ", 108, "ascii"), "uid 1000"],
      [(h) => h.write("   12\0  ", 116, "ascii"), "gid 10"],
      [(h) => h.write("14000000000 ", 136, "ascii"), "mtime 1610612736"],
      [(h) => h.write("root", 265, "ascii"), "owner `root`"],
      [(h) => h.write("wheel", 297, "ascii"), "group `wheel`"],
      [(h) => h.write("ustar  \0", 257, "ascii"), "GNU format"],
      [(h) => h.fill(0, 257, 265), "V7 format"],
      [(h) => h.fill(0, 329, 345), "field encoding or unused bytes"],
      [(h) => h.write("0000644\0", 100, "ascii"), "field encoding or unused bytes"],
      [
        (h) => {
          h[156] = 0;
        },
        "type NUL",
      ],
      [
        (h) => {
          h[124] = 0x80; // GNU base-256 size
          h.fill(0, 125, 136);
          h.writeUInt32BE(good.manifest.length, 132);
        },
        "field encoding or unused bytes",
      ],
      [
        (h) => {
          h.fill(0xff, 108, 116); // base-256 -1
        },
        "uid -1",
      ],
    ];
    for (const [edit, words] of cases) {
      const [message] = await expectValid(gzipOf(tarOf(member("manifest.json", good.manifest, edit), E())), [
        "tar_header_noncanonical",
      ]);
      assert.equal(message, `member \`manifest.json\` header is not Assay's canonical one: ${words}`);
    }
  });

  test("a checksum summed as signed bytes (old Sun tar) is accepted", async () => {
    const m = member("manifest.json", good.manifest, (h) => h.write("\u00e9quipe", 265, "latin1"));
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : (m[i] ?? 0);
      signed += b < 0x80 ? b : b - 0x100;
    }
    m.fill(0, 148, 156);
    m.write(`${signed.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    await expectValid(gzipOf(tarOf(m, E())), ["tar_header_noncanonical"]);
  });

  test("what no reader agrees on is refused: unknown magic, unreadable numbers", async () => {
    const bad = (edit: (h: Buffer) => void) =>
      gzipOf(tarOf(member("manifest.json", good.manifest, edit), E()));
    await expectFailure(
      bad((h) => h.write("ustar\u0001", 257, "latin1")),
      "tar_invalid",
    );
    await expectFailure(
      bad((h) => h.write("ustar  x", 257, "latin1")),
      "tar_invalid",
    );
    await expectFailure(
      bad((h) => h.write("0006z4 ", 100, "ascii")),
      "tar_invalid",
    );
    await expectFailure(
      bad((h) => h.write("  9    ", 136, "ascii")),
      "tar_invalid",
    );
    await expectFailure(
      bad((h) => h.write("x", 329, "ascii")),
      "tar_invalid",
    );
  });
});

describe("verify: members (security before contract)", () => {
  test("path traversal and absolute paths", async () => {
    assert.equal(
      await expectFailure(
        gzipOf(tarOf(member("../manifest.json", good.manifest), E())),
        "member_unsafe_path",
      ),
      "member 0",
    );
    await expectFailure(gzipOf(tarOf(member("/etc/passwd", "x"), E())), "member_unsafe_path");
    await expectFailure(
      gzipOf(tarOf(M(), member("a/../../events.ndjson", good.events))),
      "member_unsafe_path",
    );
    await expectFailure(gzipOf(tarOf(member("./manifest.json", good.manifest), E())), "member_unsafe_path");
  });

  test("names readers disagree on: bytes after the name's NUL, a prefix in a GNU or V7 header", async () => {
    const edits: ((h: Buffer) => void)[] = [
      (h) => h.write("x", 50, "ascii"),
      (h) => {
        h.write("ustar  \0", 257, "ascii");
        h.write("14000000000", 345, "ascii"); // GNU atime: Python would read it as a prefix
      },
      (h) => {
        h.fill(0, 257, 265);
        h.write("evil", 345, "ascii");
      },
      (h) => h.write("dir\0junk", 345, "ascii"),
    ];
    for (const edit of edits)
      await expectFailure(
        gzipOf(tarOf(member("manifest.json", good.manifest, edit), E())),
        "member_unsafe_path",
      );
    // A POSIX prefix is part of the name.
    await expectFailure(
      gzipOf(
        tarOf(
          member("manifest.json", good.manifest, (h) => h.write("dir", 345, "ascii")),
          E(),
        ),
      ),
      "member_unexpected",
    );
  });

  test("extension headers (PAX, GNU long names) are refused before their body is read", async () => {
    for (const [flag, name] of [
      ["x", "PaxHeaders.0/manifest.json"],
      ["g", "././@PaxHeader"],
      ["L", "././@LongLink"],
      ["K", "././@LongLink"],
    ] as const) {
      const ext = member(name, "", (h) => {
        h[156] = flag.charCodeAt(0);
        h.write((4 * 2 ** 30).toString(8).padStart(11, "0"), 124, "ascii");
      });
      await expectFailure(gzipOf(tarOf(ext, M(), E())), "member_not_regular");
    }
  });

  test("symlinks, hard links, directories, and a regular file naming a link target", async () => {
    const link = (flag: string) => (h: Buffer) => {
      h[156] = flag.charCodeAt(0);
      h.write("/etc/passwd", 157, "ascii");
    };
    await expectFailure(gzipOf(tarOf(member("manifest.json", "", link("2")), E())), "member_not_regular");
    await expectFailure(gzipOf(tarOf(M(), member("events.ndjson", "", link("1")))), "member_not_regular");
    await expectFailure(
      gzipOf(
        tarOf(
          member("manifest.json", "", (h) => {
            h[156] = 0x35;
          }),
          E(),
        ),
      ),
      "member_not_regular",
    );
    await expectFailure(
      gzipOf(
        tarOf(
          member("manifest.json", good.manifest, (h) => h.write("/etc/passwd", 157, "ascii")),
          E(),
        ),
      ),
      "member_not_regular",
    );
  });

  test("duplicate members, wrong order, unexpected, missing, too many", async () => {
    await expectFailure(gzipOf(tarOf(M(), M(), E())), "member_duplicate");
    await expectFailure(gzipOf(tarOf(E(), M())), "member_order");
    await expectFailure(gzipOf(tarOf(member("README", "hi"), M(), E())), "member_unexpected");
    await expectFailure(gzipOf(tarOf(M(), member("events.json", good.events))), "member_unexpected");
    await expectFailure(gzipOf(tarOf(M())), "member_missing");
    await expectFailure(gzipOf(tarOf(M(), E(), member("extra", "x"))), "limit_member_count");
  });
});

describe("verify: limits (hostile archives)", () => {
  test("a tar header declaring 10 GB is refused from the header alone", async () => {
    const huge = (h: Buffer) => h.write((10 * 2 ** 30).toString(8).padStart(12, "0"), 124, "ascii");
    await expectFailure(gzipOf(tarOf(member("manifest.json", "", huge))), "limit_member_size");
    await expectFailure(gzipOf(tarOf(M(), member("events.ndjson", "", huge))), "limit_member_size");
    const base256 = (h: Buffer) => {
      h.fill(0, 124, 136);
      h[124] = 0x80;
      h.writeUIntBE(10 * 2 ** 30, 130, 6);
    };
    await expectFailure(gzipOf(tarOf(M(), member("events.ndjson", "", base256))), "limit_member_size");
  });

  test("a 10 GB gzip bomb (concatenated members of 64 MiB of zeros) is refused by the ratio limit", async () => {
    const zeros = deflateRawSync(Buffer.alloc(64 * 2 ** 20));
    const trailer = Buffer.alloc(8); // crc32 of zeros is never checked: the ratio stops it first
    const one = Buffer.concat([GZIP_HEADER, zeros, trailer]);
    const bomb = Buffer.concat(Array.from({ length: 160 }, () => one));
    await expectFailure(bomb, "limit_compression_ratio");
  });

  test("decompressed size, compressed size", async () => {
    const b = bundleOf(goodLines(50));
    await expectFailure(b, "limit_decompressed_size", { ...DEFAULT_LIMITS, maxDecompressedBytes: 4096 });
    await expectFailure(b, "limit_compressed_size", { ...DEFAULT_LIMITS, maxCompressedBytes: 100 });
    await expectFailure(b, "limit_member_size", { ...DEFAULT_LIMITS, maxManifestBytes: 100 });
  });

  test("an oversized line (incompressible, past the default 1 MiB)", async () => {
    const e = bundleEvent(0);
    (e.data as Record<string, unknown>).message = randomBytes(600 * 1024).toString("hex");
    const where = await expectFailure(bundleOf(`${canonicalJson(e)}\n`), "limit_line_length");
    assert.equal(where, "events.ndjson:1");
  });

  test("nesting deeper than the limit, in an event and in the manifest", async () => {
    const e = bundleEvent(0);
    (e.data as Record<string, unknown>).arguments = JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`);
    await expectFailure(bundleOf(`${canonicalJson(e)}\n`), "limit_nesting_depth");
    await expectFailure(bundleOf(LINES), "limit_nesting_depth", { ...DEFAULT_LIMITS, maxDepth: 2 });
  });
});

describe("verify: manifest", () => {
  test("invalid JSON, duplicate key, schema, not canonical", async () => {
    const tar = (manifest: string) => gzipOf(tarOf(member("manifest.json", manifest), E()));
    const text = good.manifest.toString("utf8");
    await expectFailure(tar(text.slice(0, -1)), "manifest_invalid_json");
    await expectFailure(tar(`{"bundle_id":"x",${text.slice(1)}`), "manifest_duplicate_key");
    await expectFailure(tar(text.replace('"schema_version":1', '"schema_version":2')), "manifest_schema");
    await expectFailure(tar(JSON.stringify(JSON.parse(text), null, 2)), "manifest_not_canonical");
  });
});

function eventsFile(m: Record<string, unknown>): { bytes: number; sha256: string } {
  return (m.files as Record<string, { bytes: number; sha256: string }>)["events.ndjson"] as {
    bytes: number;
    sha256: string;
  };
}

describe("verify: events, in order", () => {
  const line = (i: number, edit: (e: Record<string, unknown>) => void = () => {}) => {
    const e = bundleEvent(i);
    edit(e);
    return `${canonicalJson(e)}\n`;
  };

  test("events file size and hash come first", async () => {
    await expectFailure(
      bundleOf(LINES, (m) => {
        eventsFile(m).bytes += 1;
      }),
      "events_size_mismatch",
    );
    const bad = `${goodLines(1)}\n`;
    // A blank line and a hash mismatch: the hash is reported, it comes first.
    await expectFailure(
      bundleOf(bad, (m) => {
        eventsFile(m).sha256 = `sha256:${"0".repeat(64)}`;
      }),
      "events_hash_mismatch",
    );
  });

  test("line problems: blank, not JSON, duplicate key, no final newline", async () => {
    assert.equal(
      await expectFailure(bundleOf(`${goodLines(1)}\n${line(1)}`), "event_blank_line"),
      "events.ndjson:2",
    );
    await expectFailure(bundleOf(`${goodLines(1)}{"a":\n`), "event_invalid_json");
    await expectFailure(bundleOf(`${line(0).slice(0, -2)},"assayseq":0}\n`), "event_duplicate_key");
    await expectFailure(bundleOf(goodLines(2).slice(0, -1)), "event_unterminated");
  });

  test("shape, content hash, id, seq, run id", async () => {
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          e.source = "no-colon";
        }),
      ),
      "event_schema",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          delete e.data;
        }),
      ),
      "event_schema",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          e.specversion = "0.3";
        }),
      ),
      "event_schema",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          (e.data as Record<string, unknown>).effect = "allow-all";
        }),
      ),
      "event_content_hash_mismatch",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          e.subject = "other";
        }),
      ),
      "event_content_hash_mismatch",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          e.id = "run-t:7";
        }),
      ),
      "event_id_mismatch",
    );
    await expectFailure(
      bundleOf(
        line(0) +
          line(2, (e) => {
            e.id = "run-t:2";
          }),
      ),
      "event_seq_mismatch",
    );
    await expectFailure(
      bundleOf(
        line(0, (e) => {
          e.assayrunid = "other";
          e.id = "other:0";
        }),
      ),
      "event_run_id_mismatch",
    );
  });

  test("a non-canonical line is checked the slow way with the same results", async () => {
    const e = bundleEvent(0);
    const pretty = `${JSON.stringify(e)}\n`;
    const r = await verifyBundle(save(dir, "noncanon.tar.gz", bundleOf(pretty)));
    assert.ok(r.valid);
    const tampered = `${JSON.stringify({ ...e, subject: "x" })}\n`;
    await expectFailure(bundleOf(tampered), "event_content_hash_mismatch");
  });

  test("event count, run root, bundle id (last)", async () => {
    await expectFailure(
      bundleOf(LINES, (m) => {
        m.event_count = 4;
      }),
      "event_count_mismatch",
    );
    await expectFailure(
      bundleOf(LINES, (m) => {
        m.run_root = `sha256:${"1".repeat(64)}`;
        m.bundle_id = m.run_root;
      }),
      "run_root_mismatch",
    );
    await expectFailure(
      bundleOf(LINES, (m) => {
        m.bundle_id = `sha256:${"2".repeat(64)}`;
      }),
      "bundle_id_mismatch",
    );
  });
});

describe("verify: the code table", () => {
  test("classes are pinned", () => {
    assert.deepEqual(EVIDENCE_VERIFY_CODES, {
      gzip_invalid: "integrity",
      gzip_truncated: "integrity",
      tar_invalid: "integrity",
      tar_truncated: "integrity",
      limit_compressed_size: "limits",
      limit_decompressed_size: "limits",
      limit_compression_ratio: "limits",
      limit_member_count: "limits",
      limit_member_size: "limits",
      limit_line_length: "limits",
      limit_nesting_depth: "limits",
      member_unsafe_path: "security",
      member_not_regular: "security",
      member_duplicate: "security",
      member_unexpected: "contract",
      member_order: "contract",
      member_missing: "contract",
      manifest_invalid_json: "contract",
      manifest_duplicate_key: "security",
      manifest_schema: "contract",
      manifest_not_canonical: "contract",
      events_size_mismatch: "integrity",
      events_hash_mismatch: "integrity",
      event_blank_line: "contract",
      event_unterminated: "contract",
      event_invalid_json: "contract",
      event_duplicate_key: "security",
      event_schema: "contract",
      event_content_hash_mismatch: "integrity",
      event_id_mismatch: "contract",
      event_seq_mismatch: "integrity",
      event_run_id_mismatch: "integrity",
      event_count_mismatch: "integrity",
      run_root_mismatch: "integrity",
      bundle_id_mismatch: "integrity",
    });
  });

  test("every code was produced by some case above", () => {
    assert.deepEqual([...seen].sort(), Object.keys(EVIDENCE_VERIFY_CODES).sort());
  });

  test("warnings are pinned, and each was produced above", () => {
    assert.deepEqual(Object.keys(EVIDENCE_VERIFY_WARNINGS), [
      "gzip_header_noncanonical",
      "tar_header_noncanonical",
    ]);
    assert.deepEqual([...warned].sort(), Object.keys(EVIDENCE_VERIFY_WARNINGS).sort());
  });
});
