import { readArchive } from "./archive-read.js";
import type { CapabilityDiff } from "./contract.js";
import { capabilityDiff, diffExitCode } from "./diff.js";

/** `assay runner diff`: two captures (directories or .tar.gz), their manifests checked, projected into capability_diff.v0. */
export async function diffCaptures(
  base: string,
  head: string,
): Promise<{ diff: CapabilityDiff; exitCode: 0 | 1 | 2 }> {
  const [b, h] = await Promise.all([readArchive(base), readArchive(head)]);
  const diff = capabilityDiff(b, h);
  return { diff, exitCode: diffExitCode(diff) };
}
