import { AssayError } from "../../lib/errors.js";

/** A slice of a soak: shard `index` of `count` (1-based) runs trials t with t mod count = index − 1. */
export interface Shard {
  index: number;
  count: number;
}

/** The whole run as one shard. */
export const WHOLE_RUN: Shard = Object.freeze({ index: 1, count: 1 });

/** Parse `--shard i/n` (1 ≤ i ≤ n). */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new AssayError("usage", `--shard must be i/n with 1 ≤ i ≤ n, got \`${text}\``);
  }
  return { index, count };
}

/** How many of `iterations` trials (0-based t < iterations) fall in `shard`. */
export function shardSize(iterations: number, shard: Shard): number {
  const first = shard.index - 1;
  return first >= iterations ? 0 : Math.floor((iterations - 1 - first) / shard.count) + 1;
}
