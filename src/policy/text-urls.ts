/**
 * Where the spans of free text that may name a URL go. A `primary` span that does not parse is
 * refused; `cleaned` spans come from the text without its tabs and newlines.
 */
export interface SpanSink {
  push(span: string, primary: boolean, cleaned: boolean): void;
  /** Set by the sink when it reads no more. */
  readonly full: boolean;
}

// A URL in free text ends at whitespace or one of " ' < > ` | ; , ( ) { } for a tokenizer, a shell
// or a reader. U+FEFF is not an end: URL parsers drop it from hosts. A backslash is not an end
// either: special-scheme parsers read it as `/`.
const END = new Uint8Array(128);
for (const c of "\t\n\v\f\r \"'<>`|;,(){}") END[c.charCodeAt(0)] = 1;
const SCHEME_CHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") {
  SCHEME_CHAR[c.charCodeAt(0)] = 1;
}
// `curl http:169.254.169.254/`: special schemes fetch accepts without `//`, anywhere in free text.
const SLASHLESS = /(?:^|[^A-Za-z0-9+.-])((?:https?|wss?|ftp|file|gopher):)(?!\/\/)/i;
const SLASHLESS_ALL = /(?:^|[^A-Za-z0-9+.-])((?:https?|wss?|ftp|file|gopher):)(?!\/\/)/gi;
const TAB_NEWLINE = /[\t\n\r]/;

/** Could `text` hold a URL at all? (Cheap; false means scanUrlSpans would push nothing.) */
export function mayHoldUrl(text: string): boolean {
  return text.includes("://") || SLASHLESS.test(text) || (TAB_NEWLINE.test(text) && text.includes(":"));
}

/**
 * Every span of free text that a real client could read as a URL, each to be read by
 * readDestination. In one pass over the text as written, and in another over the text without
 * tabs and newlines (which WHATWG parsers delete: `http://local<TAB>host/` is `localhost` to
 * `fetch`; only spans a deletion falls inside are pushed from it), each URL is found at its scheme
 * (`x://`, or `http:`, `https:`, `ws:`, `wss:`, `ftp:`, `file:`, `gopher:` without `//`) and read:
 * - up to the first whitespace or ``" ' < > ` | ; , ( ) { }`` (primary);
 * - when an `@` follows that end before any whitespace, `/`, `?` or `#`, up to the host after the
 *   last such `@`: `http://x,@169.254.169.254/` is userinfo `x,` and that host to WHATWG, curl and
 *   Python alike;
 * - when the URL starts the value and one of those ends it inside its authority, as the whole
 *   value, as `fetch(value)` reads it (`http://a b@10.0.0.1/`).
 * Linear in the text: a URL inside another one reuses the ends already found.
 */
export function scanUrlSpans(text: string, sink: SpanSink): void {
  scanSpans(text, null, sink);
  if (sink.full || !TAB_NEWLINE.test(text)) return;
  // The text without tabs and newlines, and where (in it) each deleted run stood. Only deleting a
  // run between two characters that are not whitespace can change a span.
  const deleted: number[] = [];
  const parts: string[] = [];
  let from = 0;
  let removed = 0;
  let joins = false;
  for (let i = 0; i < text.length; i++) {
    if (!isTabNewline(text.charCodeAt(i))) continue;
    const run = i;
    while (i + 1 < text.length && isTabNewline(text.charCodeAt(i + 1))) i++;
    if (run > 0 && i + 1 < text.length) {
      joins ||= !isSpace(text.charCodeAt(run - 1)) && !isSpace(text.charCodeAt(i + 1));
    }
    parts.push(text.slice(from, run));
    deleted.push(run - removed);
    removed += i + 1 - run;
    from = i + 1;
  }
  if (!joins) return;
  parts.push(text.slice(from));
  const clean = parts.join("");
  if (clean.includes("://") || SLASHLESS.test(clean)) scanSpans(clean, deleted, sink);
}

/** Ends shared by URLs that start inside an earlier URL's span (what keeps the scan linear). */
interface Memo {
  end: number;
  regionEnd: number;
  lastAt: number;
  hostEnd: number;
}

