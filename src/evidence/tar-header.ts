/**
 * Assay's canonical ustar headers for a bundle member: the one its writer produces (tar-stream's
 * encoding: `000644 \0` numeric fields, zero device numbers) and the same header as Python's
 * `tarfile` encodes it in POSIX format (`0000644\0`, empty device numbers). Both: regular file,
 * mode 0644, uid/gid 0, mtime 0, empty owner names, no prefix. A member header that is neither
 * is still verified (see `readRawHeader`); it only earns a warning.
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

/**
 * The header layouts mainstream writers produce: POSIX ustar (`ustar\0` + version, also what
 * PAX-format writers emit when no extended header is needed), GNU (`ustar  \0`: the Rust `tar`
 * crate's `Header::new_gnu()`, GNU tar, Python's GNU_FORMAT) and V7 (no magic). Anything else
 * is not a header the verifier can read the same way every reader does.
 */
export type TarFormat = "ustar" | "gnu" | "v7";

/** Numeric fields read only to check that every reader can parse them (their values change nothing verified). */
const COSMETIC_NUMBERS = {
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  mtime: [136, 12],
  devmajor: [329, 8],
  devminor: [337, 8],
} as const;

type CosmeticField = keyof typeof COSMETIC_NUMBERS;

/** What the verifier reads from a raw 512-byte header, before trusting anything in it. */
export interface RawHeader {
  /** `prefix/name` for ustar, `name` otherwise; only the bytes before each field's first NUL. */
  path: string;
  typeflag: string;
  /** Declared size, or NaN when the field is not a number. */
  size: number;
  checksumOk: boolean;
  /** Undefined when the magic is none of the known layouts. */
  format: TarFormat | undefined;
  /** Why readers could disagree about the member's name, if they could. */
  nameAmbiguity: string | undefined;
  /** True when the link-target field holds anything. */
  hasLinkTarget: boolean;
  /** Mode, ids, mtime and device numbers; NaN when a field is not a number. */
  numbers: Record<CosmeticField, number>;
  uname: string;
  gname: string;
}

/** Read a header as GNU tar and Python's `tarfile` both would; nothing here throws. */
export function readRawHeader(buf: Buffer): RawHeader {
  const format = formatOf(buf);
  const name = cString(buf, 0, 100);
  const prefix = format === "ustar" ? cString(buf, 345, 155) : "";
  const numbers = {} as Record<CosmeticField, number>;
  for (const [field, [at, len]] of Object.entries(COSMETIC_NUMBERS) as [
    CosmeticField,
    readonly [number, number],
  ][])
    numbers[field] = looseNumber(buf.subarray(at, at + len));
  return {
    path: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(buf[156] ?? 0),
    size: strictNumber(buf.subarray(124, 136)),
    checksumOk: checksumMatches(buf),
    format,
    nameAmbiguity: nameAmbiguity(buf, format),
    hasLinkTarget: !isZero(buf.subarray(157, 257)),
    numbers,
    uname: format === "v7" ? "" : cString(buf, 265, 32),
    gname: format === "v7" ? "" : cString(buf, 297, 32),
  };
}

function formatOf(buf: Buffer): TarFormat | undefined {
  const magic = buf.subarray(257, 263).toString("latin1");
  if (magic === "ustar\0") return "ustar";
  if (magic === "ustar " && buf.subarray(263, 265).toString("latin1") === " \0") return "gnu";
  if (isZero(buf.subarray(257, 265))) return "v7";
  return undefined;
}

/**
 * Bytes that some reader would take as part of the name and another would not: anything after
 * the NUL that ends the name (or a ustar prefix), and, outside ustar, anything in the prefix
 * field, which Python's `tarfile` joins to the name whatever the magic says while GNU tar reads
 * GNU fields (atime, ctime) there.
 */
function nameAmbiguity(buf: Buffer, format: TarFormat | undefined): string | undefined {
  if (!afterNulIsZero(buf.subarray(0, 100))) return "bytes after the NUL that ends the name";
  if (format === "ustar") {
    if (!afterNulIsZero(buf.subarray(345, 500))) return "bytes after the NUL that ends the prefix";
  } else if (!isZero(buf.subarray(345, 500)))
    return `bytes in the prefix field of a ${format === "gnu" ? "GNU" : "V7"} header (readers disagree about the name)`;
  return undefined;
}

