// Who gets SUBMIT_ORDER / APPROVAL_ORDER, how often, and with what payload
// (SPEC §1, §2, §4): every device of the recipient exactly once, nobody
// else, ids that collide between clients and owners never cross, and the
// legacy browser emits are acked but never relayed or forged.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  APPROVAL_MESSAGE,
  APPROVAL_ORDER,
  ISO_TIME,
  SEED,
  SUBMIT_MESSAGE,
  SUBMIT_ORDER,
  acceptOrder,
  connectV2,
  connectV4,
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

/** Asserts a SUBMIT_ORDER payload against the POST /order response. */
function assertSubmitPayload(p, order, label) {
  assert.equal(p.message, SUBMIT_MESSAGE, `${label}: message`);
  assert.ok(Number.isInteger(p.notification_id) && p.notification_id > 0, `${label}: notification_id ${p.notification_id}`);
  assert.equal(p.order_id, order.order_id, `${label}: order_id`);
  assert.equal(p.store_id, order.store_id, `${label}: store_id`);
  assert.equal(p.total_price, order.total_price, `${label}: total_price`);
  assertRecent(p.created_at, label);
}

/** Asserts an APPROVAL_ORDER payload against the order. */
function assertApprovalPayload(p, order, label) {
  assert.equal(p.message, APPROVAL_MESSAGE, `${label}: message`);
  assert.ok(Number.isInteger(p.notification_id) && p.notification_id > 0, `${label}: notification_id ${p.notification_id}`);
  assert.equal(p.order_id, order.order_id, `${label}: order_id`);
  assert.equal(p.store_id, order.store_id, `${label}: store_id`);
  assertRecent(p.created_at, label);
}

function assertRecent(createdAt, label) {
  assert.equal(typeof createdAt, 'string', `${label}: created_at is a string`);
  assert.match(createdAt, ISO_TIME, `${label}: created_at is ISO 8601`);
  const ms = Date.parse(createdAt);
  assert.ok(Math.abs(Date.now() - ms) < 60_000, `${label}: created_at ${createdAt} is not about now`);
}

/** The only alerts a device received (other events are not alerts). */
function assertOnly(device, expected) {
  const got = device.alerts().map((e) => e.event);
  assert.deepEqual(got, expected, `${device.label} received ${JSON.stringify(device.events)}`);
}

/** A device of someone the order is none of their business of: no event at all. */
function assertNothing(device) {
  assert.deepEqual(device.events, [], `${device.label} received ${JSON.stringify(device.events)}`);
}

