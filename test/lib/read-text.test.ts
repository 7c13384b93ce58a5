import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { readJsonInput } from "../../src/cli/json-input.js";
import { readPrivateKeyFile, readPublicKeyFile } from "../../src/evidence/keys.js";
import { firstInvalidUtf8, readTextFile, strictUtf8Text } from "../../src/lib/read-text.js";
import { loadPack } from "../../src/policy/load-pack.js";
import { suiteTempDir } from "../temp-dir.js";

const dir = suiteTempDir("assay-read-text-");

/** Bytes that are mostly UTF-8 text with, now and then, a byte or a cut sequence that is not. */
const textish = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 6 }).map((s) => [...Buffer.from(s, "utf8")]),
      fc.constantFrom([0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]),
      fc.constantFrom([0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xff], [0xfe]),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Uint8Array.from(parts.flat()));

describe("strict UTF-8 text", () => {
  test("the first bad byte: -1 exactly for UTF-8, else a valid prefix and no character starting there", () => {
    fc.assert(
      fc.property(fc.oneof(textish, fc.uint8Array({ maxLength: 24 })), (bytes) => {
        const at = firstInvalidUtf8(bytes);
        assert.equal(at === -1, isUtf8(bytes));
        if (at === -1) return;
        assert.ok(isUtf8(bytes.subarray(0, at)), "everything before it is UTF-8");
        for (let len = 1; len <= 4 && at + len <= bytes.length; len++)
          assert.ok(!isUtf8(bytes.subarray(at, at + len)), `no ${len}-byte character starts at ${at}`);
      }),
      { numRuns: 20_000 },
    );
  });

  test("text is decoded as it is (a byte-order mark kept); other bytes fail at line and column", () => {
    assert.equal(
      strictUtf8Text(Buffer.from("\ufeffcafé ☃ 😀"), "f", "input_invalid", "x"),
      "\ufeffcafé ☃ 😀",
    );
    const bytes = Buffer.concat([Buffer.from("a: 1\nb: é😀"), Buffer.from([0xc0, 0xaf]), Buffer.from("\n")]);
    assert.throws(() => strictUtf8Text(bytes, "f.yaml", "pack_syntax", "pack"), {
      code: "pack_syntax",
      message: "pack is not UTF-8 text (byte 0xC0 at offset 14)",
      where: "f.yaml:2:7",
    });
  });

  test("a pack, a text file and a JSON input that are not UTF-8 are refused, not read with U+FFFD", async () => {
    const pack = join(dir, "pack.yaml");
    writeFileSync(
      pack,
      Buffer.concat([
        Buffer.from('id: p\nversion: "1"\ndefaults: allow\nrules:\n  - id: r\n    dimension: safety\n'),
        Buffer.from("    severity: low\n    tools: { deny: [ex"),
        Buffer.from([0xff]),
        Buffer.from("ec] }\n"),
      ]),
    );
    await assert.rejects(loadPack(pack), { code: "pack_syntax", where: `${pack}:8:23` });
    await assert.rejects(readTextFile(pack, "input_unreadable", "weights"), {
      code: "input_invalid",
      message: "weights is not UTF-8 text (byte 0xFF at offset 114)",
    });
    const call = join(dir, "call.json");
    writeFileSync(
      call,
      Buffer.concat([
        Buffer.from('{"tool":"read_file","arguments":{"path":"/a'),
        Buffer.from([0xed, 0xa0, 0x80, 0x22, 0x7d, 0x7d]),
      ]),
    );
    await assert.rejects(readJsonInput(call, "call"), { code: "input_invalid", where: `${call}:1:44` });
  });

  test("a key that is not text (DER) gets the PEM parser's own words, not an encoding error", async () => {
    const der = join(dir, "key.der");
    writeFileSync(
      der,
      Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0xff]),
    );
    await assert.rejects(readPrivateKeyFile(der), {
      code: "input_invalid",
      message: /^not a PEM private key/,
    });
    await assert.rejects(readPublicKeyFile(der), { code: "input_invalid", message: /^not a PEM public key/ });
  });
});
