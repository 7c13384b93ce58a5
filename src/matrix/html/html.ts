import { escapeHtml } from "./escape.js";

/** Markup known to be safe: only `html` and `raw` make it, so every other string gets escaped. */
export interface Html {
  readonly markup: string;
}

/** What `html` interpolates: strings are escaped, numbers printed, arrays joined, nullish and booleans dropped. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

/**
 * A template whose interpolations are escaped unless they are already `Html`: a string from the
 * document cannot become markup by forgetting to escape it.
 */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < parts.length; i++) out += render(parts[i]) + (strings[i + 1] ?? "");
  return { markup: out };
}

/** Markup written by this module itself (CSS, the script); never a string from the document. */
export function raw(markup: string): Html {
  return { markup };
}

function render(p: Part): string {
  // Booleans drop so that `cond && html\`...\`` reads naturally.
  if (p === null || p === undefined || typeof p === "boolean") return "";
  if (typeof p === "string") return escapeHtml(p);
  if (typeof p === "number") return String(p);
  if (isParts(p)) return p.map(render).join("");
  return p.markup;
}

function isParts(p: Part): p is readonly Part[] {
  return Array.isArray(p);
}

/**
 * Text from the document with its backtick-quoted inputs (the way Assay's messages quote them) set
 * as code; text with an odd number of backticks stays as it is.
 */
export function prose(text: string): Html {
  const pieces = text.split("`");
  if (pieces.length % 2 === 0) return html`${text}`;
  return html`${pieces.map((p, i) => (i % 2 === 1 ? html`<code>${p}</code>` : p))}`;
}
