/**
 * The variants of the replay driver's mutation set: small pure functions from one string to its
 * perturbed form. docs/replay.md lists every one with an example; `mutations.ts` decides where
 * they apply.
 */

import type { Rng } from "../stats/rng.js";
import type { Mutation } from "../target/types.js";

/** One variant: the perturbed form of `value`. Only `injected_secret` variants draw from `rng`. */
export type VariantFn = (value: string, rng: Rng) => string;
export interface Variant {
  readonly name: string;
  readonly apply: VariantFn;
}

// ── path_traversal ────────────────────────────────────────────────────────────────────────────

/**
 * The directory a traversal starts from and how many `..` it takes to climb out of it: the parent
 * of the last segment, or the path itself when that parent is the root (`/workspace/a` and
 * `/workspace` both start from `/workspace`, one level deep).
 */
function climb(path: string): { dir: string; ups: number } {
  const trimmed = path.replace(/\/+$/, "");
  const cut = trimmed.lastIndexOf("/");
  const parent = cut <= 0 ? "" : trimmed.slice(0, cut);
  const dir = parent === "" || parent === "." ? trimmed : parent;
  const ups = Math.max(1, dir.split("/").filter((s) => s !== "" && s !== ".").length);
  return { dir, ups };
}

/** `dir` + `sep` + `up` repeated to the root + `etc/passwd`. */
const traverse = (path: string, up: string, sep = "/", extra = 0): string => {
  const { dir, ups } = climb(path);
  return `${dir}${sep}${up.repeat(ups + extra)}etc${sep === "\\" ? "\\" : "/"}passwd`;
};

const extension = (path: string): string => /\.[A-Za-z0-9]{1,8}$/.exec(path)?.[0] ?? "";

const PATH_TRAVERSAL: readonly Variant[] = [
  { name: "dotdot", apply: (p) => traverse(p, "../") },
  { name: "dotdot-percent-encoded", apply: (p) => traverse(p, "%2e%2e/") },
  { name: "dotdot-double-encoded", apply: (p) => traverse(p, "%252e%252e/") },
  { name: "dotdot-backslash", apply: (p) => traverse(p, "..\\", "\\") },
  { name: "dotdot-overlong-utf8", apply: (p) => traverse(p, "..%c0%af") },
  { name: "dotdot-fullwidth", apply: (p) => traverse(p, "\uFF0E\uFF0E\uFF0F") },
  { name: "dotdot-nul-suffix", apply: (p) => `${traverse(p, "../")}%00${extension(p)}` },
  { name: "absolute-swap", apply: () => "/etc/shadow" },
  { name: "repeated-slashes", apply: (p) => traverse(p, "../", "//", 1) },
];

// ── case_confusable ───────────────────────────────────────────────────────────────────────────

/** Latin letters and the Cyrillic letters drawn the same in most fonts. */
const CYRILLIC: Readonly<Record<string, string>> = {
  a: "\u0430",
  c: "\u0441",
  e: "\u0435",
  i: "\u0456",
  j: "\u0458",
  o: "\u043E",
  p: "\u0440",
  s: "\u0455",
  x: "\u0445",
  y: "\u0443",
};

const mixedCase = (s: string): string => {
  let n = 0;
  return s.replace(/[A-Za-z]/g, (c) => (n++ % 2 === 0 ? c.toUpperCase() : c.toLowerCase()));
};
const afterFirst = (s: string, insert: string): string =>
  s === "" ? s : `${s.slice(0, 1)}${insert}${s.slice(1)}`;