/** One pass; `deleted`: the scan is of the text without tabs and newlines, which were at these indexes. */
function scanSpans(t: string, deleted: readonly number[] | null, sink: SpanSink): void {
  let lead = 0;
  while (lead < t.length && t.charCodeAt(lead) <= 0x20) lead++;
  const scan: Scan = { t, deleted, lead, sink, memo: { end: 0, regionEnd: 0, lastAt: -1, hostEnd: 0 } };
  SLASHLESS_ALL.lastIndex = 0;
  for (let m = SLASHLESS_ALL.exec(t); m !== null && !sink.full; m = SLASHLESS_ALL.exec(t)) {
    const colon = m.index + m[0].length - 1;
    urlAt(scan, colon - ((m[1] as string).length - 1), colon);
  }
  scan.memo = { end: 0, regionEnd: 0, lastAt: -1, hostEnd: 0 };
  for (let at = t.indexOf("://"); at >= 0 && !sink.full; at = t.indexOf("://", at + 3)) {
    let start = at;
    while (start > 0 && isSchemeChar(t.charCodeAt(start - 1))) start--;
    // A scheme starts with a letter: `1http://` is `http://` to a reader.
    while (start < at && !isLetter(t.charCodeAt(start))) start++;
    if (start < at) urlAt(scan, start, at);
  }
}

interface Scan {
  readonly t: string;
  readonly deleted: readonly number[] | null;
  /** Where a URL that is the whole value starts (after leading controls and spaces). */
  readonly lead: number;
  readonly sink: SpanSink;
  memo: Memo;
}

function urlAt(scan: Scan, start: number, colon: number): void {
  const { t, memo, sink } = scan;
  const cleaned = scan.deleted !== null;
  // A URL inside the previous one ends where that one ends: scanning again would be quadratic.
  if (memo.end <= colon) {
    let end = colon + 1;
    while (end < t.length && !isEnd(t.charCodeAt(end))) end++;
    memo.end = end;
  }
  const end = memo.end;
  const inside = cleaned && deletedWithin(scan.deleted as readonly number[], start, end);
  if (!cleaned || inside) sink.push(t.slice(start, end), !cleaned, cleaned);
  if (end >= t.length) return;
  let auth = colon + 1;
  while (auth < t.length && (t[auth] === "/" || t[auth] === "\\")) auth++;
  // A URL that starts the value and ends inside its authority is also read as the whole value,
  // as `fetch(value)` reads it: `http://a b@10.0.0.1/` (whitespace in userinfo is allowed there).
  if (start === scan.lead && !authorityEnds(t, auth, end) && (!cleaned || inside))
    sink.push(t, false, cleaned);
  if (isSpace(t.charCodeAt(end))) return;
  // The userinfo may run past that end: `http://x,@10.0.0.1/`, `http://x'@10.0.0.1/`.
  if (memo.regionEnd <= auth) {
    let i = auth;
    let lastAt = -1;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x2f || c === 0x3f || c === 0x23 || isSpace(c)) break; // `/`, `?`, `#`
      if (c === 0x40) lastAt = i; // `@`
    }
    let hostEnd = lastAt + 1;
    if (lastAt >= 0) while (hostEnd < i && !isEnd(t.charCodeAt(hostEnd))) hostEnd++;
    memo.regionEnd = i;
    memo.lastAt = lastAt;
    memo.hostEnd = hostEnd;
  }
  if (
    memo.lastAt >= end &&
    (!cleaned || deletedWithin(scan.deleted as readonly number[], start, memo.hostEnd))
  ) {
    sink.push(t.slice(start, memo.hostEnd), false, cleaned);
  }
}

/** Does a `/`, `?` or `#` end the authority starting at `from` before `to`? */
function authorityEnds(t: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) return true;
  }
  return false;
}

/** Was a character deleted strictly inside [start, end) of the cleaned text (binary search)? */
function deletedWithin(deleted: readonly number[], start: number, end: number): boolean {
  let lo = 0;
  let hi = deleted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((deleted[mid] as number) <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo < deleted.length && (deleted[lo] as number) < end;
}

function isTabNewline(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d;
}

function isEnd(c: number): boolean {
  return c < 128 ? END[c] === 1 : isWideSpace(c);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 128 && isWideSpace(c));
}

// JavaScript's `\s` outside ASCII, without U+FEFF.
function isWideSpace(c: number): boolean {
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function isSchemeChar(c: number): boolean {
  return c < 128 && SCHEME_CHAR[c] === 1;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
