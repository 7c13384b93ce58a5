import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { packCacheFromEnv } from "../../src/cli/pack-cache.js";
import { buildId } from "../../src/lib/package-info.js";
import { ROOT } from "../run-assay.js";

describe("where the CLI keeps its pack cache", () => {
  const id = "0.1.0+abc";
  test("ASSAY_CACHE_DIR, else $XDG_CACHE_HOME/assay (absolute only), else ~/.cache/assay", () => {
    assert.deepEqual(packCacheFromEnv({ ASSAY_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }, id), {
      dir: "/c",
      buildId: id,
    });
    assert.equal(packCacheFromEnv({ XDG_CACHE_HOME: "/x", HOME: "/h" }, id)?.dir, "/x/assay");
    assert.equal(packCacheFromEnv({ XDG_CACHE_HOME: "rel", HOME: "/h" }, id)?.dir, "/h/.cache/assay");
    assert.equal(packCacheFromEnv({ HOME: "/h" }, id)?.dir, "/h/.cache/assay");
  });

  test("off with ASSAY_NO_CACHE (but not 0 or empty), and when no build is known", () => {
    assert.equal(packCacheFromEnv({ ASSAY_NO_CACHE: "1", HOME: "/h" }, id), undefined);
    assert.equal(packCacheFromEnv({ ASSAY_NO_CACHE: "yes", ASSAY_CACHE_DIR: "/c" }, id), undefined);
    assert.equal(packCacheFromEnv({ ASSAY_NO_CACHE: "0", HOME: "/h" }, id)?.dir, "/h/.cache/assay");
    assert.equal(packCacheFromEnv({ ASSAY_NO_CACHE: "", HOME: "/h" }, id)?.dir, "/h/.cache/assay");
    assert.equal(packCacheFromEnv({ HOME: "/h" }, undefined), undefined);
  });

  test("the build id: none when running from src/; version and dist/'s build stamp from dist/", async () => {
    assert.equal(buildId(), undefined);
    const dist = (await import(
      join(ROOT, "dist/lib/package-info.js")
    )) as typeof import("../../src/lib/package-info.js");
    const stamp = readFileSync(join(ROOT, "dist/.build-inputs"), "utf8").trim();
    assert.equal(dist.buildId(), `${dist.PACKAGE.version}+${stamp}`);
  });
});
