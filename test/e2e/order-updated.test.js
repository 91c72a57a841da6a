// ORDER_UPDATED, orderbell's addition to the protocol: the party a change
// sent no alert to hears of it, so every device of both parties knows.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  APPROVAL_ORDER, SUBMIT_ORDER, acceptOrder, connectV4, makeTest, newOwnerWithStore, placeOrder,
  signupAndLogin, startServer,
} from './helpers.js';

const ORDER_UPDATED = 'ORDER_UPDATED';
let server;
const test = makeTest(() => server);
before(async () => { server = await startServer(); });
after(async () => server?.stop());

describe('ORDER_UPDATED', () => {
  test('placing tells the customer\'s devices, accepting tells the owner\'s; nobody else hears', async (t) => {
    const owner = await newOwnerWithStore(server, 'updated');
    const client = await signupAndLogin(server, 'client', 'updated-client');
    const stranger = await newOwnerWithStore(server, 'stranger');
    const ownerA = t.track(await connectV4(server, { token: owner.token, label: 'owner A' }));
    const ownerB = t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'owner B' }));
    const clientPhone = t.track(await connectV4(server, { token: client.token, label: 'client phone' }));
    const clientPC = t.track(await connectV4(server, { token: client.token, label: 'client PC' }));
    const other = t.track(await connectV4(server, { token: stranger.token, label: 'stranger' }));

    const order = await placeOrder(server, client.token, owner.storeId, [{ menu_id: owner.menus[1].menu_id, count: 2 }]);
    for (const d of [clientPhone, clientPC]) {
      const [u] = await d.waitFor(ORDER_UPDATED, (p) => p.order_id === order.order_id);
      assert.deepEqual(
        { status: u.status, store_id: u.store_id, client_id: u.client_id, owner_id: u.owner_id, total_price: u.total_price },
        { status: 0, store_id: owner.storeId, client_id: client.id, owner_id: owner.id, total_price: order.total_price },
      );
      assert.equal(typeof u.updated_at, 'string');
    }
    await Promise.all([ownerA, ownerB].map((d) => d.waitFor(SUBMIT_ORDER, (p) => p.order_id === order.order_id)));

    await acceptOrder(server, owner.token, order.order_id);
    for (const d of [ownerA, ownerB]) {
      const [u] = await d.waitFor(ORDER_UPDATED, (p) => p.order_id === order.order_id);
      assert.equal(u.status, 1);
    }
    await Promise.all([clientPhone, clientPC].map((d) => d.waitFor(APPROVAL_ORDER, (p) => p.order_id === order.order_id)));

    await Promise.all([ownerA, ownerB, clientPhone, clientPC, other].map((d) => d.flush()));
    const names = (d) => d.events.map((e) => e.event);
    assert.deepEqual(names(ownerA), [SUBMIT_ORDER, ORDER_UPDATED]);
    assert.deepEqual(names(ownerB), [SUBMIT_ORDER, ORDER_UPDATED]);
    assert.deepEqual(names(clientPhone), [ORDER_UPDATED, APPROVAL_ORDER]);
    assert.deepEqual(names(clientPC), [ORDER_UPDATED, APPROVAL_ORDER]);
    assert.deepEqual(names(other), []);
  });
});
