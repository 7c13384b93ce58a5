import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ByteOut } from "../../src/gate/byte-out.js";

type Piece = { kind: "byte"; b: number } | { kind: "ascii" | "utf8"; s: string };

const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) });
const piece: fc.Arbitrary<Piece> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((b) => ({ kind: "byte" as const, b })),
  ascii.map((s) => ({ kind: "ascii" as const, s })),
  fc.string({ unit: "binary", maxLength: 300 }).map((s) => ({ kind: "utf8" as const, s })),
);

/** The bytes a piece stands for, made the plain way. */
function expected(p: Piece): Buffer {
  switch (p.kind) {
    case "byte":
      return Buffer.from([p.b]);
    case "utf8":
      return Buffer.from(p.s, "utf8");
    case "ascii":
      return Buffer.from(p.s, "latin1");
  }
}

test("ByteOut holds exactly the bytes written, in order, however small it starts and however often it is reset", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.array(piece, { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
      (initial, batches) => {
        const out = new ByteOut(initial);
        for (const batch of batches) {
          out.reset();
          for (const p of batch) {
            if (p.kind === "byte") out.byte(p.b);
            else if (p.kind === "ascii") out.ascii(p.s);
            else out.utf8(p.s);
          }
          const want = Buffer.concat(batch.map(expected));
          assert.deepEqual(out.buf.subarray(0, out.len), want);
          assert.equal(out.text(), want.toString("utf8"));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test("ByteOut gives back a buffer a large batch grew, and keeps one that stayed small", () => {
  const out = new ByteOut(16);
  out.ascii("x".repeat(2000));
  assert.ok(out.buf.length >= 2000);
  out.reset();
  assert.equal(out.len, 0);
  assert.equal(out.buf.length, 16);
  out.ascii("x".repeat(100));
  const kept = out.buf;
  out.reset();
  assert.equal(out.buf, kept, "a buffer within 64 × its first size is reused");
});
