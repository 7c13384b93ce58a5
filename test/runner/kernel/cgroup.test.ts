import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { describe, type TestContext, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import {
  CGROUP_JOIN_FAILED_EXIT,
  type Cgroup,
  cgroup2Mount,
  createCgroup,
  parseMountinfo,
} from "../../../src/runner/cgroup.js";

const MOUNTINFO = [
  "23 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "41 31 0:38 / /sys/fs/cgroup/un\\040ified rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw",
  "45 23 0:13 / /sys/kernel/tracing rw,relatime - tracefs nodev rw",
  "",
].join("\n");

/** A fresh cgroup, or a skip with the reason when this machine cannot make one (not root, no cgroup2). */
async function cgroupOrSkip(t: TestContext): Promise<Cgroup | null> {
  try {
    const cg = await createCgroup("cgroup-test");
    t.after(() => cg.remove());
    return cg;
  } catch (err) {
    if (err instanceof AssayError && err.code === "runner_kernel_unavailable") {
      t.skip(err.message);
      return null;
    }
    throw err;
  }
}

describe("cgroup", () => {
  test("mountinfo: the filesystem type after the `-`, optional fields skipped, octal escapes decoded", () => {
    const entries = parseMountinfo(MOUNTINFO);
    assert.deepEqual(
      entries.map((e) => [e.mountPoint, e.fstype, e.options]),
      [
        ["/", "ext4", "rw,relatime"],
        ["/sys/fs/cgroup", "tmpfs", "rw,relatime"],
        ["/sys/fs/cgroup/cpu", "cgroup", "rw,relatime"],
        ["/sys/fs/cgroup/un ified", "cgroup2", "rw,nosuid"],
        ["/sys/kernel/tracing", "tracefs", "rw,relatime"],
      ],
    );
  });

  test("a fresh cgroup under the cgroup2 mount, its id the directory's inode; wrap joins it before exec", async (t) => {
    const cg = await cgroupOrSkip(t);
    if (cg === null) return;
    const mount = await cgroup2Mount();
    assert.ok(mount !== null && cg.path.startsWith(`${mount.path}/assay-runner/cgroup-test-`));
    assert.equal(cg.id, Number(statSync(cg.path, { bigint: true }).ino));
    const [bin, ...args] = cg.wrap(["/bin/cat", "/proc/self/cgroup"]);
    const out = spawnSync(bin as string, args, { encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    // cgroup v2's line is `0::<path below the mount>`.
    assert.ok(out.stdout.split("\n").includes(`0::${cg.path.slice(mount.path.length)}`), out.stdout);
  });

  test("remove kills what still runs inside, and cgroups made below it, then removes it; twice is fine", async (t) => {
    const cg = await cgroupOrSkip(t);
    if (cg === null) return;
    const [bin, ...args] = cg.wrap(["/bin/sh", "-c", "sleep 60 & sleep 60 & wait"]);
    const child = spawn(bin as string, args, { stdio: "ignore", detached: true });
    const exited = new Promise((r) => child.once("exit", r));
    for (
      let i = 0;
      i < 200 && readFileSync(`${cg.path}/cgroup.procs`, "utf8").trim().split("\n").length < 3;
      i++
    )
      await new Promise((r) => setTimeout(r, 10));
    // The agent cannot make a cgroup below its own (it would leave bpftrace's sight); root can
    // still lift the limit, and remove() takes such a tree down too.
    assert.throws(() => mkdirSync(`${cg.path}/nested`), { code: "EAGAIN" });
    writeFileSync(`${cg.path}/cgroup.max.descendants`, "max");
    mkdirSync(`${cg.path}/nested`);
    await cg.remove();
    await exited;
    assert.equal(existsSync(cg.path), false);
    await cg.remove();
  });

  test("an agent that cannot join its cgroup does not run: the wrapper exits 125", async (t) => {
    const cg = await cgroupOrSkip(t);
    if (cg === null) return;
    await cg.remove();
    const [bin, ...args] = cg.wrap(["/bin/echo", "ran"]);
    const out = spawnSync(bin as string, args, { encoding: "utf8" });
    assert.equal(out.status, CGROUP_JOIN_FAILED_EXIT);
    assert.equal(out.stdout, "");
    assert.match(out.stderr, /assay: cannot join cgroup/);
  });

  test("a name that cannot be a directory is refused", async () => {
    await assert.rejects(
      createCgroup("../escape"),
      (err: unknown) => err instanceof AssayError && err.code === "internal",
    );
  });
});
