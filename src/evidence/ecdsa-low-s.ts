// ECDSA P-256 signatures in their low-S form. A signature (r, s) has a twin (r, n - s) that
// verifies just as well, so anyone holding one signature can make a second, different one. Assay
// signs only in the low form (s <= n / 2, as Bitcoin and Ethereum require); where Assay checks its
// own artifacts byte for byte (audit kits) it refuses the high form. Verifying envelopes made by
// other tools stays lenient: cosign and securesystemslib do not normalise.

/** The order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;

/** r and s of a DER `SEQUENCE { INTEGER r, INTEGER s }` with short lengths; undefined otherwise. */
function readDer(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return undefined;
  const r = readInteger(sig, 2);
  if (r === undefined) return undefined;
  const s = readInteger(sig, r.end);
  if (s === undefined || s.end !== sig.length) return undefined;
  return { r: r.value, s: s.value };
}

function readInteger(sig: Uint8Array, at: number): { value: bigint; end: number } | undefined {
  const len = sig[at + 1];
  if (sig[at] !== 0x02 || len === undefined || len === 0 || len > 0x7f) return undefined;
  const end = at + 2 + len;
  if (end > sig.length) return undefined;
  return { value: BigInt(`0x${Buffer.from(sig.subarray(at + 2, end)).toString("hex")}`), end };
}

/** The minimal DER INTEGER of a non-negative `v`. */
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, "hex");
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** `der` (a P-256 signature in DER) in its low-S form: itself when it is already, or unreadable. */
export function lowS(der: Buffer): Buffer {
  const rs = readDer(der);
  if (rs === undefined || rs.s <= HALF_N) return der;
  const body = Buffer.concat([derInteger(rs.r), derInteger(P256_N - rs.s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Whether `der` is a readable P-256 DER signature whose s is in the low half. */
export function isLowS(der: Uint8Array): boolean {
  const rs = readDer(der);
  return rs !== undefined && rs.s <= HALF_N;
}
