import assert from "node:assert/strict";
import { test } from "node:test";
import { reportError } from "../../src/cli/io.js";
import { AssayError } from "../../src/lib/errors.js";

/** What reportError writes to stderr, and the exit code it gives. */
function reported(err: unknown): { text: string; code: number } {
  const write = process.stderr.write;
  let text = "";
  process.stderr.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: reportError(err), text };
  } finally {
    process.stderr.write = write;
  }
}

test("an error quoting a file's control characters is one line that cannot drive the terminal", () => {
  const err = new AssayError("json_duplicate_key", "duplicate key `a\u001b[31mRED\u0007\u2028\u009b`", {
    where: "dup.json:1:2",
  });
  assert.deepEqual(reported(err), {
    code: 2,
    text: "assay: dup.json:1:2: duplicate key `a\\u001b[31mRED\\u0007\\u2028\\u009b`\n",
  });
  // Line breaks read as `\n`, as they always have (JSON.parse quotes the text it refused).
  const broken = new AssayError("input_invalid", 'call is not valid JSON: "not json\r\nat all\n"', {
    where: "<stdin>",
  });
  assert.equal(reported(broken).text, 'assay: <stdin>: call is not valid JSON: "not json\\nat all\\n"\n');
});
