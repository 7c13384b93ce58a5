/**
 * How deep JSON text nests, found without recursion. The readers of JSON a user hands in (calls,
 * contexts, predicates, envelopes, reports) check it before anything walks the value recursively
 * (canonical JSON, schema validators), which would otherwise fail with the engine's "Maximum call
 * stack size exceeded" a few thousand levels down instead of an error naming the file.
 */

/** Nesting the readers accept: as deep as a message the gate forwards (gate/message-shape.ts). */
export const MAX_JSON_DEPTH = 512;

/** Whether `text` (JSON, or anything: strings are skipped as JSON writes them) nests deeper than `max`. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string: to the next quote not escaped by a backslash.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
