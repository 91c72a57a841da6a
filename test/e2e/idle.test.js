// IDLE_TIMEOUT: the server closes an HTTP keep-alive connection left idle
// between requests (a page's, once its socket has upgraded), but never a
// long-poll it holds nor a WebSocket, which are not idle.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { SUBMIT_ORDER, connectV4, loginSeedClient, loginSeedOwner, makeTest, once, placeOrder, startServer } from './helpers.js';

const IDLE_MS = 1000;
let server;
const test = makeTest(() => server);
before(async () => { server = await startServer({ env: { IDLE_TIMEOUT: `${IDLE_MS}ms` } }); });
after(async () => server?.stop());

/** A raw keep-alive connection that has made one request; resolves it with the time its answer came. */
async function keptAlive() {
  const conn = net.connect(server.port, '127.0.0.1');
  await once(conn, 'connect');
  conn.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  const answer = String(await once(conn, 'data'));
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(answer, /connection: close/i);
  return { conn, answered: Date.now() };
}

describe(`IDLE_TIMEOUT=${IDLE_MS}ms`, () => {
  test('an idle keep-alive connection is closed; a held long-poll, an upgraded and a WebSocket device ring after it', async (t) => {
    const owner = await loginSeedOwner(server);
    const ws = t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'websocket' }));
    const polling = t.track(await connectV4(server, { token: owner.token, transports: ['polling'], label: 'polling' }));
    const pages = t.track(await connectV4(server, { token: owner.token, label: 'pages' }));
    if (pages.socket.io.engine.transport.name !== 'websocket') {
      await once(pages.socket.io.engine, 'upgrade', 5000, 'the pages device\'s upgrade');
    }

    const { conn, answered } = await keptAlive();
    await once(conn, 'close', 10_000, 'close of the idle connection by the server');
    const idled = Date.now() - answered;
    assert.ok(idled >= IDLE_MS - 50, `closed after ${idled} ms idle, before IDLE_TIMEOUT`);

    // Every device outlived it, the polling one on the GET held all along.
    for (const d of [ws, polling, pages]) assert.ok(d.socket.connected, `${d.label} is still connected`);
    const client = await loginSeedClient(server);
    const order = await placeOrder(server, client.token, 1, [{ menu_id: 2, count: 1 }]);
    for (const d of [ws, polling, pages]) {
      await d.waitFor(SUBMIT_ORDER, (a) => a.order_id === order.order_id);
    }
  });
});
