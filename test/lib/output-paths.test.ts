import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { refuseInputsInReplacedFolders, refuseOverlappingOutputs } from "../../src/lib/output-paths.js";
import { suiteTempDir } from "../temp-dir.js";

const dir = suiteTempDir("assay-output-paths-");
const key = join(dir, "k.key");
writeFileSync(key, "secret");
mkdirSync(join(dir, "target"));
symlinkSync(key, join(dir, "k-link.key"));

const refused = (message: string) => ({ code: "usage", message });

describe("outputs that would overwrite an input or each other", () => {
  test("an output on an input, by name, by another spelling, or through a link, is refused", () => {
    for (const out of [
      key,
      join(dir, ".", "k.key"),
      join(dir, "target", "..", "k.key"),
      join(dir, "k-link.key"),
    ])
      assert.throws(
        () => refuseOverlappingOutputs([{ path: out, option: "--out" }], [{ path: key, option: "--key" }]),
        refused(
          `--out \`${out}\` is the same file as --key \`${key}\`: Assay does not write over what it reads or writes`,
        ),
      );
  });

  test("two outputs on one path are refused, whether or not the file exists yet", () => {
    const report = join(dir, "new.json");
    assert.throws(
      () =>
        refuseOverlappingOutputs(
          [
            { path: report, option: "--report" },
            { path: join(dir, "target", "..", "new.json"), option: "--sarif" },
          ],
          [],
        ),
      refused(
        `--sarif \`${join(dir, "target", "..", "new.json")}\` is also --report \`${report}\`: Assay does not write over what it reads or writes`,
      ),
    );
  });

  test("an output inside an input folder is refused; one beside it is fine", () => {
    const target = join(dir, "target");
    const inside = join(target, "assay-target.yaml");
    assert.throws(
      () =>
        refuseOverlappingOutputs(
          [{ path: inside, option: "--report" }],
          [],
          [{ path: target, option: "--target" }],
        ),
      refused(
        `--report \`${inside}\` lies inside --target \`${target}\`: Assay does not write into what it reads`,
      ),
    );
    refuseOverlappingOutputs(
      [
        { path: join(dir, "target-report.json"), option: "--report" },
        { path: join(dir, "r.sarif"), option: "--sarif" },
      ],
      [{ path: key, option: "--key" }],
      [{ path: target, option: "--target" }],
    );
    // A folder read without its subfolders: only a file right in it is refused.
    const history = [{ path: target, option: "--history", flat: true }];
    assert.throws(() => refuseOverlappingOutputs([{ path: inside, option: "--out" }], [], history), {
      code: "usage",
    });
    refuseOverlappingOutputs([{ path: join(target, "sub", "r.json"), option: "--out" }], [], history);
  });
});

describe("inputs inside a folder an output replaces whole", () => {
  const kit = join(dir, "kit");
  mkdirSync(join(kit, "target", "packs"), { recursive: true });
  symlinkSync(join(kit, "target"), join(dir, "kit-target-link"));
  const replaced = [{ path: join(kit, "target"), option: "the kit's folder" }];

  test("the folder itself, a file in it, or either through a link, is refused", () => {
    for (const input of [
      join(kit, "target"),
      join(kit, "target", "packs"),
      join(kit, "target", "packs", "..", "x.yaml"),
      join(dir, "kit-target-link"),
    ])
      assert.throws(
        () => refuseInputsInReplacedFolders([{ path: input, option: "--target" }], replaced),
        refused(
          `--target \`${input}\` is or lies in the kit's folder \`${join(kit, "target")}\`, which is replaced whole: Assay does not write over what it reads`,
        ),
      );
  });

  test("a sibling whose name starts the same, the parent, stdin and options not given pass", () => {
    for (const input of [join(kit, "target2"), kit, "-", undefined])
      refuseInputsInReplacedFolders([{ path: input, option: "--target" }], replaced);
  });
});
