/**
 * The two byte-exact ustar headers a bundle member may have: the one Assay writes (tar-stream's
 * encoding: `000644 \0` numeric fields) and the POSIX one (Python's tarfile: `0000644\0`).
 * Both: regular file, mode 0644, uid/gid 0, mtime 0, empty owner names, no prefix
 * (device numbers: zeros in Assay's encoding, empty in Python's). Accepting
 * exactly two whole headers (not per-field variants) keeps every single-byte change detectable.
 */
export function canonicalHeaders(name: string, size: number): [Buffer, Buffer] {
  return [header(name, size, "tar-stream"), header(name, size, "posix")];
}

function header(name: string, size: number, style: "tar-stream" | "posix"): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(name, 0, "ascii");
  const num = (value: number, width: number, at: number): void => {
    const digits = value.toString(8);
    const text =
      style === "tar-stream" ? `${digits.padStart(width - 2, "0")} ` : `${digits.padStart(width - 1, "0")}\0`;
    buf.write(text, at, "ascii");
  };
  num(0o644, 8, 100);
  num(0, 8, 108);
  num(0, 8, 116);
  if (style === "tar-stream") buf.write(`${size.toString(8).padStart(11, "0")} `, 124, "ascii");
  else buf.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "ascii");
  if (style === "tar-stream") buf.write(`${"0".padStart(11, "0")} `, 136, "ascii");
  else num(0, 12, 136);
  buf[156] = 0x30;
  buf.write("ustar\u000000", 257, "ascii");
  // Python leaves the device numbers of a regular file empty; tar-stream writes zeros.
  if (style === "tar-stream") {
    num(0, 8, 329);
    num(0, 8, 337);
  }
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  if (style === "tar-stream") {
    buf.fill(0, 148, 156);
    buf.write(`${sum.toString(8).padStart(6, "0")} `, 148, "ascii");
  } else buf.write(`${sum.toString(8).padStart(6, "0")}\0`, 148, "ascii");
  return buf;
}

/** What the verifier needs from a raw 512-byte header before trusting anything in it. */
export interface RawHeader {
  path: string;
  typeflag: string;
  /** Declared size, or NaN when the field is not octal. */
  size: number;
  checksumOk: boolean;
}

export function readRawHeader(buf: Buffer): RawHeader {
  const name = cString(buf, 0, 100);
  const prefix = buf.subarray(257, 263).toString("latin1") === "ustar\u0000" ? cString(buf, 345, 155) : "";
  return {
    path: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(buf[156] ?? 0),
    size: octal(buf.subarray(124, 136)),
    checksumOk: checksumMatches(buf),
  };
}

function cString(buf: Buffer, at: number, len: number): string {
  const field = buf.subarray(at, at + len);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? len : end).toString("latin1");
}

function octal(field: Buffer): number {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256, used for sizes beyond 8 GiB.
    let v = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] ?? 0);
    return v;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  return /^[0-7]{1,12}$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

function checksumMatches(buf: Buffer): boolean {
  const declared = octal(buf.subarray(148, 156));
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += buf[i] ?? 0;
  for (let i = 156; i < 512; i++) sum += buf[i] ?? 0;
  return declared === sum;
}

/** True when every byte of `buf` is zero. */
export function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
