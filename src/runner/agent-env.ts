/**
 * What the agent's environment loses and gains under the runner (contract §5): the dynamic
 * loader's and locale's overrides go, so the kernel layer shows the agent's own behaviour rather
 * than the caller's shell; the C locale makes libc's locale file reads the same on every run.
 */
const DROPPED = ["LD_AUDIT", "LD_LIBRARY_PATH", "LD_PRELOAD", "LOCPATH", "GCONV_PATH"] as const;

/** The agent's environment: the caller's, without the loader overrides, with the C locale and `injected`. */
export function agentEnv(
  base: NodeJS.ProcessEnv,
  injected: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const k of DROPPED) delete env[k];
  env.LC_ALL = "C";
  env.LANG = "C";
  return { ...env, ...injected };
}

/** The injected keys as `run_started` lists them: the runner's own variables, sorted. */
export function injectedKeys(injected: Readonly<Record<string, string>>): string[] {
  return Object.keys(injected).sort();
}
