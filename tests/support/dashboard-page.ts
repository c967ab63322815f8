/**
 * The gateway's dashboard page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core, which never downloads a browser), read as a person reads it: a panel's title
 * and the text of its cells, found by the page's `data-panel`, `data-key` and `data-column`.
 */
import { chromium, type Browser, type Page } from "playwright-core";
import { waitFor } from "./net.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** The README's picture of the page after the walkthrough's session (scripts/dashboard-screenshot.ts writes it). */
export const SCREENSHOT = "docs/dashboard.png";

export interface DashboardPage {
  page: Page;
  /** The text a panel shows in one cell: the row (series) `key`, the column `column`. */
  text(panel: string, key: string, column: string): Promise<string>;
  /** The same cell as a number; NaN when it shows none ("–"). */
  number(panel: string, key: string, column: string): Promise<number>;
  /** Waits until the page has drawn an answer of the gateway computed after `ms` (Date.now()). */
  answerAfter(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function openDashboard(url: string, viewport = { width: 1400, height: 900 }): Promise<DashboardPage> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox"] });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    const cell = (panel: string, key: string, column: string) => page.locator(`[data-panel=${JSON.stringify(panel)}] [data-key=${JSON.stringify(key)}] [data-column=${JSON.stringify(column)}]`);
    const text = async (panel: string, key: string, column: string) => (await cell(panel, key, column).textContent({ timeout: 2000 })) ?? "";
    return {
      page,
      text,
      number: async (panel, key, column) => Number(await text(panel, key, column)),
      answerAfter: async (ms) => {
        await waitFor(async () => {
          if (errors.length) throw new Error(`the page failed: ${errors.join("; ")}`);
          return Number(await page.locator("#status").getAttribute("data-time")) > ms;
        }, 15_000, 100);
      },
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
