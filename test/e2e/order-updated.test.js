// ORDER_UPDATED, orderbell's addition to the protocol: the party a change
// sent no alert to hears of it, so every device of both parties knows.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  APPROVAL_ORDER, SUBMIT_ORDER, acceptOrder, connectV2, connectV4, expectStatus, http, makeTest,
  newOwnerWithStore, placeOrder, signupAndLogin, startServer,
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

describe('X-Socket-Id: the device that made the change', () => {
  // A page sends its socket.id with POST /order and PATCH /order-receive
  // (as Laravel Echo's X-Socket-ID): that device has the answer to its
  // request, so the change's ORDER_UPDATED skips it; the party's other
  // devices still get it, and every alert still goes to every device.
  test('is not told again; its other devices are, and another account\'s socket id changes nothing', async (t) => {
    const owner = await newOwnerWithStore(server, 'origin');
    const client = await signupAndLogin(server, 'client', 'origin-client');
    const stranger = await newOwnerWithStore(server, 'origin-stranger');
    const ownerA = t.track(await connectV4(server, { token: owner.token, label: 'owner A' }));
    const ownerB = t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'owner B' }));
    // The old protocol's socket id (the Engine.IO id) works as well.
    const phone = t.track(await connectV2(server, { token: client.token, label: 'client phone (v2)' }));
    const pc = t.track(await connectV4(server, { token: client.token, label: 'client PC' }));
    const other = t.track(await connectV4(server, { token: stranger.token, label: 'stranger' }));
    assert.ok(phone.socket.id && pc.socket.id && ownerA.socket.id, 'every socket has an id');

    const items = [{ menu_id: owner.menus[0].menu_id, count: 1 }];
    const order = (sid) => http(server, 'POST', '/order', {
      token: client.token, body: { store_id: owner.storeId, items }, headers: { 'X-Socket-Id': sid },
    });
    const first = expectStatus(await order(phone.socket.id), 201, 'order from the phone');
    const byId = (id) => (p) => p.order_id === id;
    await pc.waitFor(ORDER_UPDATED, byId(first.order_id));
    await Promise.all([ownerA, ownerB].map((d) => d.waitFor(SUBMIT_ORDER, byId(first.order_id))));

    expectStatus(await http(server, 'PATCH', `/order-receive/${first.order_id}`, {
      token: owner.token, headers: { 'X-Socket-Id': ownerA.socket.id },
    }), 200, 'accept from owner A');
    await ownerB.waitFor(ORDER_UPDATED, byId(first.order_id));
    await Promise.all([phone, pc].map((d) => d.waitFor(APPROVAL_ORDER, byId(first.order_id))));

    // Another account's socket is not in this party's room: nothing skipped.
    const second = expectStatus(await order(other.socket.id), 201, 'order naming the stranger\'s socket');
    await Promise.all([phone, pc].map((d) => d.waitFor(ORDER_UPDATED, byId(second.order_id))));
    await Promise.all([ownerA, ownerB].map((d) => d.waitFor(SUBMIT_ORDER, byId(second.order_id))));

    // A skip is its own change's only: the phone's next order skips it,
    // and the order after that, naming no socket, reaches it again.
    const third = expectStatus(await order(phone.socket.id), 201, 'another order from the phone');
    await pc.waitFor(ORDER_UPDATED, byId(third.order_id));
    const fourth = expectStatus(await order(''), 201, 'an order naming no socket');
    await Promise.all([phone, pc].map((d) => d.waitFor(ORDER_UPDATED, byId(fourth.order_id))));
    await Promise.all([ownerA, ownerB].map((d) => d.waitFor(SUBMIT_ORDER, byId(fourth.order_id))));

    await Promise.all([ownerA, ownerB, phone, pc, other].map((d) => d.flush()));
    const seen = (d) => d.events.map((e) => `${e.event} ${e.data.order_id}`);
    const [f, s, t3, t4] = [first.order_id, second.order_id, third.order_id, fourth.order_id];
    assert.deepEqual(seen(phone), [`${APPROVAL_ORDER} ${f}`, `${ORDER_UPDATED} ${s}`, `${ORDER_UPDATED} ${t4}`]);
    assert.deepEqual(seen(pc), [`${ORDER_UPDATED} ${f}`, `${APPROVAL_ORDER} ${f}`, `${ORDER_UPDATED} ${s}`,
      `${ORDER_UPDATED} ${t3}`, `${ORDER_UPDATED} ${t4}`]);
    assert.deepEqual(seen(ownerA), [`${SUBMIT_ORDER} ${f}`, `${SUBMIT_ORDER} ${s}`, `${SUBMIT_ORDER} ${t3}`, `${SUBMIT_ORDER} ${t4}`]);
    assert.deepEqual(seen(ownerB), [`${SUBMIT_ORDER} ${f}`, `${ORDER_UPDATED} ${f}`, `${SUBMIT_ORDER} ${s}`,
      `${SUBMIT_ORDER} ${t3}`, `${SUBMIT_ORDER} ${t4}`]);
    assert.deepEqual(seen(other), []);
  });

  test('a value that is no socket id is refused and changes nothing', async () => {
    const owner = await newOwnerWithStore(server, 'origin-bad');
    const client = await signupAndLogin(server, 'client', 'origin-bad-client');
    const res = await http(server, 'POST', '/order', {
      token: client.token,
      body: { store_id: owner.storeId, items: [{ menu_id: owner.menus[0].menu_id, count: 1 }] },
      headers: { 'X-Socket-Id': 'not a socket id' },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /X-Socket-Id/);
    const orders = expectStatus(await http(server, 'GET', '/orders', { token: client.token }), 200, 'GET /orders');
    assert.deepEqual(orders, []);
  });
});

