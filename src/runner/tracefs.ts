import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { parseMountinfo } from "./cgroup.js";

/** Where we mount tracefs when it is missing (the kernel's own mount point since Linux 4.1). */
export const TRACEFS_MOUNT_POINT = "/sys/kernel/tracing";
// bpftrace 0.17 looks for the tracepoint formats under either of these (its binary names both).
const KNOWN_MOUNT_POINTS = [TRACEFS_MOUNT_POINT, "/sys/kernel/debug/tracing"];
const MOUNT_TIMEOUT_MS = 10_000;

/** Whether tracefs (the tracepoint formats bpftrace compiles against) is there, and why not. */
export type TracefsStatus =
  | {
      available: true;
      mountPoint: string /** We mounted it just now (it stays mounted). */;
      mounted: boolean;
    }
  | { available: false; reason: string; mounted: false };

/**
 * Make sure tracefs is mounted: if it is not (a fresh machine often has it unmounted) and we are
 * root, run `mount -t tracefs nodev /sys/kernel/tracing`. The mount is left in place afterwards:
 * it is the kernel's standard mount and other tracing tools expect it.
 */
export async function ensureTracefs(): Promise<TracefsStatus> {
  const found = await tracefsMountPoint();
  if (found !== null) return { available: true, mountPoint: found, mounted: false };
  if (process.getuid?.() !== 0)
    return { available: false, reason: "tracefs is not mounted and we are not root", mounted: false };
  const dir = await stat(TRACEFS_MOUNT_POINT).catch(() => null);
  if (!dir?.isDirectory())
    return {
      available: false,
      reason: `no \`${TRACEFS_MOUNT_POINT}\`: the kernel has no tracefs`,
      mounted: false,
    };
  const failure = await runMount();
  if (failure !== null)
    return { available: false, reason: `mount -t tracefs failed: ${failure}`, mounted: false };
  const after = await tracefsMountPoint();
  if (after === null)
    return {
      available: false,
      reason: "mount -t tracefs succeeded but no tracefs is mounted",
      mounted: false,
    };
  return { available: true, mountPoint: after, mounted: true };
}

async function tracefsMountPoint(): Promise<string | null> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  for (const m of parseMountinfo(text)) {
    if (m.fstype === "tracefs" && KNOWN_MOUNT_POINTS.includes(m.mountPoint)) return m.mountPoint;
  }
  return null;
}

/** Run mount(8); null on success, else a one-line reason. */
function runMount(): Promise<string | null> {
  return new Promise((resolve) => {
    let stderr = "";
    const child = spawn("mount", ["-t", "tracefs", "nodev", TRACEFS_MOUNT_POINT], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), MOUNT_TIMEOUT_MS);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve(`cannot run mount: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(null);
      else resolve(firstLine(stderr) || (signal ? `killed by ${signal}` : `exit ${code}`));
    });
  });
}

function firstLine(s: string): string {
  return (s.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}
