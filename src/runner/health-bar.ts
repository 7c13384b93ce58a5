import type { ObservationHealth } from "./contract.js";

/**
 * The clean health bar (contract §10), shared by the capability diff and by acceptance:
 * `kernel_layer=complete`, `ringbuf_drops=0`, `policy_layer=present`, `sdk_layer=self_reported`,
 * `cgroup_correlation=clean`. Returns which of the five fail, as `field=value`.
 */
export function healthIsClean(h: Pick<ObservationHealth, BarField>): { clean: boolean; failing: string[] } {
  const failing: string[] = [];
  for (const [field, want] of BAR) if (h[field] !== want) failing.push(`${field}=${String(h[field])}`);
  return { clean: failing.length === 0, failing };
}

type BarField = "kernel_layer" | "ringbuf_drops" | "policy_layer" | "sdk_layer" | "cgroup_correlation";

const BAR: readonly [BarField, unknown][] = [
  ["kernel_layer", "complete"],
  ["ringbuf_drops", 0],
  ["policy_layer", "present"],
  ["sdk_layer", "self_reported"],
  ["cgroup_correlation", "clean"],
];