describe('delivery order', () => {
  // Each account's devices get what concerns them in the order it was
  // committed: an owner's alerts in id order (a device reconnects with the
  // highest id it got and is replayed only what comes after it), an order's
  // acceptance after its placing. Many customers order at once here, and
  // the owner accepts each order the moment its alert arrives.
  test('concurrent orders reach the owner in id order; each order\'s placing reaches every device before its acceptance', async (t) => {
    const owner = await newOwnerWithStore(server, 'rush');
    const customers = await Promise.all(Array.from({ length: 8 }, (_, i) => signupAndLogin(server, 'client', `rush-${i}`)));
    const ownerA = t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'owner A' }));
    const ownerB = t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'owner B' }));
    const phones = await Promise.all(customers.map((c, i) =>
      connectV4(server, { token: c.token, transports: ['websocket'], label: `customer ${i}` }).then((d) => t.track(d))));

    const accepts = [];
    ownerA.socket.on(SUBMIT_ORDER, (p) => accepts.push(acceptOrder(server, owner.token, p.order_id)));
    const perCustomer = 6;
    const orders = (await Promise.all(customers.map(async (c) => {
      const placed = [];
      for (let i = 0; i < perCustomer; i++) {
        placed.push(placeOrder(server, c.token, owner.storeId, [{ menu_id: owner.menus[0].menu_id, count: 1 }]));
      }
      return Promise.all(placed);
    }))).flat();
    const total = orders.length;
    await Promise.all([ownerA, ownerB].map((d) => d.waitFor(ORDER_UPDATED, (p) => p.status === 1, { count: total, timeoutMs: 15_000 })));
    await Promise.all(accepts);
    await Promise.all(phones.map((d) => d.waitFor(APPROVAL_ORDER, () => true, { count: perCustomer, timeoutMs: 15_000 })));
    await Promise.all([ownerA, ownerB, ...phones].map((d) => d.flush()));

    for (const d of [ownerA, ownerB]) {
      const ids = d.received(SUBMIT_ORDER).map((p) => p.notification_id);
      assert.equal(ids.length, total, `${d.label}: ${ids.length} alerts for ${total} orders`);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${d.label}: alerts out of id order`);
      assertEachBefore(d, SUBMIT_ORDER, ORDER_UPDATED, orders);
    }
    for (const d of phones) {
      assertEachBefore(d, ORDER_UPDATED, APPROVAL_ORDER, orders);
      const ids = d.received(APPROVAL_ORDER).map((p) => p.notification_id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${d.label}: alerts out of id order`);
    }
  });
});

/** Asserts that, for every order the device heard of, `first` came before `then`, each once. */
function assertEachBefore(device, first, then, orders) {
  for (const o of orders) {
    const seq = device.events.filter((e) => e.data?.order_id === o.order_id).map((e) => e.event);
    if (seq.length === 0) continue;
    assert.deepEqual(seq, [first, then], `${device.label}, order ${o.order_id}: got ${seq.join(', ')}`);
  }
}
