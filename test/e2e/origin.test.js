// Cross-site use of the login cookie (SPEC §7, CORS_ORIGINS "default: same
// origin only — never * with cookies"): a page of a foreign origin can
// neither open a socket (polling nor WebSocket) nor change state over HTTP;
// clients that send no Origin (node, curl) pass; an origin listed in
// CORS_ORIGINS is allowed with credentials and echoed, never as *.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import nodeHttp from 'node:http';
import { after, before, describe } from 'node:test';

import {
  APPROVAL_ORDER,
  SEED,
  SUBMIT_ORDER,
  connectV4,
  expectRefused,
  http,
  loginSeedClient,
  loginSeedOwner,
  makeTest,
  placeOrder,
  startServer,
} from './helpers.js';

const EVIL = 'http://evil.example';
const SHOP = 'http://shop.example';

let server; // default configuration: same origin only
let corsServer; // CORS_ORIGINS=http://shop.example
const test = makeTest(() => [server, corsServer]);

before(async () => {
  [server, corsServer] = await Promise.all([startServer(), startServer({ env: { CORS_ORIGINS: SHOP } })]);
});
after(async () => {
  await Promise.all([server?.stop(), corsServer?.stop()]);
});

const pollingPath = '/socket.io/?EIO=4&transport=polling';
const wsPath = '/socket.io/?EIO=4&transport=websocket';

/**
 * A raw WebSocket upgrade request. Resolves {status, headers}: 101 when
 * the server switched protocols, else the status of its plain response.
 */
function upgrade(srv, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({
      host: '127.0.0.1',
      port: srv.port,
      path: urlPath,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
      timeout: 5000,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error('upgrade request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function myOrderIds(srv, token) {
  const res = await http(srv, 'GET', '/orders', { token });
  assert.equal(res.status, 200, res.text);
  return res.body.map((o) => o.order_id);
}

describe('foreign origins (default: same origin only)', () => {
  test('Engine.IO long-polling refuses a foreign Origin, allows none and the same origin', async () => {
    const evil = await http(server, 'GET', pollingPath, { headers: { Origin: EVIL } });
    assert.equal(evil.status, 403, `foreign origin polling: ${evil.status} ${evil.text}`);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);

    const none = await http(server, 'GET', pollingPath);
    assert.equal(none.status, 200, none.text);
    assert.match(none.text, /^0\{.*"sid"/, 'an Engine.IO open packet');

    const same = await http(server, 'GET', pollingPath, { headers: { Origin: server.origin } });
    assert.equal(same.status, 200, same.text);

    // v2 clients (Engine.IO 3) are held to the same rule.
    const evil3 = await http(server, 'GET', '/socket.io/?EIO=3&transport=polling', { headers: { Origin: EVIL } });
    assert.equal(evil3.status, 403, `EIO=3 foreign origin polling: ${evil3.status}`);
  });

  test('a WebSocket upgrade from a foreign Origin is refused', async () => {
    const evil = await upgrade(server, wsPath, { Origin: EVIL });
    assert.notEqual(evil.status, 101, 'switched protocols for a foreign origin');
    assert.equal(evil.status, 403);

    // Positive controls: the same request upgrades without Origin and from
    // the same origin.
    assert.equal((await upgrade(server, wsPath)).status, 101);
    assert.equal((await upgrade(server, wsPath, { Origin: server.origin })).status, 101);
  });

  test('a real client sending a foreign Origin with a valid token gets connect_error, on either transport', async (t) => {
    const owner = await loginSeedOwner(server);
    for (const transports of [['websocket'], ['polling']]) {
      const err = await expectRefused(server, {
        token: owner.token,
        transports,
        extraHeaders: { Origin: EVIL },
        label: `${transports} from ${EVIL}`,
      });
      assert.ok(err instanceof Error, String(err));
    }
    // The same client without the header connects.
    t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'no origin' }));
  });

  test('state-changing HTTP from a foreign Origin is refused and writes nothing; the same origin passes', async (t) => {
    const client = await loginSeedClient(server);
    const owner = await loginSeedOwner(server);
    const ownerDevice = t.track(await connectV4(server, { token: owner.token, label: 'owner 1' }));
    const clientDevice = t.track(await connectV4(server, { token: client.token, label: 'client 1' }));
    const body = { store_id: SEED.storeId, items: [{ menu_id: SEED.menus[0].menu_id, count: 1 }] };

    const ordersBefore = await myOrderIds(server, client.token);
    const evil = await http(server, 'POST', '/order', { token: client.token, body, headers: { Origin: EVIL } });
    assert.equal(evil.status, 403, `POST /order from ${EVIL}: ${evil.status} ${evil.text}`);
    assert.equal(typeof evil.body?.message, 'string', 'errors are JSON {message}');
    assert.deepEqual(await myOrderIds(server, client.token), ordersBefore, 'the refused order was stored');

    const same = await http(server, 'POST', '/order', { token: client.token, body, headers: { Origin: server.origin } });
    assert.equal(same.status, 201, `POST /order from the same origin: ${same.status} ${same.text}`);
    const order = same.body;
    assert.deepEqual(await myOrderIds(server, client.token), [order.order_id, ...ordersBefore]);
    // Only the accepted order rang the owner: a refused one would have come first.
    await ownerDevice.waitFor(SUBMIT_ORDER, (p) => p.order_id === order.order_id);
    await ownerDevice.flush();
    assert.deepEqual(ownerDevice.alerts().map((e) => e.data.order_id), [order.order_id]);

    // Accepting from a foreign origin is refused too, and rings nobody.
    const evilAccept = await http(server, 'PATCH', `/order-receive/${order.order_id}`, {
      token: owner.token,
      headers: { Origin: EVIL },
    });
    assert.equal(evilAccept.status, 403, `PATCH from ${EVIL}: ${evilAccept.status} ${evilAccept.text}`);
    const stored = (await http(server, 'GET', '/orders', { token: client.token })).body.find((o) => o.order_id === order.order_id);
    assert.equal(stored.status, 0, 'the refused acceptance changed the order');
    await clientDevice.flush();
    assert.deepEqual(clientDevice.received(APPROVAL_ORDER), []);

    // Whatever the server answers a foreign page's read, it grants it no
    // CORS access.
    const read = await http(server, 'GET', '/orders', { token: client.token, headers: { Origin: EVIL } });
    assert.ok(![EVIL, '*'].includes(read.headers.get('access-control-allow-origin')), 'CORS grant to a foreign origin');
  });
});

