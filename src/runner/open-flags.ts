import type { AccessMode, OperationFlag } from "./contract.js";

const ACCESS_MODES: readonly AccessMode[] = ["read", "write", "read_write", "unknown"];

/** `flags & O_ACCMODE`: 0 read, 1 write, 2 read_write, 3 unknown. */
export function accessMode(flags: number): AccessMode {
  return ACCESS_MODES[flags & 3] as AccessMode;
}

// Fixed order (contract §6). `exclusive` is O_EXCL (0o200), the documented meaning: the earlier
// implementation tested 0o400, which is O_NOCTTY (contract §14.3).
const OPERATION_BITS: readonly [OperationFlag, number][] = [
  ["create", 0o100],
  ["truncate", 0o1000],
  ["append", 0o2000],
  ["exclusive", 0o200],
];

/** The open-intent hints in `flags`, in the contract's fixed order; empty when none is set. */
export function operationFlags(flags: number): OperationFlag[] {
  const out: OperationFlag[] = [];
  for (const [name, bit] of OPERATION_BITS) if ((flags & bit) !== 0) out.push(name);
  return out;
}

/** The bits operationFlags reads, so callers can cache its result per combination. */
export const OPERATION_FLAG_MASK = 0o100 | 0o1000 | 0o2000 | 0o200;
