import { readFile } from "node:fs/promises";
import { canonicalizeText } from "../../evidence/canonicalize-text.js";
import { AssayError, EXIT } from "../../lib/errors.js";

/** `assay evidence canonicalize`: the RFC 8785 form (or its digest) of one JSON document. */
export interface CanonicalizeCli {
  digest?: boolean;
  /** Numbers as the doubles they read as, instead of refusing one that loses precision. */
  rfc8785Numbers?: boolean;
}

export async function canonicalize(file: string, opts: CanonicalizeCli): Promise<number> {
  const where = file === "-" ? "<stdin>" : file;
  const bytes = await readInput(file, where);
  const { canonical, digest } = canonicalizeText(bytes, where, {
    numbers: opts.rfc8785Numbers ? "rfc8785" : "i-json",
  });
  if (opts.digest) process.stdout.write(`${digest}\n`);
  // Exactly the canonical bytes, so `| sha256sum` agrees with --digest; a newline only for a terminal.
  else process.stdout.write(process.stdout.isTTY ? `${canonical}\n` : canonical);
  return EXIT.ok;
}

async function readInput(file: string, where: string): Promise<Buffer> {
  try {
    if (file !== "-") return await readFile(file);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read JSON: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where,
      },
    );
  }
}
