/**
 * Which kernel events are loader and runtime telemetry rather than evidence of what the agent did
 * (contract §5). They describe the dynamic loader, libc's locale probing, interpreter bootstrap
 * and kernel introspection; keeping them would make the kernel layer and the surface depend on
 * the host's libraries instead of on the agent's behaviour.
 */

const EXACT = new Set([
  "/etc/ld.so.cache",
  "/etc/localtime",
  "/etc/ssl/openssl.cnf",
  "/usr/pyvenv.cfg",
  "/usr/bin/pyvenv.cfg",
  "/usr/bin/python3._pth",
  "/usr/bin/python3.12._pth",
  "/usr/bin/pybuilddir.txt",
]);

const PREFIXES = [
  "/lib/",
  "/lib32/",
  "/lib64/",
  "/usr/lib/",
  "/usr/share/locale/",
  "/proc/",
  "/sys/",
  "/dev/",
];

/** True when an opened path is loader telemetry: dropped from layers/kernel.ndjson and the surface. */
export function isLoaderTelemetryPath(path: string): boolean {
  if (EXACT.has(path)) return true;
  for (const p of PREFIXES) if (path.startsWith(p)) return true;
  if (path.includes("/node_modules/")) return true;
  if (!isSharedObject(path)) return false;
  if (path.includes("/.rustup/toolchains/")) return true;
  return (
    path.includes("/target/") &&
    (path.includes("/build/") || path.includes("/debug/") || path.includes("/release/"))
  );
}

/**
 * True when an event of `kind` is telemetry. Only `openat` is ever filtered: `file_blocked`, `exec`
 * and network events stay whatever their path, so a policy-denied `/lib/...` open is still evidence.
 */
export function isTelemetryEvent(kind: string, path: string | null): boolean {
  return kind === "openat" && path !== null && isLoaderTelemetryPath(path);
}

function isSharedObject(path: string): boolean {
  return path.endsWith(".so") || path.includes(".so.");
}
