// The Socket.IO handshake (SPEC §2, §4): only an HS256 token with the
// server's key, a future exp and exactly one of client_id / owner_id gets
// in; a token minted by the original Node backend (jsonwebtoken) does; and
// the server disconnects a socket when its token expires.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  SEED,
  SUBMIT_ORDER,
  connectV2,
  connectV4,
  expectRefused,
  http,
  makeTest,
  mintToken,
  nowSeconds,
  once,
  openV4,
  placeOrder,
  signupAndLogin,
  startServer,
  unsignedToken,
} from './helpers.js';

let server;
const test = makeTest(() => server);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('handshake', () => {
  test('refused tokens get connect_error "unauthorized" and HTTP 401', async () => {
    const key = server.key;
    const exp = nowSeconds() + 3600;
    const cases = [
      ['no token', undefined],
      ['garbage token', 'not-a-jwt'],
      ['empty-looking JWT', 'a.b.c'],
      ['wrong secret', mintToken(`${key}-wrong`, { owner_id: SEED.owner.id })],
      ['alg none', unsignedToken({ owner_id: SEED.owner.id, iat: nowSeconds(), exp })],
      ['HS512 with the right secret', mintToken(key, { owner_id: SEED.owner.id }, { algorithm: 'HS512', expiresIn: '1h' })],
      ['HS384 with the right secret', mintToken(key, { client_id: SEED.client.id }, { algorithm: 'HS384', expiresIn: '1h' })],
      ['expired', mintToken(key, { owner_id: SEED.owner.id, iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }, {})],
      ['no exp', mintToken(key, { owner_id: SEED.owner.id }, {})],
      ['both client_id and owner_id', mintToken(key, { client_id: SEED.client.id, owner_id: SEED.owner.id })],
      ['neither client_id nor owner_id', mintToken(key, { user_id: SEED.client.id })],
    ];
    // Sanity: the crafted tokens say what their names say.
    const payloadOf = (name) => JSON.parse(Buffer.from(cases.find(([n]) => n === name)[1].split('.')[1], 'base64url'));
    assert.equal(payloadOf('no exp').exp, undefined);
    assert.ok(payloadOf('expired').exp < nowSeconds());
    assert.equal(JSON.parse(Buffer.from(cases.find(([n]) => n === 'alg none')[1].split('.')[0], 'base64url')).alg, 'none');

    for (const [name, token] of cases) {
      const err = await expectRefused(server, { token, label: name });
      assert.equal(err.message, 'unauthorized', `${name}: connect_error message`);

      // The same token is no login for the HTTP API either.
      const res = await http(server, 'GET', '/orders', token === undefined ? {} : { token });
      assert.equal(res.status, 401, `${name}: GET /orders with the cookie -> ${res.status} ${res.text}`);
      if (token !== undefined) {
        const bearer = await http(server, 'GET', '/orders', { bearer: token });
        assert.equal(bearer.status, 401, `${name}: GET /orders with Bearer -> ${bearer.status} ${bearer.text}`);
      }
    }

    // v2 clients carry the token in the cookie; a forged one is refused too.
    await assert.rejects(
      connectV2(server, { token: mintToken(`${key}-wrong`, { owner_id: SEED.owner.id }), label: 'v2 wrong secret' }),
      /unauthorized/,
    );
    await assert.rejects(connectV2(server, { label: 'v2 no cookie' }), /unauthorized/);
  });

  test('a token minted by the Node backend (jsonwebtoken, HS256) works for the socket and for HTTP', async (t) => {
    const token = mintToken(server.key, { owner_id: SEED.owner.id }, { expiresIn: '1h' });
    const decoded = JSON.parse(Buffer.from(token.split('.')[0], 'base64url'));
    assert.equal(decoded.alg, 'HS256');

    const res = await http(server, 'GET', '/orders', { token });
    assert.equal(res.status, 200, `GET /orders: ${res.status} ${res.text}`);
    assert.ok(Array.isArray(res.body));

    const v4 = t.track(await connectV4(server, { token, label: 'jsonwebtoken owner v4' }));
    const v2 = t.track(await connectV2(server, { token, label: 'jsonwebtoken owner v2' }));
    // The socket is in owner 1's room: an order at the seed store rings it.
    const client = await signupAndLogin(server, 'client', 'jwt-client');
    const order = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: SEED.menus[1].menu_id, count: 1 }]);
    for (const d of [v4, v2]) {
      const [p] = await d.waitFor(SUBMIT_ORDER, (x) => x.order_id === order.order_id);
      assert.equal(p.total_price, SEED.menus[1].price);
    }

    // Also accepted as a Bearer header and with the auth.token of v4.
    const bearer = await http(server, 'GET', '/orders', { bearer: token });
    assert.equal(bearer.status, 200);
    assert.ok(bearer.body.some((o) => o.order_id === order.order_id), 'owner 1 sees the order');
  });

  test('the server disconnects the socket when its token expires, and it stays disconnected', async (t) => {
    const exp = nowSeconds() + 3;
    const token = mintToken(server.key, { client_id: SEED.client.id, iat: nowSeconds(), exp }, {});
    // One device per transport, all expiring together. reconnection stays
    // on: after a server-side disconnect the client must not come back by
    // itself (it would after a mere transport close).
    const variants = [
      ['v4 polling+upgrade', undefined],
      ['v4 websocket', ['websocket']],
      ['v4 polling', ['polling']],
    ];
    const devices = variants.map(([label, transports]) =>
      t.track(openV4(server, { token, transports, reconnection: true, label })),
    );
    await Promise.all(devices.map((d) => d.connected));
    const seen = devices.map((d) => {
      const s = { reasons: [], reconnects: 0 };
      d.socket.on('disconnect', (reason) => s.reasons.push({ reason, at: Date.now(), transport: d.socket.io.engine?.transport?.name }));
      d.socket.on('connect', () => (s.reconnects += 1));
      d.socket.io.on('reconnect_attempt', () => (s.reconnects += 1));
      s.first = once(d.socket, 'disconnect', 10_000, `${d.label}: disconnect after the token expired`);
      return s;
    });
    await Promise.all(seen.map((s) => s.first));

    // Absence of a reconnection cannot be awaited as an event: give the
    // clients longer than their first reconnection delay (≤ 1.5 s by default).
    await new Promise((r) => setTimeout(r, 2000));

    const report = devices.map((d, i) => ({
      device: d.label,
      disconnects: seen[i].reasons.map((r) => `${r.reason} (${r.transport}, ${r.at - exp * 1000} ms after exp)`),
      reconnects: seen[i].reconnects,
    }));
    const detail = JSON.stringify(report, null, 1);
    for (const [i, d] of devices.entries()) {
      const [first] = seen[i].reasons;
      assert.equal(first.reason, 'io server disconnect', `${d.label}: first disconnect reason; all: ${detail}`);
      assert.ok(first.at >= exp * 1000 - 250, `${d.label}: disconnected before exp; all: ${detail}`);
      assert.equal(seen[i].reconnects, 0, `${d.label}: reconnected by itself; all: ${detail}`);
      assert.equal(d.socket.connected, false, `${d.label}: still connected`);
      assert.equal(d.socket.active, false, `${d.label}: the client plans to reconnect`);
    }
  });

  test('a token whose exp passed 2 s ago is refused (SPEC: a past exp is rejected)', async () => {
    const token = mintToken(server.key, { owner_id: SEED.owner.id, iat: nowSeconds() - 60, exp: nowSeconds() - 2 }, {});
    const res = await http(server, 'GET', '/orders', { token });
    const socket = await expectRefused(server, { token, label: 'exp 2 s ago' }).then(
      (err) => err.message,
      (err) => err.message,
    );
    assert.deepEqual(
      { socket, http: res.status },
      { socket: 'unauthorized', http: 401 },
      'a token 2 s past its exp still logs in (the server allows a leeway past exp)',
    );
  });
});
