// Several orderbell nodes on one database (MariaDB) and one Redis: every
// emit reaches the sockets of every node, a node can stop without losing
// an alert, and a Node socket.io server on the same Redis (a fleet in the
// middle of its migration) gets orderbell's alerts for its own sockets.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

import { createAdapter } from '@socket.io/redis-adapter';
import jwt from 'jsonwebtoken';
import { createClient } from 'redis';
import { Server as NodeIOServer } from 'socket.io';
import { io as ioV4 } from 'socket.io-client';

import {
  APPROVAL_ORDER, SUBMIT_ORDER, SUBMIT_MESSAGE, acceptOrder, connectV4, freePort, freshDatabase, makeTest,
  newOwnerWithStore, placeOrder, signupAndLogin, startServer, storedAlerts, withTimeout,
} from './helpers.js';

const REDIS_URL = process.env.ORDERBELL_REDIS_URL || 'redis://127.0.0.1:6379/0';
const WAIT = 10_000;

// Every run has its own Redis channel prefix, so parallel runs never meet.
const redisKey = `orderbell-e2e-${randomBytes(4).toString('hex')}`;
const key = `e2e-${randomBytes(16).toString('hex')}`;
let database;
let nodeA;
let nodeB;
const test = makeTest(() => [nodeA, nodeB]);

async function startNode() {
  return startServer({ database, key, env: { REDIS_URL, REDIS_KEY: redisKey } });
}

before(async () => {
  // Two processes on one database need a server database: MariaDB, even
  // when the rest of the suite runs on SQLite.
  const kind = process.env.ORDERBELL_DATABASE;
  process.env.ORDERBELL_DATABASE = 'mysql';
  try {
    database = await freshDatabase();
  } finally {
    if (kind === undefined) delete process.env.ORDERBELL_DATABASE;
    else process.env.ORDERBELL_DATABASE = kind;
  }
  nodeA = await startNode();
  nodeB = await startNode();
});

after(async () => {
  await nodeA?.stop();
  await nodeB?.stop();
  await database?.drop();
});

