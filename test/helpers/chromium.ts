/**
 * A real Chromium for the browser tests (the dashboard, the HTML reports): Debian's, driven by
 * playwright-core. `.ci/ensure-chromium.sh` installs it; PUSHQ_CHROMIUM names another.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env['PUSHQ_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches it, or says how to install it; `what` names the test ("the dashboard test"). */
export async function launchChromium(what: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${what} drives a real Chromium, and there is none at ${CHROMIUM}.\nInstall it: apt-get install chromium   (Debian/Ubuntu, as root; or set PUSHQ_CHROMIUM to its path)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
}

/**
 * Launches Chromium while `setUp` runs (a log recorded, a service started: neither needs the
 * other), and resolves with it once both are done. When `setUp` fails, the browser it launched
 * is closed and `setUp`'s error thrown; when the launch fails, its error is thrown once `setUp`
 * has ended (so whatever `setUp` started is assigned, for the caller's afterAll to stop).
 */
export async function launchChromiumDuring(what: string, setUp: () => Promise<void>): Promise<Browser> {
  const launching = launchChromium(what);
  launching.catch(() => undefined); // met below, not as an unhandled rejection while setUp runs
  try {
    await setUp();
  } catch (error) {
    await launching.then((browser) => browser.close(), () => undefined);
    throw error;
  }
  return launching;
}
