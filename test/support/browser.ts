// Headless Chromium (Debian's package) driven by playwright-core. Locally a
// missing browser skips the tests loudly; under CI=true it fails the run.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(`browser tests: ${CHROMIUM} is missing (apt-get install chromium); CI must not skip`);
  console.warn(`\n*** browser tests SKIPPED: ${CHROMIUM} not found (apt-get install chromium) ***\n`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
    ],
  });
}

// The vendor's side of a sign-in in Chromium: a page on loopback whose
// /callback the broker sends the browser back to, so the walk ends on a real
// page (with a language and a landmark, so axe has nothing to say about it).
export interface VendorPage {
  callback: string;
  close(): void;
}

export async function startVendorPage(): Promise<VendorPage> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><html lang="en"><title>vendor</title><main><p>back at the vendor</p></main></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    callback: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => server.close(),
  };
}
