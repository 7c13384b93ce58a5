import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { replaceEventData, type SseEvent, SseSplitter } from "../../src/gate/sse-splitter.js";

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

test("events are cut at blank lines (LF, CRLF, CR); data lines joined; raw text kept", () => {
  const { events } = split([Buffer.from(STREAM)]);
  assert.deepEqual(
    events.map((e) => e.data),
    [undefined, '{"a":"é€😀"}', "", "line one\nline two", undefined],
  );
  // Complete events are forwarded byte for byte; the unterminated last one is dropped.
  assert.equal(events.map((e) => e.raw).join(""), STREAM.slice(0, STREAM.lastIndexOf("data: cut")));
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

test("replacing data keeps event, id and retry lines", () => {
  assert.equal(
    replaceEventData("event: message\r\nid: 9\r\ndata: {\r\ndata: }\r\nretry: 5\r\n\r\n", '{"x":1}'),
    'event: message\nid: 9\ndata: {"x":1}\nretry: 5\n\n',
  );
});
