import { AssayError } from "../lib/errors.js";

// Plain decimal only: Number() also takes `0x10`, `1e3`, `0b11`, ` 5 ` and `Infinity`.
const INTEGER = /^[0-9]+$/;
// `.5` and `5.` as well, as they always were: a digit on at least one side of the point.
const DECIMAL = /^(?=\.?[0-9])([0-9]*)(?:\.([0-9]*))?$/;

/**
 * A flag's value as a decimal integer in `min`..`max` (`max` at most 2^53 − 1); a usage error
 * naming the flag otherwise.
 */
export function integerOption(flag: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = INTEGER.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min)) {
    const what = min === 1 ? "a positive integer" : `an integer of at least ${min}`;
    throw usage(flag, what, raw);
  }
  // Past 2^53 − 1, `n` is no longer the integer typed.
  const top = Math.min(max, Number.MAX_SAFE_INTEGER);
  if (n > top) throw usage(flag, `at most ${top}`, raw);
  return n;
}

/** A flag's value as a positive decimal number (`2`, `0.5`, `.5`) of at most `max`. */
export function positiveNumberOption(flag: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(n > 0)) throw usage(flag, "a positive number", raw);
  if (n > max) throw usage(flag, `at most ${max}`, raw);
  return n;
}

/**
 * A flag's value in seconds (`2`, `0.5`) as whole milliseconds in 1..`maxMs`, rounded up so
 * that a positive timeout never becomes an immediate 0 ms one.
 */
export function secondsAsMsOption(flag: string, raw: string, maxMs: number): number {
  const m = DECIMAL.exec(raw);
  // From the digits, not `s * 1000`: 1.1 * 1000 is 1100.0000000000002, which rounds up to 1101.
  const fraction = m?.[2] ?? "";
  const ms = m
    ? Number(m[1]) * 1000 +
      Number(fraction.slice(0, 3).padEnd(3, "0")) +
      (/[1-9]/.test(fraction.slice(3)) ? 1 : 0)
    : Number.NaN;
  if (!(ms > 0)) throw usage(flag, "a positive number of seconds", raw);
  if (ms > maxMs) throw usage(flag, `at most ${Math.floor(maxMs / 1000)} seconds`, raw);
  return ms;
}

function usage(flag: string, what: string, raw: string): AssayError {
  return new AssayError("usage", `${flag} must be ${what}, got \`${raw}\``);
}
