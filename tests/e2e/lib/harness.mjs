// Shared set-up for the page tests: serve www/ on loopback with the strict CSP, launch Debian's
// Chromium headless through playwright-core, and record console errors and any request that
// tries to leave localhost (such requests are aborted, and the tests assert there were none).

import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Flags for Chromium as root on a machine with no network but loopback. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync',
];

/** A headless Debian Chromium (playwright-core never downloads a browser here). */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export async function openLab({ mounts } = {}) {
  const { server, url } = await startServer({ root: 'www', mounts });
  const profile = await mkdtemp(join(tmpdir(), 'logitlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    acceptDownloads: true,
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const consoleErrors = [];
  const outside = [];
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return {
    page, url, consoleErrors, outside,
    async close() {
      await context.close();
      server.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A headless Chromium page that keeps to loopback: a request to any other host is aborted and
 * recorded in `outside`; console errors and warnings are recorded in `errors`. For pages other
 * than the lab itself, such as course notes that embed it.
 */
export async function loopbackPage() {
  const browser = await launchChromium();
  const errors = [];
  const outside = [];
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (['error', 'warning'].includes(m.type())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { browser, page, errors, outside };
}
