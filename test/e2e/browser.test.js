// The pages as people use them, in Debian's Chromium driven by
// playwright-core: every page of a logged-in user rings, without leaving
// the page; lists update in place; an alert is shown once per browser.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

import {
  SEED, acceptOrder, expectStatus, http, loginSeedClient, loginSeedOwner, makeTest, placeOrder, startServer,
} from './helpers.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = 10_000;

let server;
let browser;
const pageErrors = [];
const test = makeTest(() => server);

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// A browser profile (context) logged in through the real login form.
async function loggedIn(who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await newPage(context);
  await page.goto(`${server.url}/login`);
  await page.check(`input[name=role][value=${who.role}]`);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('#login-form button[type=submit]')]);
  return { context, page };
}

async function newPage(context) {
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('dialog', (d) => {
    pageErrors.push(`${page.url()}: a blocking ${d.type()}() was opened`);
    d.dismiss();
  });
  return page;
}

// Opens a page and waits for its socket to be connected.
async function open(page, path) {
  await page.goto(server.url + path);
  await page.waitForSelector('body[data-socket=connected]', { timeout: WAIT });
  // A marker that a navigation or reload would wipe.
  await page.evaluate(() => { window.stillHere = true; });
}

const toastsFor = (page, notificationId) =>
  page.locator(`#toasts [role=alert][data-notification-id="${notificationId}"]`).count();
const shown = (page) => page.evaluate(() => window.orderbell.shown.slice());
const stayed = (page) => page.evaluate(() => window.stillHere === true);