describe('CORS_ORIGINS=http://shop.example', () => {
  test('the listed origin may poll with credentials, echoed and never *', async () => {
    const shop = await http(corsServer, 'GET', pollingPath, { headers: { Origin: SHOP } });
    assert.equal(shop.status, 200, `polling from ${SHOP}: ${shop.status} ${shop.text}`);
    assert.equal(shop.headers.get('access-control-allow-origin'), SHOP);
    assert.equal(shop.headers.get('access-control-allow-credentials'), 'true');

    const none = await http(corsServer, 'GET', pollingPath);
    assert.equal(none.status, 200);
    assert.notEqual(none.headers.get('access-control-allow-origin'), '*');

    const evil = await http(corsServer, 'GET', pollingPath, { headers: { Origin: EVIL } });
    assert.equal(evil.status, 403, `a foreign origin not in the list: ${evil.status}`);
    assert.notEqual(evil.headers.get('access-control-allow-origin'), '*');
    assert.notEqual(evil.headers.get('access-control-allow-origin'), EVIL);

    // HTTP API reads: granted to the listed origin only.
    const client = await loginSeedClient(corsServer);
    const evilRead = await http(corsServer, 'GET', '/orders', { token: client.token, headers: { Origin: EVIL } });
    assert.ok(![EVIL, '*'].includes(evilRead.headers.get('access-control-allow-origin')), 'CORS grant to a foreign origin');
    const shopRead = await http(corsServer, 'GET', '/orders', { token: client.token, headers: { Origin: SHOP } });
    assert.equal(shopRead.status, 200);
    assert.equal(shopRead.headers.get('access-control-allow-origin'), SHOP);

    // A listed origin can upgrade to WebSocket; an unlisted one cannot.
    assert.equal((await upgrade(corsServer, wsPath, { Origin: SHOP })).status, 101);
    assert.equal((await upgrade(corsServer, wsPath, { Origin: EVIL })).status, 403);
  });

  test('the listed origin’s CORS preflights for the REST API are granted, a foreign one’s never', async () => {
    // A page of the listed origin that POSTs JSON or PATCHes makes the
    // browser send a preflight first; without a grant the browser never
    // sends the request itself.
    const preflight = (origin, method, urlPath) =>
      http(corsServer, 'OPTIONS', urlPath, {
        headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'content-type' },
      });
    const results = [];
    for (const [method, urlPath] of [['POST', '/order'], ['PATCH', '/order-receive/1'], ['POST', '/login']]) {
      const shop = await preflight(SHOP, method, urlPath);
      results.push({
        request: `OPTIONS ${urlPath} (${method}) from ${SHOP}`,
        status: shop.status,
        allowOrigin: shop.headers.get('access-control-allow-origin'),
        allowCredentials: shop.headers.get('access-control-allow-credentials'),
      });
      const evil = await preflight(EVIL, method, urlPath);
      assert.ok(![EVIL, '*'].includes(evil.headers.get('access-control-allow-origin')), `preflight grant to ${EVIL} on ${urlPath}`);
    }
    assert.deepEqual(
      results.filter((r) => !(r.status >= 200 && r.status < 300 && r.allowOrigin === SHOP && r.allowCredentials === 'true')),
      [],
      'preflights from the listed origin that were not granted',
    );
  });

  test('the listed origin may place an order with the cookie, answered with its CORS grant', async (t) => {
    const client = await loginSeedClient(corsServer);
    const owner = await loginSeedOwner(corsServer);
    const device = t.track(
      await connectV4(corsServer, { token: owner.token, extraHeaders: { Origin: SHOP }, transports: ['websocket'], label: 'owner from shop' }),
    );
    const body = { store_id: SEED.storeId, items: [{ menu_id: SEED.menus[1].menu_id, count: 2 }] };
    const res = await http(corsServer, 'POST', '/order', { token: client.token, body, headers: { Origin: SHOP } });
    assert.equal(res.status, 201, `POST /order from ${SHOP}: ${res.status} ${res.text}`);
    assert.equal(res.headers.get('access-control-allow-origin'), SHOP);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    await device.waitFor(SUBMIT_ORDER, (p) => p.order_id === res.body.order_id);

    const evil = await http(corsServer, 'POST', '/order', { token: client.token, body, headers: { Origin: EVIL } });
    assert.equal(evil.status, 403);
    // placeOrder (no Origin, like curl) still works.
    await placeOrder(corsServer, client.token, SEED.storeId, body.items);
  });
});
