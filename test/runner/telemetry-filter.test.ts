import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isLoaderTelemetryPath, isTelemetryEvent } from "../../src/runner/telemetry-filter.js";
import { connect, exec, normalized, open } from "./kernel-events.js";

// Every rule of contract §5, each with paths it must drop and near misses it must keep.
const TABLE: [rule: string, path: string, dropped: boolean][] = [
  ["exact", "/etc/ld.so.cache", true],
  ["exact", "/etc/localtime", true],
  ["exact", "/etc/ssl/openssl.cnf", true],
  ["exact", "/usr/pyvenv.cfg", true],
  ["exact", "/usr/bin/pyvenv.cfg", true],
  ["exact", "/usr/bin/python3._pth", true],
  ["exact", "/usr/bin/python3.12._pth", true],
  ["exact", "/usr/bin/pybuilddir.txt", true],
  ["exact (near miss)", "/etc/ld.so.cache~", false],
  ["exact (near miss)", "/usr/bin/python3.11._pth", false],
  ["exact (near miss)", "/etc/ssl/certs/ca-certificates.crt", false],
  ["prefix", "/lib/x86_64-linux-gnu/libc.so.6", true],
  ["prefix", "/lib32/libc.so.6", true],
  ["prefix", "/lib64/ld-linux-x86-64.so.2", true],
  ["prefix", "/usr/lib/python3.12/os.py", true],
  ["prefix", "/usr/share/locale/C/LC_MESSAGES/x.mo", true],
  ["prefix", "/proc/self/maps", true],
  ["prefix", "/sys/fs/cgroup/cpu.max", true],
  ["prefix", "/dev/null", true],
  ["prefix (near miss)", "/lib", false],
  ["prefix (near miss)", "/library/notes.txt", false],
  ["prefix (near miss)", "/usr/lib64/libz.so", false],
  ["prefix (near miss)", "/usr/share/zoneinfo/UTC", false],
  ["prefix (near miss)", "/tmp/lib/x.txt", false],
  ["node_modules", "/app/node_modules/zod/index.js", true],
  ["node_modules (near miss)", "/app/node_modules", false],
  ["rustup shared object", "/home/u/.rustup/toolchains/stable-x86_64/lib/libstd-1a2b.so", true],
  ["rustup shared object", "/home/u/.rustup/toolchains/stable-x86_64/lib/libLLVM.so.18.1", true],
  ["rustup (not a shared object)", "/home/u/.rustup/toolchains/stable-x86_64/bin/rustc", false],
  ["target shared object", "/w/target/debug/deps/libproc_macro-9f.so", true],
  ["target shared object", "/w/target/release/build/x/out/libx.so.1", true],
  ["target shared object", "/w/target/x/build/liby.so", true],
  ["target (no build/debug/release)", "/w/target/doc/libx.so", false],
  ["target (not a shared object)", "/w/target/debug/app", false],
  ["target (no /target/)", "/w/out/debug/libx.so", false],
  ["evidence", "/tmp/work/policy-input.txt", false],
  ["evidence", "/etc/passwd", false],
];

describe("loader telemetry (contract §5)", () => {
  for (const [rule, path, dropped] of TABLE) {
    test(`${rule}: \`${path}\` is ${dropped ? "dropped" : "kept"}`, () => {
      assert.equal(isLoaderTelemetryPath(path), dropped);
      assert.equal(isTelemetryEvent("openat", path), dropped);
    });
  }

  test("only opens are filtered: file_blocked, exec and network events stay whatever their path", () => {
    for (const kind of ["file_blocked", "exec", "connect", "connect_blocked", "sendto", "sendmsg"]) {
      assert.equal(isTelemetryEvent(kind, "/lib/x86_64-linux-gnu/libc.so.6"), false, kind);
    }
    // A policy-denied `/lib/...` path is a `file_blocked` event (our backends do not emit one
    // yet): the filter keeps it, so the denial stays in the evidence.
    assert.equal(isTelemetryEvent("file_blocked", "/lib/secret"), false);
    assert.equal(isTelemetryEvent("openat", null), false);
  });

  test("the normalizer drops telemetry opens, keeps execs of /lib paths, and counts what it dropped", async () => {
    const { parsed, result } = await normalized([
      open("/etc/ld.so.cache"),
      exec("/lib64/ld-linux-x86-64.so.2"),
      open("/lib/x86_64-linux-gnu/libc.so.6"),
      open("/lib/x86_64-linux-gnu/libc.so.6", { flags: 0o2000001 }),
      open("/proc/self/maps"),
      connect(2, "10.0.0.1", 443),
      open("/tmp/work/input.txt"),
    ]);
    assert.deepEqual(
      parsed.map((l) => [l.kind, l.value]),
      [
        ["exec", "/lib64/ld-linux-x86-64.so.2"],
        ["connect", "10.0.0.1:443"],
        ["openat", "/tmp/work/input.txt"],
      ],
    );
    assert.equal(result.filtered, 4);
    assert.deepEqual(result.filteredTop, [
      { path: "/lib/x86_64-linux-gnu/libc.so.6", count: 2 },
      { path: "/etc/ld.so.cache", count: 1 },
      { path: "/proc/self/maps", count: 1 },
    ]);
    assert.deepEqual(result.surface.filesystem_paths, ["/tmp/work/input.txt"]);
    assert.deepEqual(result.surface.process_execs, ["/lib64/ld-linux-x86-64.so.2"]);
  });

  test("the top list holds 5: count descending, then path in UTF-8 byte order", async () => {
    const events = [];
    // "/dev/\u{1F600}" sorts after "/dev/\uFFFD" by bytes, before it by UTF-16 code units.
    const paths = ["/dev/b", "/dev/a", "/dev/\u{1F600}", "/dev/\uFFFD", "/dev/c", "/dev/d", "/proc/x"];
    for (const p of paths) events.push(open(p));
    for (let f = 1; f <= 3; f++) events.push(open("/proc/x", { flags: f }));
    const { result } = await normalized(events);
    assert.equal(result.filtered, 10);
    assert.deepEqual(
      result.filteredTop.map((t) => `${t.count}x:${t.path}`),
      ["4x:/proc/x", "1x:/dev/a", "1x:/dev/b", "1x:/dev/c", "1x:/dev/d"],
    );
    const { result: astral } = await normalized([open("/dev/\u{1F600}"), open("/dev/\uFFFD")]);
    assert.deepEqual(
      astral.filteredTop.map((t) => t.path),
      ["/dev/\uFFFD", "/dev/\u{1F600}"],
    );
  });
});
