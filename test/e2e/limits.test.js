// What one socket or account may do: emits are rate limited (then the
// socket is disconnected), and an account keeps at most its newest 20
// sockets on a node.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { connectV4, loginSeedOwner, makeTest, once, startServer } from './helpers.js';

let server;
const test = makeTest(() => server);
before(async () => { server = await startServer(); });
after(async () => server?.stop());

describe('socket limits', () => {
  test('a socket that floods emits is disconnected by the server; others of the account stay', async (t) => {
    const owner = await loginSeedOwner(server);
    const calm = t.track(await connectV4(server, { token: owner.token, label: 'calm' }));
    const flood = t.track(await connectV4(server, { token: owner.token, label: 'flood' }));
    const gone = once(flood.socket, 'disconnect', 5000, 'the flooder\'s disconnect');
    for (let i = 0; i < 100; i++) flood.socket.emit('SUBMIT_ORDER', { owner_id: 1 });
    // The server disconnects it; its packets still in flight then reach a
    // namespace it left, and (as with Node's server) the connection closes:
    // the client sees one of the two.
    assert.match(await gone, /^(io server disconnect|transport close)$/);
    await server.waitForOutput(/socket emits too fast: disconnected/);
    await calm.flush();
    assert.ok(calm.socket.connected);
  });

  test('the 21st socket of an account drops the oldest', async (t) => {
    const owner = await loginSeedOwner(server);
    const devices = [];
    for (let i = 0; i < 20; i++) devices.push(t.track(await connectV4(server, { token: owner.token, label: `d${i}` })));
    const oldestGone = once(devices[0].socket, 'disconnect', 5000, 'the oldest socket\'s disconnect');
    const newest = t.track(await connectV4(server, { token: owner.token, label: 'd20' }));
    assert.equal(await oldestGone, 'io server disconnect');
    await Promise.all([newest, ...devices.slice(1)].map((d) => d.flush()));
    assert.ok(devices.slice(1).every((d) => d.socket.connected));
  });
});
