import { spawn } from "node:child_process";
import { constants } from "node:os";
import { parseStrictJson } from "../evidence/strict-json.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { type Clock, systemClock } from "../lib/clock.js";
import { AssayError } from "../lib/errors.js";
import type { ArtifactKind, RecordedOutput } from "./artifact.js";
import { artifactInvalid } from "./sources/fault.js";
import { MAX_ARTIFACT_BYTES } from "./sources/file-bytes.js";
import { judgeJsonArtifact } from "./sources/json-artifact.js";
import { isJsonArtifactKind, JSON_KINDS } from "./sources/json-kinds.js";
import { RECORDED_SCHEMA_VERSION } from "./sources/recorded.js";

export interface RecordOptions {
  kind: ArtifactKind;
  /** The program and its arguments, run without a shell. */
  command: string[];
  /** Where the recording is written. */
  out: string;
  cwd?: string;
  clock?: Clock;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

interface Ran {
  stdout: Buffer;
  exitCode: number;
}

// Run `command` with stdout captured (at most MAX_ARTIFACT_BYTES) and stdin and stderr ours.
function run(command: readonly string[], cwd: string | undefined, out: string): Promise<Ran> {
  const [program, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["inherit", "pipe", "inherit"], ...(cwd ? { cwd } : {}) });
    const chunks: Buffer[] = [];
    let bytes = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      // Past the limit the output is drained, not kept: the command still runs to its end.
      if (bytes <= MAX_ARTIFACT_BYTES) chunks.push(chunk);
    });
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new AssayError("input_invalid", `cannot start \`${program}\`: ${err.code ?? err.message}`, {
          cause: err,
        }),
      ),
    );
    child.once("close", (code, signal) => {
      if (bytes > MAX_ARTIFACT_BYTES)
        return reject(
          artifactInvalid(
            `\`${program}\` printed ${bytes} bytes, more than ${MAX_ARTIFACT_BYTES} an artifact may hold`,
            out,
          ),
        );
      // As a shell reports it: 128 + the signal's number when a signal ended the command.
      const exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
      resolve({ stdout: Buffer.concat(chunks), exitCode });
    });
  });
}

function parses(text: string): { value: unknown } | undefined {
  try {
    return { value: parseStrictJson(text, { numbers: "rfc8785" }) };
  } catch {
    return undefined;
  }
}

/**
 * A command's JSON output: its whole stdout when that is one JSON document, else the last
 * non-empty line that is a JSON object (a bench prints its figures, then one JSON line).
 */
export function jsonOutput(stdout: string): { value: unknown } | undefined {
  if (stdout.trim() !== "") {
    const whole = parses(stdout);
    if (whole !== undefined) return whole;
  }
  const lines = stdout.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (!line.startsWith("{")) continue;
    const v = parses(line);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * `assay matrix record`: run a command, and write its JSON output wrapped with the command, when it
 * started and when it was recorded, and its exit code (schemas/recorded-output.schema.json). A
 * non-zero exit is recorded, not refused: a failed verification is evidence too. The output must
 * read as `kind` exactly as `assay matrix` will read the file, else nothing is written
 * (`matrix_artifact_invalid`); a command that cannot start fails with `input_invalid`.
 */
export async function recordCommand(
  opts: RecordOptions,
): Promise<{ exitCode: number; record: RecordedOutput }> {
  const { kind, command, out } = opts;
  // A capture is recorded through its health report (`assay runner capture --json`).
  if (!isJsonArtifactKind(kind) && kind !== "runner_archive")
    throw new AssayError(
      "usage",
      `\`${kind}\` artifacts are not a command's JSON output; record one of ${[
        ...Object.keys(JSON_KINDS),
        "runner_archive",
      ]
        .map((k) => `\`${k}\``)
        .join(", ")}`,
    );
  if (command.length === 0) throw new AssayError("usage", "no command to record");
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.nowIso();
  const ran = await run(command, opts.cwd, out);
  const recordedAt = clock.nowIso();
  let stdout: string;
  try {
    stdout = UTF8.decode(ran.stdout);
  } catch (err) {
    throw artifactInvalid(`\`${command.join(" ")}\` printed output that is not UTF-8`, out, err);
  }
  const output = jsonOutput(stdout);
  if (output === undefined)
    throw artifactInvalid(
      `\`${command.join(" ")}\` printed no JSON: neither its whole stdout nor any line of it is a JSON object`,
      out,
    );
  const record: RecordedOutput = {
    schema_version: RECORDED_SCHEMA_VERSION,
    kind,
    command: [...command],
    started_at_utc: startedAt,
    recorded_at_utc: recordedAt,
    exit_code: ran.exitCode,
    output: output.value,
  };
  // Checked as the matrix will read it, so that every recording written is one it accepts.
  judgeJsonArtifact(kind, record, out);
  await writeFileAtomic(out, `${JSON.stringify(record, null, 2)}\n`);
  return { exitCode: ran.exitCode, record };
}
