import { chromium } from 'playwright-core';
const base = process.argv[2];
const out = process.argv[3] || '/tmp';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
async function loggedIn(email, password, role, viewport) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.log('CONSOLE', m.text()); });
  await page.goto(base + '/login');
  await page.check(`input[name=role][value=${role}]`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  return page;
}
for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 360, height: 740 }]]) {
  const owner = await loggedIn('owner@demo.orderbell', 'demo-owner-1234', 'owner', viewport);
  await owner.goto(base + '/mypage');
  await owner.waitForSelector('body[data-socket=connected]');
  const client = await loggedIn('client@demo.orderbell', 'demo-client-1234', 'client', viewport);
  await client.goto(base + '/stores/1');
  await client.fill('#count-1', '2');
  await client.fill('#count-3', '1');
  await client.click('#order-button');
  await owner.waitForSelector('[role=alert]');
  await owner.waitForSelector('.approval-button');
  await owner.waitForTimeout(400); // let the toast's entry animation finish for the picture
  await owner.screenshot({ path: `${out}/owner-mypage-${name}.png`, fullPage: false });
  await client.screenshot({ path: `${out}/client-store-${name}.png` });
  await client.goto(base + '/mypage');
  await owner.click('.approval-button');
  await client.waitForSelector('[role=alert]');
  await client.screenshot({ path: `${out}/client-mypage-${name}.png` });
  await owner.screenshot({ path: `${out}/owner-mypage-accepted-${name}.png` });
}
await browser.close();
