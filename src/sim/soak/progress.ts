/** Where a soak stands, for progress output. */
export interface ProgressCounts {
  done: number;
  /** Trials this run (or shard) will run. */
  total: number;
  pass: number;
  fail: number;
  infra: number;
  elapsedSeconds: number;
}

/** One progress line: `1,200/20,000 (6%)  pass 1,170  fail 28  infra 2  1.4 s  ETA 22 s`. */
export function progressLine(c: ProgressCounts): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const pct = c.total === 0 ? 100 : Math.floor((c.done / c.total) * 100);
  const eta =
    c.done === 0 || c.done >= c.total
      ? ""
      : `  ETA ${seconds((c.elapsedSeconds / c.done) * (c.total - c.done))}`;
  return `${n(c.done)}/${n(c.total)} (${pct}%)  pass ${n(c.pass)}  fail ${n(c.fail)}  infra ${n(c.infra)}  ${seconds(c.elapsedSeconds)}${eta}`;
}

function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/**
 * Progress on a stream: on a terminal one line redrawn in place (at most every `tty_ms`); in a
 * log (CI) a plain line every `log_ms`. The final state is always printed once.
 */
export class ProgressReporter {
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly intervals = { tty_ms: 100, log_ms: 5000 },
  ) {}

  update(c: ProgressCounts): void {
    const now = this.nowMs();
    if (now - this.last < (this.tty ? this.intervals.tty_ms : this.intervals.log_ms)) return;
    this.last = now;
    this.draw(c);
  }

  end(c: ProgressCounts): void {
    this.draw(c);
    if (this.tty) this.write("\n");
  }

  private draw(c: ProgressCounts): void {
    const line = `soak ${progressLine(c)}`;
    if (this.tty) this.write(`\r${line}\x1b[K`);
    else this.write(`${line}\n`);
    this.drawn = true;
  }

  get hasDrawn(): boolean {
    return this.drawn;
  }
}
