import { isU64, splitmix64 } from "./seeds.js";

// "sample!!": keys come from another splitmix64 stream than the trial seeds, so whether a trial is
// kept does not depend on the seed its outcome was drawn from.
const SAMPLE_SALT = 0x73616d706c652121n;

/**
 * The sort key of trial `index` (0-based) in the kept sample: `splitmix64(seed XOR SAMPLE_SALT,
 * index)`. Distinct indices get distinct keys, so the sample has no ties.
 */
export function sampleKey(seed: bigint, index: number): bigint {
  return splitmix64(seed ^ SAMPLE_SALT, index);
}

/** kept/total, the report's `sample_rate`; 1 when there were no trials (nothing was dropped). */
export function sampleRate(kept: number, total: number): number {
  return total === 0 ? 1 : kept / total;
}

/**
 * The trials a report keeps past its limit: the `limit` trials with the smallest `sampleKey` (a
 * bottom-k sample). A uniform random subset of exactly min(limit, offered) trials, chosen by
 * (seed, indices offered) alone: not by arrival order, so concurrency does not change it, and not
 * by position, so it cannot alias with scenario i mod S the way a fixed stride can. Shards merge:
 * the bottom-k of the shards' bottom-k samples is the bottom-k of the whole run.
 *
 * Memory is O(limit) whatever the number of trials offered.
 */
export class TrialSample<T> {
  private readonly keys: bigint[] = [];
  private readonly indices: number[] = [];
  private readonly items: T[] = [];
  private offered = 0;

  constructor(
    readonly seed: bigint,
    readonly limit: number,
  ) {
    if (!isU64(seed)) throw new RangeError(`seed must be a u64, got \`${seed}\``);
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`limit must be a non-negative integer, got \`${limit}\``);
    }
  }

  /** How many trials were offered (the total the sample was drawn from). */
  get seen(): number {
    return this.offered;
  }

  get kept(): number {
    return this.keys.length;
  }

  /** INVARIANT: each index is offered once, over this sample and every sample merged into it. */
  offer(index: number, item: T): void {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`trial index must be a non-negative integer, got \`${index}\``);
    }
    this.offered++;
    this.consider(sampleKey(this.seed, index), index, item);
  }

  /** Add the trials of another sample over disjoint indices (another shard of the same run). */
  merge(other: TrialSample<T>): void {
    if (other.seed !== this.seed || other.limit !== this.limit) {
      throw new RangeError(
        `cannot merge a sample of seed ${other.seed}, limit ${other.limit} into seed ${this.seed}, limit ${this.limit}`,
      );
    }
    this.offered += other.offered;
    for (let i = 0; i < other.keys.length; i++) {
      this.consider(other.keys[i] as bigint, other.indices[i] as number, other.items[i] as T);
    }
  }

  /** The kept trials in ascending index order. */
  entries(): { index: number; item: T }[] {
    return this.indices
      .map((index, i) => ({ index, item: this.items[i] as T }))
      .sort((a, b) => a.index - b.index);
  }

  // A max-heap on key: the root is the largest kept key, the first to go when a smaller one comes.
  private consider(key: bigint, index: number, item: T): void {
    if (this.keys.length < this.limit) {
      this.keys.push(key);
      this.indices.push(index);
      this.items.push(item);
      this.siftUp(this.keys.length - 1);
    } else if (this.limit > 0 && key < (this.keys[0] as bigint)) {
      this.keys[0] = key;
      this.indices[0] = index;
      this.items[0] = item;
      this.siftDown(0);
    }
  }

  private siftUp(at: number): void {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.keys[parent] as bigint) >= (this.keys[i] as bigint)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(at: number): void {
    const n = this.keys.length;
    let i = at;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let top = i;
      if (left < n && (this.keys[left] as bigint) > (this.keys[top] as bigint)) top = left;
      if (right < n && (this.keys[right] as bigint) > (this.keys[top] as bigint)) top = right;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }

  private swap(a: number, b: number): void {
    const { keys, indices, items } = this;
    [keys[a], keys[b]] = [keys[b] as bigint, keys[a] as bigint];
    [indices[a], indices[b]] = [indices[b] as number, indices[a] as number];
    [items[a], items[b]] = [items[b] as T, items[a] as T];
  }
}

/** The 0-based indices of the trials a run of `total` trials keeps under `limit` (see `TrialSample`), ascending. */
export function sampleIndices(total: number, limit: number, seed: bigint): number[] {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new RangeError(`total must be a non-negative integer, got \`${total}\``);
  }
  const sample = new TrialSample<null>(seed, limit);
  for (let i = 0; i < total; i++) sample.offer(i, null);
  return sample.entries().map((e) => e.index);
}
