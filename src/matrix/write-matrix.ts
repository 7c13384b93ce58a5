import { mkdir, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { AssayError } from "../lib/errors.js";
import { renderMatrixHtml } from "./html/render-html.js";
import type { MatrixDoc } from "./matrix-doc.js";
import { renderMatrixMarkdown } from "./render-md.js";

/** What `assay matrix --out` writes, by file name. */
export function matrixFiles(doc: MatrixDoc): {
  "matrix.json": string;
  "matrix.md": string;
  "matrix.html": string;
} {
  return {
    "matrix.json": `${JSON.stringify(doc, null, 2)}\n`,
    "matrix.md": renderMatrixMarkdown(doc),
    "matrix.html": renderMatrixHtml(doc),
  };
}

/**
 * Write matrix.json, matrix.md and matrix.html into `out` (each replaced whole). The matrix is
 * read-only towards its evidence: an `out` inside (or equal to) an evidence directory is refused.
 */
export async function writeMatrix(
  out: string,
  evidenceDirs: readonly string[],
  doc: MatrixDoc,
): Promise<void> {
  await assertOutsideEvidence(out, evidenceDirs);
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw new AssayError(
      "output_unwritable",
      `cannot create \`${out}\`: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        cause: err,
      },
    );
  }
  for (const [name, text] of Object.entries(matrixFiles(doc))) await writeFileAtomic(join(out, name), text);
}

/** `--out` must not be, or be inside, an evidence directory: the matrix only reads there. */
export async function assertOutsideEvidence(out: string, evidenceDirs: readonly string[]): Promise<void> {
  const target = await real(resolve(out));
  for (const d of evidenceDirs) {
    const dir = await real(resolve(d));
    const rel = relative(dir, target);
    if (rel === "" || !(rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel))) {
      throw new AssayError(
        "usage",
        `--out \`${out}\` is inside evidence directory \`${d}\`: the matrix never writes there`,
      );
    }
  }
}

/** The real path of `p`, or of its nearest existing parent joined with the rest (for an `out` not yet made). */
async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    const parent = resolve(p, "..");
    if (parent === p) return p;
    return join(await real(parent), relative(parent, p));
  }
}
