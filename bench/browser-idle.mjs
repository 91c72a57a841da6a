// browser-idle.mjs — what one logged-in Chromium page holds open on the
// server: it logs in as the demo owner through the login form, waits for
// the page's socket, and counts the server's established TCP connections
// right after the load and again after --wait seconds idle. Run it against
// a server of its own (nothing else connected), with IDLE_TIMEOUT shorter
// than --wait and with IDLE_TIMEOUT=0, to see what the idle keep-alive
// connections come to:
//
//   IDLE_TIMEOUT=10s PORT=3310 DATABASE_URL=sqlite:/tmp/b.db ./orderbell &
//   node bench/browser-idle.mjs --url http://127.0.0.1:3310 --password demo-owner-1234 --wait 20
//
// It uses the packages and the Chromium of the end-to-end tests
// (test/node_modules, /usr/bin/chromium), only targets loopback addresses
// and counts with ss(8).

import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

import { loopbackOrigin, parseFlags } from './flags.mjs';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const opts = parseFlags(process.argv.slice(2), { url: 'http://127.0.0.1:3000', email: 'owner@demo.orderbell', password: '', wait: 20 },
  { '--url': 'url', '--email': 'email', '--password': 'password', '--wait': 'wait' });
const u = new URL(loopbackOrigin(opts.url));
if (!opts.password) throw new Error('--password is required (the demo owner\'s is in the server\'s log)');
if (!(opts.wait > 0 && opts.wait <= 600)) throw new Error('--wait must be 1..600 seconds');

const established = () =>
  execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${u.port} )`]).toString().split('\n').filter(Boolean).length;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(`${u.origin}/login`);
  await page.check('input[name=role][value=owner]');
  await page.fill('#email', opts.email);
  await page.fill('#password', opts.password);
  await Promise.all([page.waitForURL(`${u.origin}/`), page.click('#login-form button[type=submit]')]);
  await page.waitForSelector('body[data-socket=connected]', { timeout: 10_000 });
  const loaded = established();
  await new Promise((resolve) => setTimeout(resolve, opts.wait * 1000));
  const idle = established();
  console.log(`one logged-in page: ${loaded} server connections after the load, ${idle} after ${opts.wait} s idle`);
  console.log(JSON.stringify({ loaded, idle, wait_s: opts.wait }));
} finally {
  await browser.close();
}
