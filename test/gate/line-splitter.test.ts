import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { LineSplitter } from "../../src/gate/line-splitter.js";

type Event =
  | { kind: "line"; text: string; bytes?: number }
  | { kind: "oversize"; prefix: string; bytes: number }
  | { kind: "undecodable"; prefix: string };

function collect(maxBytes: number, withBytes = false): { splitter: LineSplitter; events: Event[] } {
  const events: Event[] = [];
  const splitter = new LineSplitter(maxBytes, {
    line: (text, bytes) => events.push(withBytes ? { kind: "line", text, bytes } : { kind: "line", text }),
    oversize: (prefix, bytes) => events.push({ kind: "oversize", prefix, bytes }),
    undecodable: (prefix) => events.push({ kind: "undecodable", prefix }),
  });
  return { splitter, events };
}

/** Feed `bytes` cut at the given offsets. */
function feed(splitter: LineSplitter, bytes: Buffer, cuts: number[]): void {
  let start = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (c <= start || c >= bytes.length) continue;
    splitter.push(bytes.subarray(start, c));
    start = c;
  }
  splitter.push(bytes.subarray(start));
}

const lines = (events: Event[]) => events.map((e) => (e.kind === "line" ? e.text : `<${e.kind}>`));

describe("LineSplitter", () => {
  test("one frame per newline, whatever the chunk boundaries", () => {
    const text = '{"a":1}\n{"b":"x y"}\n\n{"c":[1,2]}\n';
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { splitter, events } = collect(1024);
      feed(splitter, bytes, [cut]);
      splitter.end();
      assert.deepEqual(lines(events), ['{"a":1}', '{"b":"x y"}', '{"c":[1,2]}'], `cut at ${cut}`);
    }
    const { splitter, events } = collect(1024);
    for (const b of bytes) splitter.push(Buffer.from([b]));
    assert.deepEqual(lines(events), ['{"a":1}', '{"b":"x y"}', '{"c":[1,2]}']);
  });

  test("a UTF-8 character cut between chunks is reassembled", () => {
    const text = '{"s":"é€𝄞 日本"}\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { splitter, events } = collect(1024);
      feed(splitter, bytes, [cut]);
      assert.deepEqual(events, [{ kind: "line", text: text.slice(0, -1) }], `cut at byte ${cut}`);
    }
  });

  test("CRLF ends a frame like LF, also when CR and LF arrive in different chunks", () => {
    const { splitter, events } = collect(1024);
    splitter.push(Buffer.from('{"a":1}\r'));
    splitter.push(Buffer.from('\n{"b":2}\r\n'));
    assert.deepEqual(lines(events), ['{"a":1}', '{"b":2}']);
  });

  test("a last frame without its newline is delivered at end; blank lines are not frames", () => {
    const { splitter, events } = collect(1024);
    splitter.push(Buffer.from(' \n\r\n\n{"a":1}\n{"tail":true}'));
    assert.deepEqual(lines(events), ['{"a":1}']);
    splitter.end();
    assert.deepEqual(lines(events), ['{"a":1}', '{"tail":true}']);
    splitter.end();
    assert.equal(events.length, 2, "a second end() delivers nothing more");
  });

  test("invalid UTF-8 is undecodable, never decoded with replacement characters", () => {
    for (const bad of [
      Buffer.from([0x7b, 0xff, 0x7d]),
      Buffer.from([0x7b, 0xc3, 0x7d]), // a lead byte without its continuation
      Buffer.from([0xc0, 0xaf]), // overlong "/"
      Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
      Buffer.concat([Buffer.from('{"id":5,"s":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]),
    ]) {
      const { splitter, events } = collect(1024);
      splitter.push(Buffer.concat([bad, Buffer.from('\n{"ok":1}\n')]));
      assert.equal(events.length, 2, bad.toString("hex"));
      assert.equal(events[0]?.kind, "undecodable", bad.toString("hex"));
      assert.deepEqual(events[1], { kind: "line", text: '{"ok":1}' });
    }
    const { splitter, events } = collect(1024);
    splitter.push(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x35, 0x2c, 0xff, 0x0a]));
    assert.deepEqual(events, [{ kind: "undecodable", prefix: '{"id":5,\ufffd' }]);
  });

  test("a byte order mark is kept, so the frame does not parse (it is not silently accepted)", () => {
    const { splitter, events } = collect(1024);
    splitter.push(Buffer.from('\ufeff{"a":1}\n'));
    assert.deepEqual(events, [{ kind: "line", text: '\ufeff{"a":1}' }]);
  });

  test("a frame at the limit passes; one byte over is oversize with its prefix and full size", () => {
    const limit = 64;
    const at = `{"id":1,"p":"${"x".repeat(limit - 15)}"}`;
    assert.equal(Buffer.byteLength(at), limit);
    const over = `{"id":2,"p":"${"x".repeat(limit - 14)}"}`;
    const { splitter, events } = collect(limit);
    splitter.push(Buffer.from(`${at}\n${over}\n{"after":true}\n`));
    assert.equal(events.length, 3);
    assert.deepEqual(events[0], { kind: "line", text: at });
    assert.equal(events[1]?.kind, "oversize");
    const o = events[1] as Extract<Event, { kind: "oversize" }>;
    assert.equal(o.bytes, limit + 1);
    assert.ok(o.prefix.startsWith('{"id":2,'), o.prefix);
    assert.deepEqual(events[2], { kind: "line", text: '{"after":true}' });
  });

  test("an oversize frame keeps memory bounded however long it runs, and its size is counted", () => {
    const limit = 1024 * 1024;
    const { splitter, events } = collect(limit);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    splitter.push(
      Buffer.from(
        '{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"x","arguments":{"s":"',
      ),
    );
    let sent = 0;
    for (let i = 0; i < 512; i++) {
      // 32 MiB in all, 32 times the limit
      splitter.push(chunk);
      sent += chunk.length;
      // Its private state, read to prove the bound rather than guess it from process memory.
      const { buffered, parts } = splitter as unknown as { buffered: number; parts: Buffer[] };
      assert.ok(buffered <= limit, `buffered ${buffered} bytes`);
      assert.ok(parts.reduce((n, p) => n + p.length, 0) <= limit, "the parts held stay under the limit");
    }
    splitter.push(Buffer.from('"}}}\n{"next":1}\n'));
    assert.equal(events.length, 2);
    const o = events[0] as Extract<Event, { kind: "oversize" }>;
    assert.equal(o.kind, "oversize");
    assert.ok(o.bytes > sent, `${o.bytes} counted, ${sent} sent`);
    assert.ok(o.prefix.length <= 64 * 1024, "only a bounded prefix is kept");
    assert.ok(o.prefix.startsWith('{"jsonrpc":"2.0","id":"big"'));
    assert.deepEqual(events[1], { kind: "line", text: '{"next":1}' });
  });

  test("an oversize frame cut off by the end of the stream is still reported", () => {
    const { splitter, events } = collect(16);
    splitter.push(Buffer.from('{"id":3,"x":"0123456789abcdef'));
    splitter.end();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, "oversize");
  });

  test("each frame's size is its bytes on the wire, carriage return included, newline not", () => {
    const text = '{"a":"x"}\r\n{"s":"é€𝄞"}\n\n{"b":1}\n';
    const want = [
      { kind: "line", text: '{"a":"x"}', bytes: 10 },
      { kind: "line", text: '{"s":"é€𝄞"}', bytes: Buffer.byteLength('{"s":"é€𝄞"}') },
      { kind: "line", text: '{"b":1}', bytes: 7 },
    ];
    // Whole (lines decoded together), one byte at a time (line by line), and ASCII alone.
    const whole = collect(1024, true);
    whole.splitter.push(Buffer.from(text));
    assert.deepEqual(whole.events, want);
    const bytewise = collect(1024, true);
    for (const b of Buffer.from(text)) bytewise.splitter.push(Buffer.from([b]));
    assert.deepEqual(bytewise.events, want);
    const ascii = collect(1024, true);
    ascii.splitter.push(Buffer.from('{"a":"x"}\r\n{"b":1}\n'));
    assert.deepEqual(ascii.events, [want[0], want[2]]);
  });

  test("property: any bytes, any chunking: the frames of splitting the whole input at newlines", () => {
    // Bytes of every kind, invalid UTF-8 included: a chunk that does not decode whole is taken
    // line by line, so only its bad frames are refused.
    const piece = fc.oneof(
      fc.constantFrom("\n", "\r\n", "\r", " ", "{}", "é", "€", "𝄞", "\ufeff"),
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ minLength: 1, maxLength: 3 }),
    );
    const reference = (bytes: Buffer): Event[] => {
      const out: Event[] = [];
      let start = 0;
      while (start < bytes.length) {
        const nl = bytes.indexOf(0x0a, start);
        const end = nl < 0 ? bytes.length : nl;
        const buf = bytes.subarray(start, end);
        start = end + 1;
        if (buf.length === 0) continue;
        let text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buf);
        } catch {
          out.push({ kind: "undecodable", prefix: buf.toString("utf8") });
          continue;
        }
        if (text.endsWith("\r")) text = text.slice(0, -1);
        if (text.trim() !== "") out.push({ kind: "line", text, bytes: buf.length });
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pieces, cuts) => {
          const bytes = Buffer.concat(
            pieces.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))),
          );
          const { splitter, events } = collect(1 << 20, true);
          feed(
            splitter,
            bytes,
            cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)),
          );
          splitter.end();
          assert.deepEqual(events, reference(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("property: any chunking yields the same frames as splitting the whole text", () => {
    const frame = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !/[\n]/.test(s));
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (frames, cuts, crlf) => {
          const text = frames.map((f) => `${f}${crlf ? "\r\n" : "\n"}`).join("");
          const bytes = Buffer.from(text);
          const { splitter, events } = collect(1 << 20);
          feed(
            splitter,
            bytes,
            cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)),
          );
          splitter.end();
          const expected = frames
            .map((f) => (f.endsWith("\r") && !crlf ? f.slice(0, -1) : f))
            .filter((f) => f.trim() !== "");
          assert.deepEqual(lines(events), expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