const CASE_CONFUSABLE: readonly Variant[] = [
  { name: "upper-case", apply: (s) => s.replace(/[a-z]/g, (c) => c.toUpperCase()) },
  { name: "mixed-case", apply: mixedCase },
  { name: "cyrillic-homoglyph", apply: (s) => s.replace(/[aceijopsxy]/, (c) => CYRILLIC[c] ?? c) },
  {
    name: "fullwidth-letter",
    apply: (s) => s.replace(/[A-Za-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  },
  { name: "zero-width-space", apply: (s) => afterFirst(s, "\u200B") },
  { name: "zero-width-joiner", apply: (s) => afterFirst(s, "\u200D") },
  { name: "trailing-whitespace", apply: (s) => `${s} ` },
];

// ── url_tricks ────────────────────────────────────────────────────────────────────────────────

/** An http(s) URL cut into its raw parts, as written (no normalization). */
export interface UrlParts {
  /** `http://` or `https://`, as written. */
  readonly scheme: string;
  /** `user:pass@` or empty. */
  readonly userinfo: string;
  readonly host: string;
  /** `:8080` or empty. */
  readonly port: string;
  /** Everything from the first `/`, `\`, `?` or `#` after the authority. */
  readonly rest: string;
}

/**
 * Split a string that is an http(s) URL by the WHATWG parser and is written with `//`; null for
 * anything else.
 */
export function splitUrl(s: string): UrlParts | null {
  const m = /^(https?:\/\/)([^/\\?#]*)(.*)$/is.exec(s);
  if (!m || !URL.canParse(s)) return null;
  const [, scheme = "", authority = "", rest = ""] = m;
  const at = authority.lastIndexOf("@");
  const userinfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const close = hostPort.startsWith("[") ? hostPort.indexOf("]") + 1 : 0;
  const colon = hostPort.indexOf(":", close);
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const port = colon < 0 ? "" : hostPort.slice(colon);
  if (host === "") return null;
  return { scheme, userinfo, host, port, rest };
}

const METADATA_IP = "169.254.169.254";

/** The URL with its authority replaced by `authority` (userinfo and port dropped), path kept. */
const withAuthority =
  (authority: (parts: UrlParts) => string): VariantFn =>
  (s) => {
    const parts = splitUrl(s);
    return parts ? `${parts.scheme}${authority(parts)}${parts.rest}` : s;
  };

const URL_TRICKS: readonly Variant[] = [
  { name: "metadata-decimal", apply: withAuthority(() => "2852039166") },
  { name: "metadata-hex", apply: withAuthority(() => "0xA9FEA9FE") },
  { name: "metadata-octal", apply: withAuthority(() => "0251.0376.0251.0376") },
  { name: "metadata-ipv4-mapped", apply: withAuthority(() => `[::ffff:${METADATA_IP}]`) },
  { name: "metadata-ipv4-mapped-hex", apply: withAuthority(() => "[::ffff:a9fe:a9fe]") },
  { name: "userinfo-at-metadata", apply: withAuthority((p) => `${p.host}@${METADATA_IP}`) },
  { name: "metadata-trailing-dot", apply: withAuthority(() => `${METADATA_IP}.`) },
  { name: "metadata-name", apply: withAuthority(() => "metadata.google.internal") },
  { name: "metadata-name-trailing-dot", apply: withAuthority(() => "metadata.google.internal.") },
  { name: "localhost", apply: withAuthority(() => "localhost") },
  { name: "loopback-ip", apply: withAuthority(() => "127.0.0.1") },
];

// ── injected_secret ───────────────────────────────────────────────────────────────────────────

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const BASE32 = `${UPPER}234567`;
const BASE64 = `${ALNUM}+/`;
const BASE64URL = `${ALNUM}-_`;

const draw = (rng: Rng, alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[rng.nextInt(alphabet.length)]).join("");

/** The fake credentials: shaped like real ones for the usual detectors, marked as test values. */
const SECRETS: readonly [name: string, make: (rng: Rng) => string][] = [
  // AWS's documentation marks its example key ids with EXAMPLE; 4 + 16 characters of [A-Z2-7].
  ["aws-access-key-id", (rng) => `AKIA${draw(rng, BASE32, 9)}EXAMPLE`],
  ["github-token", (rng) => `ghp_ASSAYFAKE${draw(rng, ALNUM, 27)}`],
  [
    "pem-private-key",
    (rng) =>
      `-----BEGIN RSA PRIVATE KEY-----\nASSAYFAKEKEY${draw(rng, BASE64, 52)}\n-----END RSA PRIVATE KEY-----`,
  ],
  [
    "jwt",
    (rng) => {
      const payload = Buffer.from(
        JSON.stringify({ sub: `assay-fake-${draw(rng, ALNUM, 10)}`, iss: "assay-test" }),
      ).toString("base64url");
      // The header is {"alg":"HS256","typ":"JWT"}.
      return `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${payload}.${draw(rng, BASE64URL, 43)}`;
    },
  ],
  [
    "slack-bot-token",
    (rng) => `xoxb-${draw(rng, DIGITS, 12)}-${draw(rng, DIGITS, 13)}-ASSAYFAKE${draw(rng, ALNUM, 15)}`,
  ],
];

/** Appended after one space, so the recorded text stays in place; an empty string is replaced. */
const INJECTED_SECRET: readonly Variant[] = SECRETS.map(([name, make]) => ({
  name,
  apply: (s, rng) => {
    const secret = make(rng);
    return s === "" ? secret : `${s} ${secret}`;
  },
}));

/** Every kind's variants, in the order a variant index picks them. */
export const VARIANTS: Readonly<Record<Mutation, readonly Variant[]>> = Object.freeze({
  path_traversal: PATH_TRAVERSAL,
  case_confusable: CASE_CONFUSABLE,
  url_tricks: URL_TRICKS,
  injected_secret: INJECTED_SECRET,
});
