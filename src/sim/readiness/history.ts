import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../../lib/errors.js";
import { readTextFile } from "../../lib/read-text.js";
import { parseSoakReport, type SoakReport, soakReportProblems } from "../soak/report.js";

/** One soak report of a history, with the file it came from (its name within the directory). */
export interface HistoryReport {
  file: string;
  report: SoakReport;
}

/** Reports larger than this are refused before they are parsed. */
const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/**
 * Every `*.json` file directly in `dir` (not in subdirectories), in name order, read as a
 * soak-report-v1 and validated against its schema. The first file that cannot be read, is not
 * JSON, breaks the schema or is a shard report stops the read: `input_unreadable` or
 * `input_invalid`, naming the file.
 */
export async function readHistory(dir: string): Promise<HistoryReport[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => e.name.endsWith(".json") && !e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read history directory: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { where: dir },
    );
  }
  const out: HistoryReport[] = [];
  for (const name of names) {
    const where = join(dir, name);
    const text = await readTextFile(where, "input_unreadable", "soak report");
    if (Buffer.byteLength(text, "utf8") > MAX_REPORT_BYTES)
      throw new AssayError("input_invalid", "soak report is over the 256 MiB limit", { where });
    out.push({ file: name, report: checkReport(text, where) });
  }
  return out;
}

function checkReport(text: string, where: string): SoakReport {
  let report: SoakReport;
  try {
    report = parseSoakReport(text, where);
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw new AssayError("input_invalid", `not JSON: ${(err as Error).message}`, { where });
  }
  if (report === null || typeof report !== "object" || Array.isArray(report))
    throw new AssayError("input_invalid", "not a soak-report-v1: not a JSON object", { where });
  const problems = soakReportProblems(report);
  if (problems.length > 0) {
    throw new AssayError("input_invalid", `not a soak-report-v1: ${problems.slice(0, 3).join("; ")}`, {
      where,
    });
  }
  const shard = report.summary.thresholds_used.shard as { index?: unknown; count?: unknown } | undefined;
  if (shard !== undefined) {
    throw new AssayError(
      "input_invalid",
      `a shard report (shard ${shard.index}/${shard.count}) is one slice of a run: merge the shards with \`assay sim merge\` and keep the merged report`,
      { where },
    );
  }
  return report;
}
