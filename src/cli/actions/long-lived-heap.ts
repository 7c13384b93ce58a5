import { setFlagsFromString } from "node:v8";

/**
 * For a process that stays up beside every MCP server it guards: keep V8's young generation at
 * its initial size instead of letting it grow to 8 MiB. A gate's per-call garbage is small and
 * short-lived, so the extra scavenges cost nothing bench:gate can see, while the gate's resident
 * memory after `tools/list` drops by about 5 MiB (bench:startup's `wrap_rss_mb`). Called before
 * the packs load, which is where the young generation would first grow.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
