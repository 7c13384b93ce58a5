import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import { parseSeed, splitmix64, trialSeed, U64_MAX } from "../../../src/sim/stats/seeds.js";

// First outputs of Vigna's reference splitmix64.c (prng.di.unimi.it/splitmix64.c), compiled and
// run with gcc. Seed 0's are the widely published ones (0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, ...).
const REFERENCE: [bigint, bigint[]][] = [
  [
    0n,
    [0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn, 0xf88bb8a8724c81ecn, 0x1b39896a51a8749bn],
  ],
  [
    1n,
    [0x910a2dec89025cc1n, 0xbeeb8da1658eec67n, 0xf893a2eefb32555en, 0x71c18690ee42c90bn, 0x71bb54d8d101b5b9n],
  ],
  [
    42n,
    [0xbdd732262feb6e95n, 0x28efe333b266f103n, 0x47526757130f9f52n, 0x581ce1ff0e4ae394n, 0x09bc585a244823f2n],
  ],
  [
    U64_MAX,
    [0xe4d971771b652c20n, 0xe99ff867dbf682c9n, 0x382ff84cb27281e9n, 0x6d1db36ccba982d2n, 0xb4a0472e578069aen],
  ],
  [
    1234567890123456789n,
    [0x9904eee77e231db2n, 0x70ee7eb0313ec9b8n, 0x77005bf062e5f76fn, 0xa205dfb3dffa7edbn, 0xad9b5f369eb21ce8n],
  ],
];

describe("splitmix64 / trialSeed", () => {
  for (const [seed, outputs] of REFERENCE) {
    test(`seed ${seed}: trial i gets the (i + 1)-th reference output`, () => {
      assert.deepEqual(
        outputs.map((_, i) => splitmix64(seed, i)),
        outputs,
      );
      assert.deepEqual(
        outputs.map((_, i) => trialSeed(seed, i)),
        outputs,
      );
    });
  }

  test("a stream position far out equals stepping the reference state", () => {
    // state after 1,000,001 steps of x += gamma, then the finalizer, by repeated addition
    let state = 42n;
    for (let i = 0; i < 1_000_001; i++) state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    assert.equal(trialSeed(42n, 1_000_000), z ^ (z >> 31n));
  });

  test("trial seeds are u64 and distinct over a run", () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 20_000; i++) {
      const s = trialSeed(7n, i);
      assert.ok(s >= 0n && s <= U64_MAX);
      seen.add(s);
    }
    assert.equal(seen.size, 20_000);
  });

  test("bad run seed or index is a RangeError", () => {
    assert.throws(() => trialSeed(-1n, 0), RangeError);
    assert.throws(() => trialSeed(U64_MAX + 1n, 0), RangeError);
    assert.throws(() => trialSeed(0n, -1), RangeError);
    assert.throws(() => trialSeed(0n, 1.5), RangeError);
    assert.throws(() => trialSeed(0n, Number.MAX_SAFE_INTEGER + 1), RangeError);
    assert.doesNotThrow(() => trialSeed(U64_MAX, Number.MAX_SAFE_INTEGER));
  });
});

describe("parseSeed", () => {
  test("decimal u64 strings", () => {
    assert.equal(parseSeed("0"), 0n);
    assert.equal(parseSeed("42"), 42n);
    assert.equal(parseSeed("0042"), 42n);
    assert.equal(parseSeed("9007199254740993"), 9007199254740993n);
    assert.equal(parseSeed("18446744073709551615"), U64_MAX);
  });

  const BAD = [
    "",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1.0",
    "1e3",
    "0x10",
    "1_000",
    "abc",
    "１",
    "18446744073709551616",
    "99999999999999999999999",
    "1".repeat(500),
  ];
  for (const text of BAD) {
    test(`rejects \`${text.length > 30 ? `${text.slice(0, 30)}…` : text}\` with code usage`, () => {
      assert.throws(
        () => parseSeed(text),
        (err: unknown) => {
          assert.ok(err instanceof AssayError);
          assert.equal(err.code, "usage");
          assert.ok(!err.message.includes("\n") && err.message.length < 140, err.message);
          return true;
        },
      );
    });
  }
});
