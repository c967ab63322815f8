/**
 * The README's picture of the dashboard page (`npm run dashboard:screenshot`): `npm start` with its
 * own redis-server and upstream, the page opened in headless Chromium, the README's session
 * (tests/support/walkthrough-session.ts), two more polls, then a full-page PNG at SCREENSHOT.
 */
import { runNpmStart } from "../tests/support/npm-start.ts";
import { openDashboard, SCREENSHOT } from "../tests/support/dashboard-page.ts";
import { walkthroughSession } from "../tests/support/walkthrough-session.ts";
import { POLL_MS } from "../host/dashboard/panels.ts";
import { repoRoot } from "../tests/support/paths.ts";

const start = await runNpmStart();
try {
  const dash = await openDashboard(start.dashboard, { width: 1400, height: 900 });
  try {
    await dash.answerAfter(0);
    const told = await walkthroughSession(start);
    await dash.answerAfter(told.endedAt + 2 * POLL_MS);
    await dash.page.screenshot({ path: `${repoRoot}${SCREENSHOT}`, fullPage: true });
    console.log(`wrote ${SCREENSHOT}`);
  } finally {
    await dash.close();
  }
} finally {
  await start.stop();
}
