import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type SseEvent, SseSplitter, writeEvent } from "../../src/gate/sse-splitter.js";

function split(chunks: Buffer[], max = 1 << 20): { events: SseEvent[]; oversize: number[] } {
  const events: SseEvent[] = [];
  const oversize: number[] = [];
  const s = new SseSplitter(max, { event: (e) => events.push(e), oversize: (n) => oversize.push(n) });
  for (const c of chunks) s.push(c);
  s.end();
  return { events, oversize };
}

/** Cut `bytes` at the given offsets (any byte, even inside a UTF-8 sequence or a CRLF). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const STREAM =
  ": comment\r\n\r\n" +
  'event: message\r\nid: 1\r\ndata: {"a":"é€😀"}\r\n\r\n' +
  "id: 2\ndata: \n\n" +
  "data: line one\rdata:line two\r\r" +
  "retry: 500\n\n" +
  "data: cut short at the end";

test("events are cut at blank lines (LF, CRLF, CR); data lines joined; other fields kept normalized", () => {
  const { events } = split([Buffer.from(STREAM)]);
  // The unterminated last event is dropped.
  assert.deepEqual(
    events.map((e) => [e.data, e.fields]),
    [
      [undefined, [": comment"]],
      ['{"a":"é€😀"}', ["event: message", "id: 1"]],
      ["", ["id: 2"]],
      ["line one\nline two", []],
      [undefined, ["retry: 500"]],
    ],
  );
});

test("lines a client would not read as fields are dropped: unknown names, a mangled BOM, bad retry, NUL in id", () => {
  // C3 AF C2 BB C2 BF: a BOM decoded as Latin-1 and re-encoded, which some parsers strip anyway.
  const { events } = split([
    Buffer.from('ï»¿data: {"smuggled":1}\n\nevil: x\nretry: 5s\nid: a\u0000b\ndata: {}\n\n'),
  ]);
  assert.deepEqual(
    events.map((e) => [e.data, e.fields]),
    [
      [undefined, []],
      ["{}", []],
    ],
  );
});

test("a byte-order mark opening the stream is not part of the first field", () => {
  const { events } = split([Buffer.from('\uFEFFdata: {"a":1}\n\n')]);
  assert.deepEqual(
    events.map((e) => e.data),
    ['{"a":1}'],
  );
});

test("any chunking gives the same events", () => {
  const bytes = Buffer.from(STREAM);
  const whole = split([bytes]).events;
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), (at) => {
      assert.deepEqual(split(cut(bytes, at)).events, whole);
    }),
    { numRuns: 500 },
  );
});

test("an event over the limit is dropped whole, whatever the chunking; the next one survives", () => {
  const big = `id: 7\ndata: ${"x".repeat(300)}\r\n\r\n`;
  const bytes = Buffer.from(`${big}data: after\n\n`);
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 8 }), (at) => {
      const { events, oversize } = split(cut(bytes, at), 100);
      assert.deepEqual(
        events.map((e) => e.data),
        ["after"],
      );
      assert.deepEqual(oversize, [Buffer.byteLength(big)]);
    }),
    { numRuns: 300 },
  );
});

test("an event over the limit that the stream's end cuts short is still reported as dropped", () => {
  const head = `data: ok\n\nid: 8\ndata: ${"y".repeat(300)}`;
  const bytes = Buffer.from(head);
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 8 }), (at) => {
      const { events, oversize } = split(cut(bytes, at), 100);
      assert.deepEqual(
        events.map((e) => e.data),
        ["ok"],
      );
      assert.deepEqual(oversize, [Buffer.byteLength(head) - "data: ok\n\n".length]);
    }),
    { numRuns: 200 },
  );
});

test("an event is written as its fields, then one data line per line of data", () => {
  assert.equal(
    writeEvent(["event: message", "id: 9"], '{"x":1}'),
    'event: message\nid: 9\ndata: {"x":1}\n\n',
  );
  assert.equal(writeEvent([], "a\nb"), "data: a\ndata: b\n\n");
  assert.equal(writeEvent(["id: 2"], ""), "id: 2\ndata: \n\n");
  assert.equal(writeEvent([], undefined), undefined);
});
