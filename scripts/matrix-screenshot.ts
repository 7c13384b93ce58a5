/**
 * A full-page PNG of a matrix report, as docs/img/matrix-report.png shows it:
 *
 *   tsx scripts/matrix-screenshot.ts <matrix.html> <out.png>
 *
 * Drives Debian's Chromium (/usr/bin/chromium) through playwright-core, offline. Exit codes: 0
 * written; 2 usage, a missing input or a missing browser. test/matrix/browser.test.ts launches
 * the browser the same way (it imports `launchChromium`).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_MISSING =
  "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)";

/**
 * Chromium, headless and quiet: no GPU, no background or component-update traffic, no first-run
 * pages. Playwright gives each launch a fresh temporary profile and deletes it on close (it
 * refuses `--user-data-dir` among the args), so no state carries over between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

/** The viewport the report is laid out for; the screenshot takes the whole page's height. */
export const VIEWPORT = { width: 1200, height: 900 } as const;

/**
 * Opens `htmlPath` by its file:// URL and writes a full-page PNG of it to `outPng`, or of its top
 * `maxHeight` pixels (the docs show the top of a long report).
 */
export async function screenshotHtml(
  browser: Browser,
  htmlPath: string,
  outPng: string,
  maxHeight?: number,
): Promise<void> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: "load" });
    const clip =
      maxHeight === undefined ? {} : { clip: { x: 0, y: 0, width: VIEWPORT.width, height: maxHeight } };
    await page.screenshot({ path: outPng, fullPage: true, type: "png", ...clip });
  } finally {
    await context.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [html, out, height] = argv;
  const maxHeight = height === undefined ? undefined : Number(height);
  if (
    argv.length < 2 ||
    argv.length > 3 ||
    html === undefined ||
    out === undefined ||
    (maxHeight !== undefined && !(Number.isInteger(maxHeight) && maxHeight > 0))
  ) {
    console.error("usage: tsx scripts/matrix-screenshot.ts <matrix.html> <out.png> [max-height-px]");
    return 2;
  }
  if (!existsSync(html)) {
    console.error(`matrix-screenshot: no such file \`${html}\``);
    return 2;
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`matrix-screenshot: ${CHROMIUM_MISSING}`);
    return 2;
  }
  const browser = await launchChromium();
  try {
    await screenshotHtml(browser, html, out, maxHeight);
  } finally {
    await browser.close();
  }
  console.log(`matrix-screenshot: wrote ${out}`);
  return 0;
}

// Run only as a script: the browser test imports this module for `launchChromium`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`matrix-screenshot: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
      process.exit(2);
    },
  );
}
