import { AssayError } from "../lib/errors.js";

/** A flag's value as an integer of at least `min`; a usage error naming the flag otherwise. */
export function integerOption(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    const what = min === 1 ? "a positive integer" : `an integer of at least ${min}`;
    throw new AssayError("usage", `${flag} must be ${what}, got \`${raw}\``);
  }
  return n;
}