describe('alerts', () => {
  test('every device of the owner gets SUBMIT_ORDER once, every device of the client APPROVAL_ORDER once, nobody else anything', async (t) => {
    const owner = await newOwnerWithStore(server, 'multi-owner');
    const otherOwner = await newOwnerWithStore(server, 'other-owner');
    const client = await signupAndLogin(server, 'client', 'multi-client');

    const ownerDevices = [
      t.track(await connectV4(server, { token: owner.token, label: 'owner v4 polling+upgrade' })),
      t.track(await connectV4(server, { token: owner.token, transports: ['websocket'], label: 'owner v4 websocket' })),
      t.track(await connectV2(server, { token: owner.token, label: 'owner v2 polling+upgrade' })),
      t.track(await connectV2(server, { token: owner.token, transports: ['websocket'], label: 'owner v2 websocket' })),
      // Two that never upgrade: each long-poll reads the broadcast's packet
      // itself, while the WebSockets above share its encoded frame.
      t.track(await connectV4(server, { token: owner.token, transports: ['polling'], label: 'owner v4 polling 1' })),
      t.track(await connectV4(server, { token: owner.token, transports: ['polling'], label: 'owner v4 polling 2' })),
    ];
    const otherOwnerDevice = t.track(await connectV4(server, { token: otherOwner.token, label: 'other owner v4' }));
    const clientDevices = [
      t.track(await connectV4(server, { token: client.token, label: 'client v4' })),
      t.track(await connectV2(server, { token: client.token, label: 'client v2' })),
    ];
    const everyone = [...ownerDevices, otherOwnerDevice, ...clientDevices];

    const [ramen, pickle] = owner.menus;
    const order = await placeOrder(server, client.token, owner.storeId, [
      { menu_id: ramen.menu_id, count: 2 },
      { menu_id: pickle.menu_id, count: 1 },
    ]);
    assert.equal(order.owner_id, owner.id);
    assert.equal(order.store_id, owner.storeId);
    assert.equal(order.status, 0);
    assert.equal(order.total_price, 2 * ramen.price + pickle.price);
    assert.ok(Number.isInteger(order.order_id) && order.order_id > 0);

    await Promise.all(ownerDevices.map((d) => d.waitFor(SUBMIT_ORDER, (p) => p.order_id === order.order_id)));
    // Anything the server queued while handling POST /order is now in
    // front of these acks.
    await Promise.all(everyone.map((d) => d.flush()));

    const submitIds = new Set();
    for (const d of ownerDevices) {
      assertOnly(d, [SUBMIT_ORDER]);
      const [p] = d.received(SUBMIT_ORDER);
      assertSubmitPayload(p, order, d.label);
      submitIds.add(p.notification_id);
    }
    assert.equal(submitIds.size, 1, 'all devices got the same alert (one notification_id)');
    assertNothing(otherOwnerDevice);
    for (const d of clientDevices) assertOnly(d, []);

    const accepted = await acceptOrder(server, owner.token, order.order_id);
    assert.deepEqual(
      { order_id: accepted.order_id, client_id: accepted.client_id, status: accepted.status },
      { order_id: order.order_id, client_id: client.id, status: 1 },
    );

    await Promise.all(clientDevices.map((d) => d.waitFor(APPROVAL_ORDER, (p) => p.order_id === order.order_id)));
    await Promise.all(everyone.map((d) => d.flush()));

    const approvalIds = new Set();
    for (const d of clientDevices) {
      assertOnly(d, [APPROVAL_ORDER]);
      const [p] = d.received(APPROVAL_ORDER);
      assertApprovalPayload(p, order, d.label);
      approvalIds.add(p.notification_id);
    }
    assert.equal(approvalIds.size, 1, 'all client devices got the same alert');
    const [approvalId] = approvalIds;
    const [submitId] = submitIds;
    assert.ok(approvalId > submitId, `approval ${approvalId} is a newer notification than submit ${submitId}`);
    for (const d of ownerDevices) assertOnly(d, [SUBMIT_ORDER]);
    assertNothing(otherOwnerDevice);
  });

  test('client 1 and owner 1 share an id but never each other’s alerts', async (t) => {
    const owner = await loginSeedOwner(server);
    const client = await loginSeedClient(server);
    // The documented seed: the collision is the point of this test.
    assert.equal(owner.id, SEED.owner.id);
    assert.equal(client.id, SEED.client.id);
    assert.equal(owner.id, client.id);

    const ownerDevice = t.track(await connectV4(server, { token: owner.token, label: 'owner 1' }));
    const clientDevice = t.track(await connectV4(server, { token: client.token, label: 'client 1' }));
    const legacyClient = t.track(await connectV2(server, { token: client.token, label: 'client 1 v2' }));
    const clientDevices = [clientDevice, legacyClient];
    const all = [ownerDevice, ...clientDevices];

    const [m1, , m3] = SEED.menus;
    const order = await placeOrder(server, client.token, SEED.storeId, [
      { menu_id: m1.menu_id, count: 1 },
      { menu_id: m3.menu_id, count: 2 },
    ]);
    assert.equal(order.owner_id, SEED.owner.id);
    assert.equal(order.total_price, m1.price + 2 * m3.price);

    await ownerDevice.waitFor(SUBMIT_ORDER, (p) => p.order_id === order.order_id);
    await Promise.all(all.map((d) => d.flush()));
    assertOnly(ownerDevice, [SUBMIT_ORDER]);
    assertSubmitPayload(ownerDevice.received(SUBMIT_ORDER)[0], order, 'owner 1');
    for (const d of clientDevices) assertOnly(d, []);

    await acceptOrder(server, owner.token, order.order_id);
    await Promise.all(clientDevices.map((d) => d.waitFor(APPROVAL_ORDER, (p) => p.order_id === order.order_id)));
    await Promise.all(all.map((d) => d.flush()));
    for (const d of clientDevices) {
      assertOnly(d, [APPROVAL_ORDER]);
      assertApprovalPayload(d.received(APPROVAL_ORDER)[0], order, d.label);
    }
    assertOnly(ownerDevice, [SUBMIT_ORDER]);
  });

  test('forged legacy emits are refused in the ack and reach nobody; legitimate ones are acked ok and not relayed', async (t) => {
    const ownerB = await newOwnerWithStore(server, 'owner-b');
    const clientC = await signupAndLogin(server, 'client', 'client-c');
    const clientX = await signupAndLogin(server, 'client', 'client-x');
    // Both clients have an order, just not with owner B: "has some order"
    // must not pass for "has an order with that user".
    const [m1] = SEED.menus;
    await placeOrder(server, clientC.token, SEED.storeId, [{ menu_id: m1.menu_id, count: 1 }]);
    await placeOrder(server, clientX.token, SEED.storeId, [{ menu_id: m1.menu_id, count: 1 }]);

    const b = t.track(await connectV4(server, { token: ownerB.token, label: 'owner B' }));
    const c = t.track(await connectV4(server, { token: clientC.token, label: 'client C' }));
    const cLegacy = t.track(await connectV2(server, { token: clientC.token, label: 'client C v2' }));
    const x = t.track(await connectV4(server, { token: clientX.token, label: 'client X' }));
    const xLegacy = t.track(await connectV2(server, { token: clientX.token, label: 'client X v2' }));
    const all = [b, c, cLegacy, x, xLegacy];

    // A client with no order at B claims to have ordered there.
    for (const d of [c, cLegacy]) {
      const ack = await d.emitWithAck(SUBMIT_ORDER, { owner_id: ownerB.id });
      assert.equal(ack?.ok, false, `${d.label}: forged SUBMIT_ORDER ack ${JSON.stringify(ack)}`);
      assert.equal(typeof ack.message, 'string');
    }
    // Owner B claims to have accepted an order of X, who never ordered there.
    const forgedApproval = await b.emitWithAck(APPROVAL_ORDER, { client_id: clientX.id });
    assert.equal(forgedApproval?.ok, false, `forged APPROVAL_ORDER ack ${JSON.stringify(forgedApproval)}`);
    assert.equal(typeof forgedApproval.message, 'string');

    await Promise.all(all.map((d) => d.flush()));
    for (const d of all) assertNothing(d);

    // The legitimate flow of the original pages: HTTP, then the emit.
    const [ramen] = ownerB.menus;
    const order = await placeOrder(server, clientC.token, ownerB.storeId, [{ menu_id: ramen.menu_id, count: 3 }]);
    const ack = await c.emitWithAck(SUBMIT_ORDER, { owner_id: ownerB.id });
    assert.equal(ack?.ok, true, `legitimate SUBMIT_ORDER ack ${JSON.stringify(ack)}`);
    await b.waitFor(SUBMIT_ORDER, (p) => p.order_id === order.order_id);
    await Promise.all(all.map((d) => d.flush()));
    assertOnly(b, [SUBMIT_ORDER]);
    assertSubmitPayload(b.received(SUBMIT_ORDER)[0], order, 'owner B');
    for (const d of [c, cLegacy]) assertOnly(d, []);
    for (const d of [x, xLegacy]) assertNothing(d);

    await acceptOrder(server, ownerB.token, order.order_id);
    const approvalAck = await b.emitWithAck(APPROVAL_ORDER, { client_id: clientC.id });
    assert.equal(approvalAck?.ok, true, `legitimate APPROVAL_ORDER ack ${JSON.stringify(approvalAck)}`);
    await Promise.all([c, cLegacy].map((d) => d.waitFor(APPROVAL_ORDER, (p) => p.order_id === order.order_id)));
    await Promise.all(all.map((d) => d.flush()));
    for (const d of [c, cLegacy]) {
      assertOnly(d, [APPROVAL_ORDER]);
      assertApprovalPayload(d.received(APPROVAL_ORDER)[0], order, d.label);
    }
    assertOnly(b, [SUBMIT_ORDER]);
    for (const d of [x, xLegacy]) assertNothing(d);
  });
});
