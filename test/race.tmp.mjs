import { startServer, newOwnerWithStore, signupAndLogin, placeOrder, connectV4, SUBMIT_ORDER } from './e2e/helpers.js';
const s = await startServer();
const owner = await newOwnerWithStore(s, 'race');
const client = await signupAndLogin(s, 'client', 'race');
const m = owner.menus[0].menu_id;
let dups = 0, disorder = 0, missing = 0;
const t0 = Date.now();
for (let round = 0; round < 3; round++) {
  const placing = Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(s, client.token, owner.storeId, [{ menu_id: m, count: 1 + (i % 9) }])));
  const devs = await Promise.all(Array.from({ length: 6 }, (_, i) => new Promise((r) => setTimeout(r, i * 3)).then(() => connectV4(s, { token: owner.token, lastNotificationId: 0, transports: ['websocket'] }))));
  await placing;
  const barrier = await placeOrder(s, client.token, owner.storeId, [{ menu_id: m, count: 1 }]);
  for (const d of devs) {
    await d.waitFor(SUBMIT_ORDER, (p) => p.order_id === barrier.order_id);
    await d.flush();
    const ids = d.events.map((e) => e.data.notification_id);
    if (new Set(ids).size !== ids.length) dups++;
    d.close();
  }
}
console.log(process.env.ORDERBELL_BIN, { dups, ms: Date.now() - t0 });
await s.stop();