describe('several nodes', () => {
  test('an order sent to node B rings the owner on both nodes once; accepting on A rings the customer on B', async (t) => {
    const owner = await newOwnerWithStore(nodeA, 'multi');
    const client = await signupAndLogin(nodeB, 'client', 'multi-client');
    const ownerOnA = t.track(await connectV4(nodeA, { token: owner.token, label: 'owner on A' }));
    const ownerOnB = t.track(await connectV4(nodeB, { token: owner.token, transports: ['websocket'], label: 'owner on B' }));
    const clientOnB = t.track(await connectV4(nodeB, { token: client.token, label: 'client on B' }));

    const order = await placeOrder(nodeB, client.token, owner.storeId, [{ menu_id: owner.menus[0].menu_id, count: 2 }]);
    for (const device of [ownerOnA, ownerOnB]) {
      const [alert] = await device.waitFor(SUBMIT_ORDER, (a) => a.order_id === order.order_id, { timeoutMs: WAIT });
      // The payload crossed Redis (msgpack) with every key intact.
      assert.equal(alert.message, SUBMIT_MESSAGE);
      assert.equal(alert.store_id, owner.storeId);
      assert.equal(alert.total_price, order.total_price);
      assert.ok(alert.notification_id > 0 && typeof alert.created_at === 'string');
    }

    await acceptOrder(nodeA, owner.token, order.order_id);
    await clientOnB.waitFor(APPROVAL_ORDER, (a) => a.order_id === order.order_id, { timeoutMs: WAIT });

    // Each device's pipe is flushed: whatever was sent to it has arrived.
    await Promise.all([ownerOnA.flush(), ownerOnB.flush(), clientOnB.flush()]);
    for (const device of [ownerOnA, ownerOnB]) {
      assert.deepEqual(device.alerts().map((a) => [a.event, a.data.order_id]), [[SUBMIT_ORDER, order.order_id]], device.label);
    }
    assert.deepEqual(clientOnB.alerts().map((a) => [a.event, a.data.order_id]), [[APPROVAL_ORDER, order.order_id]]);
    // Debug logs of every request and handshake, and still no token in them.
    for (const node of [nodeA, nodeB]) {
      for (const token of [owner.token, client.token]) assert.ok(!node.output().includes(token), 'a token was logged');
    }
    assert.ok(!nodeA.output().includes(key), 'the key was logged');
  });

  test('stopping a node under a stream of orders loses no alert: its devices reconnect to the other node and are replayed', async () => {
    const owner = await newOwnerWithStore(nodeA, 'failover');
    const clients = await Promise.all([1, 2, 3, 4].map((i) => signupAndLogin(nodeA, 'client', `failover-client-${i}`)));
    const spare = await startNode();
    // A load balancer of the test's own: new connections go to the first
    // node that is up, as a real one does after a health check fails.
    const lb = await balancer([spare, nodeB]);
    const seen = [];
    let lastId = 0;
    const device = ioV4(lb.url, {
      forceNew: true,
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      auth: (cb) => cb({ token: owner.token, last_notification_id: lastId }),
    });
    let streaming = true;
    try {
      device.on(SUBMIT_ORDER, (a) => {
        seen.push(a.notification_id);
        lastId = Math.max(lastId, a.notification_id);
      });
      await withTimeout(new Promise((resolve) => device.once('connect', resolve)), 'the first connection');

      // Four customers order at ~25/s each, to node B, before, during and
      // after node "spare" stops (paced: replay is bounded to 100 alerts).
      const stream = Promise.all(clients.map(async (client) => {
        while (streaming) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          await placeOrder(nodeB, client.token, owner.storeId, [{ menu_id: owner.menus[1].menu_id, count: 1 }]);
        }
      }));
      const count = (n) => withTimeout(new Promise((resolve) => {
        const check = () => { if (seen.length >= n) resolve(); };
        device.on(SUBMIT_ORDER, check);
        check();
      }), `${n} alerts (got ${seen.length})`);
      await count(30);
      const reconnected = new Promise((resolve) => device.io.once('reconnect', resolve));
      await spare.stop(); // SIGTERM: the node closes its sockets and exits
      await withTimeout(reconnected, 'the reconnect to node B');
      await count(seen.length + 30);
      streaming = false;
      await stream;

      // The database is the oracle: every stored alert arrived once.
      const stored = (await storedAlerts(nodeB, owner.token)).map((a) => a.notification_id);
      await count(stored.length);
      await new Promise((resolve) => device.emit(SUBMIT_ORDER, { owner_id: 0 }, resolve)); // flush
      assert.deepEqual([...seen].sort((a, b) => a - b), stored);
      assert.equal(spare.child.exitCode, 0, 'the stopped node exits cleanly on SIGTERM');
      assert.match(spare.output(), /msg=stopped/);
    } finally {
      streaming = false;
      device.close();
      lb.close();
      await spare.stop();
    }
  });

  test('a Node socket.io server on the same Redis gets orderbell alerts for its own sockets', async () => {
    const owner = await newOwnerWithStore(nodeA, 'legacy-fleet');
    const client = await signupAndLogin(nodeA, 'client', 'legacy-fleet-client');
    const legacy = await nodeServer();
    const device = ioV4(legacy.url, { forceNew: true, auth: { token: owner.token } });
    try {
      const got = [];
      device.on(SUBMIT_ORDER, (a) => got.push(a));
      await new Promise((resolve, reject) => {
        device.once('connect', resolve);
        device.once('connect_error', reject);
      });
      // Listen before ordering: the alert may arrive before the HTTP answer.
      const rang = new Promise((resolve) => device.once(SUBMIT_ORDER, resolve));
      const order = await placeOrder(nodeB, client.token, owner.storeId, [{ menu_id: owner.menus[0].menu_id, count: 1 }]);
      await withTimeout(rang, 'the alert on the Node server');
      await new Promise((resolve) => device.emit('ping-legacy', resolve)); // flush
      assert.equal(got.length, 1);
      assert.equal(got[0].order_id, order.order_id);
      assert.equal(got[0].message, SUBMIT_MESSAGE);
      assert.equal(got[0].total_price, order.total_price);
    } finally {
      device.close();
      await legacy.close();
    }
  });
});

// balancer forwards each new TCP connection to the first of `nodes` that
// accepts it.
async function balancer(nodes) {
  const port = await freePort();
  const sockets = new Set();
  const server = net.createServer((inbound) => {
    sockets.add(inbound);
    inbound.on('close', () => sockets.delete(inbound));
    const tryNode = (i) => {
      if (i >= nodes.length) return inbound.destroy();
      const outbound = net.connect(nodes[i].port, '127.0.0.1');
      outbound.once('error', () => tryNode(i + 1));
      outbound.once('connect', () => {
        sockets.add(outbound);
        outbound.on('close', () => { sockets.delete(outbound); inbound.destroy(); });
        inbound.on('close', () => outbound.destroy());
        inbound.pipe(outbound).pipe(inbound);
      });
    };
    tryNode(0);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

// nodeServer is the original backend's shape: Node socket.io 4 with the
// Redis adapter, the same key, rooms per account.
async function nodeServer() {
  const pub = createClient({ url: REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const io = new NodeIOServer(http, { adapter: createAdapter(pub, sub, { key: redisKey }) });
  io.use((socket, next) => {
    try {
      const claims = jwt.verify(socket.handshake.auth.token, key, { algorithms: ['HS256'] });
      socket.data.room = claims.owner_id ? `owner:${claims.owner_id}` : `client:${claims.client_id}`;
      next();
    } catch {
      next(new Error('unauthorized'));
    }
  });
  io.on('connection', (socket) => {
    socket.join(socket.data.room);
    socket.on('ping-legacy', (ack) => ack());
  });
  const port = await freePort();
  await new Promise((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise((resolve) => io.close(resolve));
      await Promise.all([pub.quit(), sub.quit()]);
    },
  };
}
