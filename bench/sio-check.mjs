// sio-check.mjs — the same measurement as `loadgen -flow http`, made with
// the official socket.io-client (v4, WebSocket transport) instead of the
// generator's own minimal client, to check that the generator's latency
// figures agree with it at a low rate.
//
//   node bench/sio-check.mjs --url http://127.0.0.1:3300 \
//        --accounts /tmp/ob-accounts.json --conns 300 --rate 50 --duration 20
//
// --accounts is a file written by `loadgen -accounts-out` (ids, tokens,
// stores, menus), so both tools act as the same users. The script uses the
// packages already installed for the end-to-end tests (test/node_modules).
// It only targets loopback addresses and stops by itself.

import http from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { loopbackOrigin, parseFlags } from './flags.mjs';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { io } = require('socket.io-client');

function parseArgs(argv) {
  const opts = parseFlags(argv,
    { url: 'http://127.0.0.1:3000', accounts: '', conns: 300, ownerShare: 0.2, ownerDevices: 2, rate: 50, duration: 20, drain: 5, json: '' },
    { '--url': 'url', '--accounts': 'accounts', '--conns': 'conns', '--owner-share': 'ownerShare', '--rate': 'rate', '--duration': 'duration', '--drain': 'drain', '--json': 'json' });
  opts.url = loopbackOrigin(opts.url);
  if (!opts.accounts) throw new Error('--accounts <file from loadgen -accounts-out> is required');
  if (!(opts.conns >= 2 && opts.conns <= 5000)) throw new Error('--conns must be 2..5000');
  if (!(opts.rate > 0 && opts.rate <= 2000)) throw new Error('--rate must be 1..2000');
  if (!(opts.duration >= 1 && opts.duration <= 120)) throw new Error('--duration must be 1..120 s');
  return opts;
}

// Nearest-rank percentile, as loadgen computes it.
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 1000) / 1000;
  return { count: s.length, p50_ms: r(percentile(s, 50)), p95_ms: r(percentile(s, 95)), p99_ms: r(percentile(s, 99)), max_ms: r(s.at(-1) ?? 0) };
}

