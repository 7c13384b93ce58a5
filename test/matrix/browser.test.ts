/**
 * matrix.html in a real browser (Debian's Chromium through playwright-core): it loads nothing but
 * itself, logs no error, shows every claim with and without JavaScript, draws every chart, and
 * names its charts in the browser's own accessibility tree.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_MISSING, launchChromium, VIEWPORT } from "../../scripts/matrix-screenshot.js";
import { renderMatrixHtml } from "../../src/matrix/html/render-html.js";
import { tempDir } from "../temp-dir.js";
import { within } from "../within.js";
import { fixtureMatrixDoc } from "./fixture-doc.js";

interface Watched {
  page: Page;
  requests: string[];
  errors: string[];
}

/** A page in `context` that records every request it makes and every error it logs or throws. */
async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const w: Watched = { page, requests: [], errors: [] };
  page.on("request", (r) => w.requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") w.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.errors.push(`page: ${e.message}`));
  return w;
}

test("matrix.html in Chromium", {
  skip: existsSync(CHROMIUM) ? false : CHROMIUM_MISSING,
  timeout: 60_000,
}, async (t) => {
  const doc = fixtureMatrixDoc();
  const dir = tempDir("assay-matrix-html-", t);
  const file = join(dir, "matrix.html");
  writeFileSync(file, renderMatrixHtml(doc));
  const url = pathToFileURL(file).href;
  const rowSelector = "table.claims > tbody > tr";

  let browser: Browser | undefined;
  try {
    browser = await within(30_000, "chromium to start", launchChromium());
    const b = browser;

    await t.test("with JavaScript: complete, offline, error-free and accessible", async () => {
      const context = await b.newContext({ viewport: VIEWPORT });
      try {
        const w = await watchedPage(context);
        await w.page.goto(url, { waitUntil: "load" });
        const { page } = w;

        assert.deepEqual(w.requests, [url], "no request but the document itself");
        assert.deepEqual(w.errors, []);

        assert.equal(await page.locator(rowSelector).count(), doc.matrix.length);
        const ids = await page.locator(`${rowSelector} > th[scope="row"]`).allTextContents();
        assert.deepEqual([...ids].sort(), doc.matrix.map((r) => r.id).sort());

        const charts = await page.locator("svg").evaluateAll((svgs) =>
          svgs.map((s) => {
            const box = s.getBoundingClientRect();
            // The box of what the chart drew (tsconfig has no DOM lib: SVGGraphicsElement by shape).
            const drawn = (s as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return {
              name: s.querySelector("title")?.textContent ?? "",
              width: box.width,
              height: box.height,
              drawnWidth: drawn.width,
              drawnHeight: drawn.height,
              marks: s.querySelectorAll("rect, circle, path, line").length,
            };
          }),
        );
        assert.equal(charts.length, 7, "states, four dimensions, pass^k, violations");
        for (const c of charts) {
          assert.ok(c.width > 0 && c.height > 0, `\`${c.name}\` has a size on the page`);
          assert.ok(c.drawnWidth > 0 && c.drawnHeight > 0 && c.marks > 0, `\`${c.name}\` draws something`);
        }

        const levels = await page
          .locator("h1, h2, h3, h4, h5, h6")
          .evaluateAll((hs) => hs.map((h) => Number(h.tagName.slice(1))));
        assert.equal(levels[0], 1);
        assert.equal(levels.filter((l) => l === 1).length, 1);
        for (let i = 1; i < levels.length; i++) {
          const [prev, cur] = [levels[i - 1] ?? 1, levels[i] ?? 1];
          assert.ok(cur >= 2 && cur <= prev + 1, `h${cur} after h${prev} (heading ${i})`);
        }

        const tables = await page.locator("table").evaluateAll((ts) =>
          ts.map((tb) => ({
            caption: tb.querySelector("caption")?.textContent ?? "",
            columnHeaders: tb.querySelectorAll('thead th[scope="col"]').length,
          })),
        );
        assert.ok(tables.length > 0);
        for (const tb of tables) {
          assert.ok(tb.caption !== "" && tb.columnHeaders > 0, `table \`${tb.caption}\` has headers`);
        }

        // Chromium's own accessibility tree, not our markup: every chart is an image with a name.
        const cdp = await context.newCDPSession(page);
        const { nodes } = await cdp.send("Accessibility.getFullAXTree");
        const images = nodes
          .filter((n) => n.role?.value === "image" && n.ignored !== true)
          .map((n) => String(n.name?.value ?? ""));
        assert.deepEqual(
          images,
          charts.map((c) => c.name),
        );
        assert.ok(images.every((n) => n.trim() !== ""));

        const png = join(dir, "matrix.png");
        await page.screenshot({ path: png, fullPage: true });
        const bytes = readFileSync(png);
        assert.ok(bytes.length > 10_000, `screenshot of ${bytes.length} bytes`);
        assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

        // The enhancement: unticking a state hides that state's rows, and says how many show.
        await page.getByRole("checkbox", { name: "VALIDATED", exact: true }).uncheck();
        const validated = doc.matrix.filter((r) => r.state === "VALIDATED").length;
        assert.equal(await page.locator(`${rowSelector}:visible`).count(), doc.matrix.length - validated);
        assert.equal(
          await page.getByRole("status").textContent(),
          `Showing ${doc.matrix.length - validated} of ${doc.matrix.length} claims.`,
        );
        assert.deepEqual(w.errors, []);
        assert.deepEqual(w.requests, [url]);
      } finally {
        await context.close();
      }
    });

    await t.test("without JavaScript: every claim row is still there", async () => {
      const context = await b.newContext({ viewport: VIEWPORT, javaScriptEnabled: false });
      try {
        const w = await watchedPage(context);
        await w.page.goto(url, { waitUntil: "load" });
        assert.equal(await w.page.locator(`${rowSelector}:visible`).count(), doc.matrix.length);
        assert.equal(await w.page.locator("form.filter").count(), 0, "no dead controls");
        assert.equal(await w.page.locator("svg:visible").count(), 7);
        assert.deepEqual(w.requests, [url]);
        assert.deepEqual(w.errors, []);
      } finally {
        await context.close();
      }
    });
  } finally {
    await browser?.close();
  }
});
