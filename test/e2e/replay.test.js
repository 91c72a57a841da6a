// Missed alerts (SPEC §4): a handshake with auth.last_notification_id = N
// first gets the account's stored alerts with id > N, in order, once, then
// live ones; a legacy client that passes nothing gets live alerts only.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  APPROVAL_ORDER,
  ISO_TIME,
  SEED,
  SUBMIT_MESSAGE,
  SUBMIT_ORDER,
  acceptOrder,
  connectV2,
  connectV4,
  expectRefused,
  loginSeedClient,
  loginSeedOwner,
  makeTest,
  newOwnerWithStore,
  placeOrder,
  signupAndLogin,
  startServer,
} from './helpers.js';

let server;
const test = makeTest(() => server);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const orderIds = (device, event = SUBMIT_ORDER) => device.received(event).map((p) => p.order_id);
/** The alerts a device received, as "EVENT#order_id", in arrival order. */
const allEvents = (device) => device.alerts().map((e) => `${e.event}#${e.data?.order_id}`);

function assertAscendingOnce(device) {
  const ids = device.alerts().map((e) => e.data.notification_id);
  assert.equal(new Set(ids).size, ids.length, `${device.label}: an alert arrived twice: ${JSON.stringify(device.alerts())}`);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${device.label}: alerts out of order: ${ids}`);
}

describe('replay of missed alerts', () => {
  test('an owner reconnecting with last_notification_id gets the missed alerts in order, once, before live ones; legacy clients only live ones', async (t) => {
    const owner = await newOwnerWithStore(server, 'replay-owner');
    const client = await signupAndLogin(server, 'client', 'replay-client');
    const [ramen, pickle] = owner.menus;

    // The owner's page saw one alert, then went away.
    const first = t.track(await connectV4(server, { token: owner.token, label: 'owner before reload' }));
    const seenOrder = await placeOrder(server, client.token, owner.storeId, [{ menu_id: pickle.menu_id, count: 1 }]);
    const [seen] = await first.waitFor(SUBMIT_ORDER, (p) => p.order_id === seenOrder.order_id);
    const lastSeen = seen.notification_id;
    first.close();

    // While it is offline: three orders for it, and alerts for others in
    // between (another owner's order, the seed owner's), so its alert ids
    // are not contiguous.
    const other = await newOwnerWithStore(server, 'replay-other');
    const missed = [];
    for (const count of [1, 2, 3]) {
      missed.push(await placeOrder(server, client.token, owner.storeId, [{ menu_id: ramen.menu_id, count }]));
      await placeOrder(server, client.token, other.storeId, [{ menu_id: other.menus[0].menu_id, count }]);
    }
    assert.deepEqual(missed.map((o) => o.total_price), [1, 2, 3].map((n) => n * ramen.price));

    const back = t.track(await connectV4(server, { token: owner.token, lastNotificationId: lastSeen, label: 'owner after reload' }));
    // The replays come before any live alert, so the live one is the barrier.
    const live = await placeOrder(server, client.token, owner.storeId, [{ menu_id: pickle.menu_id, count: 4 }]);
    await back.waitFor(SUBMIT_ORDER, (p) => p.order_id === live.order_id);
    await back.flush();

    assert.deepEqual(
      allEvents(back),
      [...missed, live].map((o) => `${SUBMIT_ORDER}#${o.order_id}`),
      'the three missed alerts in order, then the live one, each once',
    );
    assertAscendingOnce(back);
    for (const [i, o] of missed.entries()) {
      const p = back.alerts()[i].data;
      assert.ok(p.notification_id > lastSeen, `replayed ${p.notification_id} is not after ${lastSeen}`);
      assert.equal(p.message, SUBMIT_MESSAGE);
      assert.equal(p.store_id, owner.storeId);
      assert.equal(p.total_price, o.total_price);
      assert.match(p.created_at, ISO_TIME);
    }

    // Legacy pages pass no last_notification_id: live alerts only.
    const legacyV2 = t.track(await connectV2(server, { token: owner.token, label: 'legacy v2 owner' }));
    const legacyV4 = t.track(await connectV4(server, { token: owner.token, label: 'legacy v4 owner' }));
    const next = await placeOrder(server, client.token, owner.storeId, [{ menu_id: ramen.menu_id, count: 5 }]);
    for (const d of [legacyV2, legacyV4, back]) {
      await d.waitFor(SUBMIT_ORDER, (p) => p.order_id === next.order_id);
      await d.flush();
    }
    assert.deepEqual(orderIds(legacyV2), [next.order_id], 'legacy v2 got old alerts or the new one twice');
    assert.deepEqual(orderIds(legacyV4), [next.order_id], 'legacy v4 got old alerts or the new one twice');
    assert.deepEqual(orderIds(back), [...missed, live, next].map((o) => o.order_id));

    // last_notification_id as a numeric string, as localStorage gives it:
    // everything after the second missed alert.
    const afterSecond = back.alerts()[1].data.notification_id;
    const fromString = t.track(
      await connectV4(server, { token: owner.token, lastNotificationId: String(afterSecond), label: 'owner, string id' }),
    );
    const last = await placeOrder(server, client.token, owner.storeId, [{ menu_id: ramen.menu_id, count: 6 }]);
    await fromString.waitFor(SUBMIT_ORDER, (p) => p.order_id === last.order_id);
    await fromString.flush();
    assert.deepEqual(orderIds(fromString), [missed[2], live, next, last].map((o) => o.order_id));
    assertAscendingOnce(fromString);
  });

  test('alerts that arrive while devices are being replayed reach each of them once', async (t) => {
    const owner = await newOwnerWithStore(server, 'race-owner');
    const client = await signupAndLogin(server, 'client', 'race-client');
    const menu = owner.menus[0].menu_id;
    const order = (i) => placeOrder(server, client.token, owner.storeId, [{ menu_id: menu, count: 1 + (i % 9) }]);

    const placed = [];
    for (let i = 0; i < 5; i++) placed.push(await order(i));
    const replayedInOrder = placed.map((o) => o.order_id);
    // Three rounds of: 20 orders placed concurrently while 6 devices
    // connect with last_notification_id 0, so some alerts are committed
    // while a device's replay is being read and emitted. A device must see
    // every alert of the owner exactly once (68 in all: under the replay
    // bound of 100).
    for (let round = 0; round < 3; round++) {
      const placing = Promise.all(Array.from({ length: 20 }, (_, i) => order(i)));
      const devices = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          connectV4(server, {
            token: owner.token,
            lastNotificationId: 0,
            transports: i % 2 ? ['websocket'] : undefined,
            label: `round ${round} device ${i}`,
          }).then((d) => t.track(d)),
        ),
      );
      placed.push(...(await placing));
      const barrier = await order(0);
      placed.push(barrier);
      const want = placed.map((o) => o.order_id).sort((a, b) => a - b);
      for (const d of devices) {
        await d.waitFor(SUBMIT_ORDER, (p) => p.order_id === barrier.order_id);
        await d.flush();
        const got = orderIds(d);
        assert.equal(new Set(got).size, got.length, `${d.label}: an alert arrived twice: ${JSON.stringify(got)}`);
        assert.deepEqual([...got].sort((a, b) => a - b), want, `${d.label}: not every alert once`);
        // The ones stored before the handshake came first, in order.
        assert.deepEqual(got.slice(0, replayedInOrder.length), replayedInOrder, `${d.label}: replay out of order`);
        d.close();
      }
    }
  });

  test('a client reconnecting with last_notification_id gets its missed APPROVAL_ORDERs', async (t) => {
    const owner = await newOwnerWithStore(server, 'approve-owner');
    const client = await signupAndLogin(server, 'client', 'approve-client');
    const [ramen] = owner.menus;
    const orders = [];
    for (let i = 1; i <= 2; i++) {
      orders.push(await placeOrder(server, client.token, owner.storeId, [{ menu_id: ramen.menu_id, count: i }]));
    }
    // Accepted in reverse order while the client is offline.
    for (const o of [...orders].reverse()) await acceptOrder(server, owner.token, o.order_id);

    const device = t.track(await connectV4(server, { token: client.token, lastNotificationId: 0, label: 'client replaying' }));
    const third = await placeOrder(server, client.token, owner.storeId, [{ menu_id: ramen.menu_id, count: 3 }]);
    await acceptOrder(server, owner.token, third.order_id);
    await device.waitFor(APPROVAL_ORDER, (p) => p.order_id === third.order_id);
    await device.flush();
    assert.deepEqual(allEvents(device), [orders[1], orders[0], third].map((o) => `${APPROVAL_ORDER}#${o.order_id}`));
    assertAscendingOnce(device);
  });

  test('replay keeps client 1 and owner 1 apart', async (t) => {
    const owner = await loginSeedOwner(server);
    const client = await loginSeedClient(server);
    assert.equal(owner.id, client.id);

    // Both see one alert live to learn their last ids.
    const o = t.track(await connectV4(server, { token: owner.token, label: 'owner 1 live' }));
    const c = t.track(await connectV4(server, { token: client.token, label: 'client 1 live' }));
    const warmup = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: SEED.menus[0].menu_id, count: 1 }]);
    const [ownerSeen] = await o.waitFor(SUBMIT_ORDER, (p) => p.order_id === warmup.order_id);
    await acceptOrder(server, owner.token, warmup.order_id);
    const [clientSeen] = await c.waitFor(APPROVAL_ORDER, (p) => p.order_id === warmup.order_id);
    o.close();
    c.close();

    // Offline: an order and its acceptance, so both rooms have a missed alert.
    const missed = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: SEED.menus[2].menu_id, count: 2 }]);
    await acceptOrder(server, owner.token, missed.order_id);

    const o2 = t.track(await connectV4(server, { token: owner.token, lastNotificationId: ownerSeen.notification_id, label: 'owner 1 back' }));
    const c2 = t.track(await connectV4(server, { token: client.token, lastNotificationId: clientSeen.notification_id, label: 'client 1 back' }));
    // Barrier: a live order (rings owner 1) and its acceptance (rings client 1).
    const barrier = await placeOrder(server, client.token, SEED.storeId, [{ menu_id: SEED.menus[1].menu_id, count: 1 }]);
    await o2.waitFor(SUBMIT_ORDER, (p) => p.order_id === barrier.order_id);
    await acceptOrder(server, owner.token, barrier.order_id);
    await c2.waitFor(APPROVAL_ORDER, (p) => p.order_id === barrier.order_id);
    await Promise.all([o2.flush(), c2.flush()]);

    assert.deepEqual(allEvents(o2), [missed, barrier].map((x) => `${SUBMIT_ORDER}#${x.order_id}`));
    assert.deepEqual(allEvents(c2), [missed, barrier].map((x) => `${APPROVAL_ORDER}#${x.order_id}`));
  });

  test('an invalid last_notification_id is refused with connect_error', async () => {
    const owner = await loginSeedOwner(server);
    const err = await expectRefused(server, { token: owner.token, lastNotificationId: 'abc', label: 'last_notification_id abc' });
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
  });
});