const sleep = (ms) => new Promise((res) => setTimeout(res, Math.max(0, ms)));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const set = JSON.parse(readFileSync(opts.accounts, 'utf8'));
  const nOwners = Math.max(1, Math.round((opts.conns * opts.ownerShare) / opts.ownerDevices));
  const nClients = opts.conns - nOwners * opts.ownerDevices;
  if (set.owners.length < nOwners || set.clients.length < nClients) throw new Error('not enough accounts in the file');
  const owners = set.owners.slice(0, nOwners);
  const clients = set.clients.slice(0, nClients);

  // orders: id -> {c, o, submitAt, approveAt, got: Set of device keys}
  const orders = new Map();
  const early = new Map();
  const submitLat = [];
  const approvalLat = [];
  let duplicated = 0, wrong = 0, httpErrors = 0;

  function settle(dev, event, orderId, at) {
    const rec = orders.get(orderId);
    if (!rec) {
      if (!early.has(orderId)) early.set(orderId, []);
      early.get(orderId).push([dev, event, at]);
      return;
    }
    const key = `${dev.role}:${dev.account}:${dev.slot}`;
    if (event === 'SUBMIT_ORDER') {
      if (dev.role !== 'owner' || dev.account !== rec.o) { wrong++; return; }
      if (rec.got.has(key)) { duplicated++; return; }
      rec.got.add(key);
      submitLat.push(at - rec.submitAt);
    } else {
      if (dev.role !== 'client' || dev.account !== rec.c || rec.approveAt === undefined) { wrong++; return; }
      if (rec.got.has(key)) { duplicated++; return; }
      rec.got.add(key);
      approvalLat.push(at - rec.approveAt);
    }
  }

  const devices = [];
  owners.forEach((a, i) => { for (let s = 0; s < opts.ownerDevices; s++) devices.push({ role: 'owner', account: i, slot: s, token: a.token }); });
  clients.forEach((a, i) => devices.push({ role: 'client', account: i, slot: 0, token: a.token }));

  const connectStart = performance.now();
  for (let i = 0; i < devices.length; i += 50) {
    await Promise.all(devices.slice(i, i + 50).map((dev) => new Promise((resolve, reject) => {
      const sock = io(opts.url, { transports: ['websocket'], auth: { token: dev.token }, reconnection: false, forceNew: true, timeout: 20000 });
      dev.sock = sock;
      for (const event of ['SUBMIT_ORDER', 'APPROVAL_ORDER']) {
        sock.on(event, (payload) => settle(dev, event, payload?.order_id, performance.now()));
      }
      sock.once('connect', resolve);
      sock.once('connect_error', (err) => reject(new Error(`connect_error: ${err.message}`)));
    })));
  }
  const connectSecs = (performance.now() - connectStart) / 1000;
  console.error(`socket.io-client: ${devices.length} connected in ${connectSecs.toFixed(2)} s`);

  // node:http with keep-alive rather than fetch: fetch (undici) costs
  // ~0.25 ms more per request here, which would show up as latency.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  function call(method, path, token, body) {
    const data = body ? JSON.stringify(body) : undefined;
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (data) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    return new Promise((resolve, reject) => {
      const req = http.request(opts.url + path, { method, headers, agent, timeout: 10000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let parsed = null;
          try { parsed = JSON.parse(Buffer.concat(chunks).toString()); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(data);
    });
  }

  async function order(i) {
    const c = i % clients.length;
    const o = c % owners.length;
    const submitAt = performance.now();
    const placed = await call('POST', '/order', clients[c].token, { store_id: owners[o].store_id, items: [{ menu_id: owners[o].menu_id, count: 1 }] }).catch(() => ({ status: 0 }));
    if (placed.status !== 201) { httpErrors++; return; }
    const id = placed.body.order_id;
    const rec = { c, o, submitAt, approveAt: undefined, got: new Set() };
    orders.set(id, rec);
    for (const [dev, event, at] of early.get(id) ?? []) settle(dev, event, id, at);
    early.delete(id);
    rec.approveAt = performance.now();
    const accepted = await call('PATCH', `/order-receive/${id}`, owners[o].token).catch(() => ({ status: 0 }));
    if (accepted.status !== 200) { httpErrors++; rec.approveFailed = true; }
  }

  const total = Math.floor(opts.rate * opts.duration);
  const pending = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    await sleep(start + (i * 1000) / opts.rate - performance.now());
    pending.push(order(i));
  }
  await Promise.all(pending);
  const expected = () => [...orders.values()].reduce((n, r) => n + opts.ownerDevices + (r.approveFailed ? 0 : 1), 0);
  const received = () => [...orders.values()].reduce((n, r) => n + r.got.size, 0);
  const drainEnd = performance.now() + opts.drain * 1000;
  while (received() < expected() && performance.now() < drainEnd) await sleep(10);
  await sleep(200);
  for (const dev of devices) dev.sock.close();

  const result = {
    tool: 'socket.io-client 4.8.4 (bench/sio-check.mjs)',
    conns: devices.length, rate: opts.rate, duration_s: opts.duration, connect_s: connectSecs,
    orders_placed: orders.size, deliveries_expected: expected(), deliveries_received: received(),
    lost: expected() - received(), duplicated, wrong_user: wrong, unmatched: [...early.values()].reduce((n, l) => n + l.length, 0), http_errors: httpErrors,
    latency: summarize([...submitLat, ...approvalLat]),
    latency_submit_order: summarize(submitLat),
    latency_approval_order: summarize(approvalLat),
  };
  const l = result.latency;
  console.log(`socket.io-client: ${result.orders_placed} orders at ${opts.rate}/s, deliveries ${result.deliveries_received}/${result.deliveries_expected}, lost ${result.lost}, dup ${duplicated}, wrong ${wrong}, unmatched ${result.unmatched}, HTTP errors ${httpErrors}`);
  console.log(`socket.io-client: latency p50 ${l.p50_ms} p95 ${l.p95_ms} p99 ${l.p99_ms} max ${l.max_ms} ms; SUBMIT_ORDER p50 ${result.latency_submit_order.p50_ms} p99 ${result.latency_submit_order.p99_ms}; APPROVAL_ORDER p50 ${result.latency_approval_order.p50_ms} p99 ${result.latency_approval_order.p99_ms}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
  else console.log(JSON.stringify(result, null, 2));
}

const timer = setTimeout(() => { console.error('sio-check: hard stop after 180 s'); process.exit(2); }, 180_000);
timer.unref();
main().then(() => process.exit(0), (err) => { console.error('sio-check:', err.message); process.exit(1); });