describe('pages ring', () => {
  test('an order rings the owner on every page, once, without leaving it; accepting updates the other device and the customer', async () => {
    const pc = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const phone = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const customer = await loggedIn({ role: 'client', email: SEED.client.email, password: SEED.client.password });
    try {
      await open(pc.page, '/');
      await open(phone.page, '/mypage');
      await open(customer.page, `/stores/${SEED.storeId}`);
      const before = await phone.page.locator('#orders li.order').count();

      // The customer orders through the real menu form and button.
      await customer.page.fill('#count-1', '2');
      await customer.page.fill('#count-3', '1');
      assert.equal(await customer.page.textContent('#order-total'), '12,500원');
      const post = customer.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/order', { timeout: WAIT });
      await customer.page.click('#order-button');
      assert.equal((await post).headers()['x-socket-id'], await customer.page.evaluate(() => window.orderbell.socket.id));
      await customer.page.waitForSelector('#order-status:has-text("주문이 접수되었습니다")', { timeout: WAIT });

      // Both owner pages show the toast, with its text, and stay where they are.
      const toast = '#toasts [role=alert]';
      await pc.page.waitForSelector(toast, { timeout: WAIT });
      await phone.page.waitForSelector(toast, { timeout: WAIT });
      const id = Number(await pc.page.getAttribute(toast, 'data-notification-id'));
      assert.ok(id > 0);
      assert.match(await pc.page.textContent(toast), /주문이 들어왔습니다\.[\s\S]*12,500원/);
      for (const p of [pc.page, phone.page]) {
        assert.equal(await toastsFor(p, id), 1);
        assert.deepEqual(await shown(p), [id]);
        assert.ok(await stayed(p), 'the page was navigated away or reloaded');
      }
      assert.equal(new URL(pc.page.url()).pathname, '/');
      // /mypage gained the order without a reload.
      await phone.page.waitForFunction((n) => document.querySelectorAll('#orders li.order').length === n + 1, before, { timeout: WAIT });
      const orderId = await phone.page.getAttribute('#orders li.order:first-child', 'data-order-id');
      assert.equal(await phone.page.textContent(`li[data-order-id="${orderId}"] .state`), '대기 중');
      assert.equal(await pc.page.locator('#badge').textContent(), '1');
      // The customer's own page did not ring for their own order.
      assert.deepEqual(await shown(customer.page), []);

      // The owner accepts on the PC; the phone's list updates in place and
      // its toast for that order is withdrawn.
      await open(pc.page, '/mypage');
      await open(customer.page, '/mypage');
      // The PC names its socket on the PATCH (X-Socket-Id), so the server
      // tells only the other devices; the PC updates its own list.
      const patch = pc.page.waitForRequest((r) => r.method() === 'PATCH', { timeout: WAIT });
      await pc.page.click(`li[data-order-id="${orderId}"] .approval-button`);
      const pcSocket = await pc.page.evaluate(() => window.orderbell.socket.id);
      assert.ok(pcSocket);
      assert.equal((await patch).headers()['x-socket-id'], pcSocket);
      await pc.page.waitForSelector(`li[data-order-id="${orderId}"] .state:has-text("승인됨")`, { timeout: WAIT });
      await phone.page.waitForSelector(`li[data-order-id="${orderId}"] .state:has-text("승인됨")`, { timeout: WAIT });
      assert.equal(await phone.page.locator(`li[data-order-id="${orderId}"] .approval-button`).count(), 0);
      assert.equal(await toastsFor(phone.page, id), 0);
      assert.ok(await stayed(phone.page));

      // The customer's page shows the approval once, and the new status.
      await customer.page.waitForSelector('#toasts [role=alert]', { timeout: WAIT });
      assert.match(await customer.page.textContent('#toasts [role=alert]'), /주문이 승인되었습니다/);
      assert.equal((await shown(customer.page)).length, 1);
      await customer.page.waitForSelector(`li[data-order-id="${orderId}"] .state:has-text("승인됨")`, { timeout: WAIT });
      assert.ok(await stayed(customer.page));
    } finally {
      await Promise.all([pc.context.close(), phone.context.close(), customer.context.close()]);
    }
  });

  test('an order placed while the owner is between pages is shown once on the next page, not again after a reload', async () => {
    const owner = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const client = await loginSeedClient(server);
    try {
      await open(owner.page, '/');
      // Leave the app: no page of it is open while the order comes in.
      await owner.page.goto('about:blank');
      const order = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: 2, count: 1 }]);
      const ownerTok = await loginSeedOwner(server);
      const [stored] = (await http(server, 'GET', '/notifications?latest=1', { token: ownerTok.token })).body;
      assert.equal(stored.order_id, order.order_id);

      await open(owner.page, '/mypage');
      await owner.page.waitForSelector(`#toasts [role=alert][data-notification-id="${stored.notification_id}"]`, { timeout: WAIT });
      assert.deepEqual(await shown(owner.page), [stored.notification_id]);

      // Reload: the socket asks again with its last id; nothing is replayed.
      // A fresh live order after the reload proves the socket is up and that
      // anything replayed would have come before it.
      await owner.page.reload();
      await owner.page.waitForSelector('body[data-socket=connected]', { timeout: WAIT });
      const next = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: 1, count: 1 }]);
      await owner.page.waitForSelector(`#toasts [role=alert][data-order-id="${next.order_id}"]`, { timeout: WAIT });
      const again = await shown(owner.page);
      assert.equal(again.length, 1, `after the reload the page showed ${again}`);
      assert.notEqual(again[0], stored.notification_id);
    } finally {
      await owner.context.close();
    }
  });

  test('two tabs of one browser show an alert once between them', async () => {
    const owner = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const client = await loginSeedClient(server);
    try {
      const second = await newPage(owner.context);
      await open(owner.page, '/');
      await open(second, '/mypage');
      const order = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: 3, count: 4 }]);
      // Both tabs receive the alert; only one of them shows it.
      const received = (p) => p.waitForFunction(() => window.orderbell.received.length === 1, null, { timeout: WAIT });
      await Promise.all([received(owner.page), received(second)]);
      const total = (await shown(owner.page)).length + (await shown(second)).length;
      assert.equal(total, 1, 'shown in both tabs, or in neither');
      await second.waitForSelector(`#orders li[data-order-id="${order.order_id}"]`, { timeout: WAIT });
    } finally {
      await owner.context.close();
    }
  });

  test('mute persists across pages; the drawer lists alerts and marks them read', async () => {
    const owner = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    try {
      await open(owner.page, '/');
      assert.equal(await owner.page.getAttribute('#mute', 'aria-pressed'), 'false');
      await owner.page.click('#mute');
      assert.equal(await owner.page.getAttribute('#mute', 'aria-pressed'), 'true');
      await open(owner.page, '/mypage');
      assert.equal(await owner.page.getAttribute('#mute', 'aria-pressed'), 'true');

      await owner.page.waitForFunction(() => !document.getElementById('badge').hidden, null, { timeout: WAIT });
      const unread = Number(await owner.page.textContent('#badge'));
      assert.ok(unread > 0);
      await owner.page.click('#bell');
      await owner.page.waitForSelector('#drawer-list li.unread', { timeout: WAIT });
      await owner.page.click('#mark-read');
      await owner.page.waitForSelector('#badge[hidden]', { state: 'attached', timeout: WAIT });
      assert.equal(await owner.page.locator('#drawer-list li.unread').count(), 0);
      const ownerTok = await loginSeedOwner(server);
      const res = await http(server, 'GET', '/notifications?latest=1', { token: ownerTok.token });
      assert.equal(res.headers.get('x-unread-count'), '0');
    } finally {
      await owner.context.close();
    }
  });

  test('user text is escaped in pages and toasts', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const ownerTok = await loginSeedOwner(server);
    const store = expectStatus(await http(server, 'POST', '/stores', { token: ownerTok.token, body: { name: evil } }), 201, 'store');
    const menu = expectStatus(await http(server, 'POST', `/stores/${store.store_id}/menus`, { token: ownerTok.token, body: { name: evil, price: 1000 } }), 201, 'menu');
    const owner = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const client = await loginSeedClient(server);
    try {
      await open(owner.page, '/');
      assert.ok((await owner.page.textContent('ul.stores')).includes(evil), 'the store name is shown as text');
      await open(owner.page, `/stores/${store.store_id}`);
      assert.equal(await owner.page.textContent('h1'), evil);
      await open(owner.page, '/mypage');
      await placeOrder(server, client.token, store.store_id, [{ menu_id: menu.menu_id, count: 1 }]);
      await owner.page.waitForSelector(`#orders li.order .items li:has-text("${'alert(1)'}")`, { timeout: WAIT });
      assert.equal(await owner.page.locator('#orders img').count(), 0);
    } finally {
      await owner.context.close();
    }
  });

  test('a wrong password comes back to the form with the reason (Post/Redirect/Get)', async () => {
    const context = await browser.newContext();
    const page = await newPage(context);
    try {
      await page.goto(`${server.url}/login`);
      await page.check('input[name=role][value=owner]');
      await page.fill('#email', SEED.owner.email);
      await page.fill('#password', 'not-the-password');
      await Promise.all([page.waitForURL(`${server.url}/login`), page.click('#login-form button[type=submit]')]);
      assert.equal(await page.textContent('.flash'), '이메일 또는 비밀번호가 올바르지 않습니다.');
      await page.reload(); // the message was for that one page
      assert.equal(await page.locator('.flash').count(), 0);
    } finally {
      await context.close();
    }
  });

  test('at phone width every page fits, and every input has a label', async () => {
    const owner = await loggedIn({ role: 'owner', email: SEED.owner.email, password: SEED.owner.password });
    const anonymous = await browser.newContext();
    try {
      for (const [context, paths] of [[owner.context, ['/', `/stores/${SEED.storeId}`, '/mypage']], [anonymous, ['/login', '/signup', '/']]]) {
        const page = await newPage(context);
        await page.setViewportSize({ width: 360, height: 740 });
        for (const path of paths) {
          await page.goto(server.url + path);
          const { scrollWidth, unlabeled } = await page.evaluate(() => ({
            scrollWidth: document.scrollingElement.scrollWidth,
            unlabeled: [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML),
          }));
          assert.ok(scrollWidth <= 360, `${path} is ${scrollWidth}px wide at 360px`);
          assert.deepEqual(unlabeled, [], `${path} has inputs without labels`);
        }
      }
    } finally {
      await owner.context.close();
      await anonymous.close();
    }
  });

  test('no page had a script error or a blocking dialog', () => {
    assert.deepEqual(pageErrors, []);
  });
});