function afterNulIsZero(field: Buffer): boolean {
  const end = field.indexOf(0);
  return end === -1 || isZero(field.subarray(end));
}

function cString(buf: Buffer, at: number, len: number): string {
  const field = buf.subarray(at, at + len);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? len : end).toString("latin1");
}

/** GNU base-256 (first byte 0x80, or 0xff for a negative number), or undefined. */
function base256(field: Buffer): number | undefined {
  const first = field[0] ?? 0;
  if (first !== 0x80 && first !== 0xff) return undefined;
  // A negative number is two's complement: summing the complemented bytes keeps small values exact.
  const neg = first === 0xff;
  let v = 0;
  for (let i = 1; i < field.length; i++) v = v * 256 + (neg ? 0xff - (field[i] ?? 0) : (field[i] ?? 0));
  return neg ? -v - 1 : v;
}

/**
 * The size field as every reader parses it the same way: base-256, or octal digits (leading
 * spaces allowed) followed only by NUL or space.
 */
function strictNumber(field: Buffer): number {
  if (((field[0] ?? 0) & 0x80) !== 0) return base256(field) ?? Number.NaN;
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  return /^[0-7]{1,12}$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

/**
 * A numeric field as GNU tar and Python read it: base-256, or octal up to the first NUL with
 * spaces around it, empty meaning 0 (device numbers of a regular file are often left empty).
 */
function looseNumber(field: Buffer): number {
  const b = base256(field);
  if (b !== undefined) return b;
  const end = field.indexOf(0);
  const text = field
    .subarray(0, end === -1 ? field.length : end)
    .toString("latin1")
    .trim();
  return /^[0-7]*$/.test(text) ? (text === "" ? 0 : Number.parseInt(text, 8)) : Number.NaN;
}

/** The declared checksum equals the sum of the header's bytes, unsigned (POSIX) or signed (old Sun tar). */
function checksumMatches(buf: Buffer): boolean {
  const declared = looseNumber(buf.subarray(148, 156));
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  const add = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const b = buf[i] ?? 0;
      unsigned += b;
      signed += b < 0x80 ? b : b - 0x100;
    }
  };
  add(0, 148);
  add(156, 512);
  return declared === unsigned || declared === signed;
}

/** The fields of a readable header that are not a number every reader parses (empty when all are). */
export function unreadableFields(h: RawHeader): string[] {
  return (Object.keys(h.numbers) as CosmeticField[]).filter((f) => Number.isNaN(h.numbers[f]));
}

/**
 * How a verified header differs from the canonical ones, in words (empty when it is one of
 * them): nothing here changes what the member contains or where it goes.
 */
export function cosmeticDifferences(raw: Buffer, h: RawHeader): string[] {
  if (canonicalHeaders(h.path, h.size).some((c) => c.equals(raw))) return [];
  const out: string[] = [];
  if (h.format === "gnu") out.push("GNU format");
  else if (h.format === "v7") out.push("V7 format");
  else if (raw.subarray(263, 265).toString("latin1") !== "00")
    out.push(`ustar version \`${printable(raw.subarray(263, 265).toString("latin1"))}\``);
  if (h.typeflag === "\0") out.push("type NUL");
  const { mode, uid, gid, mtime, devmajor, devminor } = h.numbers;
  if (mode !== 0o644) out.push(`mode ${mode.toString(8).padStart(4, "0")}`);
  if (uid !== 0) out.push(`uid ${uid}`);
  if (gid !== 0) out.push(`gid ${gid}`);
  if (mtime !== 0) out.push(`mtime ${mtime}`);
  if (h.uname !== "") out.push(`owner \`${printable(h.uname)}\``);
  if (h.gname !== "") out.push(`group \`${printable(h.gname)}\``);
  if (devmajor !== 0 || devminor !== 0) out.push(`device ${devmajor},${devminor}`);
  if (out.length === 0) out.push("field encoding or unused bytes");
  return out;
}

/** Control and non-ASCII characters as `\xNN`, for one-line messages. */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: shown escaped in one-line messages
  return s.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** True when every byte of `buf` is zero. */
export function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
