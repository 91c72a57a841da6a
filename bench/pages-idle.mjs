// pages-idle.mjs — connects N devices the way orderbell's pages do (the
// official socket.io-client v4 with its default transports: long-polling,
// then the upgrade to WebSocket), waits until every one has upgraded, and
// reports how fast they connected and the server's RSS per idle connection.
// loadgen opens WebSockets directly; this measures the other way in.
//
//   node bench/pages-idle.mjs --url http://127.0.0.1:3300 --key benchkey \
//        --pid "$(pgrep -n orderbell)" --conns 2000
//
// Tokens are minted with the key ({client_id: i}), as loadgen's are. The
// script uses the packages installed for the end-to-end tests
// (test/node_modules), only targets loopback addresses and stops by itself.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { loopbackOrigin, parseFlags } from './flags.mjs';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { io } = require('socket.io-client');
const jwt = require('jsonwebtoken');

function parseArgs(argv) {
  const opts = parseFlags(argv,
    { url: 'http://127.0.0.1:3000', key: process.env.ACCESS_TOKEN_KEY || '', pid: 0, conns: 1000, concurrency: 50, settle: 5, base: 2000000 },
    { '--url': 'url', '--key': 'key', '--pid': 'pid', '--conns': 'conns', '--concurrency': 'concurrency', '--settle': 'settle' });
  opts.url = loopbackOrigin(opts.url);
  if (!opts.key) throw new Error('--key (or ACCESS_TOKEN_KEY) is required');
  if (!(opts.pid > 0)) throw new Error('--pid <server pid> is required');
  if (!(opts.conns >= 1 && opts.conns <= 5000)) throw new Error('--conns must be 1..5000');
  if (!(opts.concurrency >= 1 && opts.concurrency <= 200)) throw new Error('--concurrency must be 1..200');
  return opts;
}

const rssKB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// connect opens one device and resolves once it is connected and upgraded.
function connect(opts, id) {
  const now = Math.floor(Date.now() / 1000);
  const token = jwt.sign({ client_id: id, iat: now, exp: now + 3600 }, opts.key, { algorithm: 'HS256' });
  const socket = io(opts.url, { auth: { token }, forceNew: true, reconnection: false, timeout: 30000 });
  return new Promise((resolve, reject) => {
    let connected = false;
    let upgraded = false;
    const done = () => connected && upgraded && resolve(socket);
    socket.on('connect', () => { connected = true; done(); });
    socket.on('connect_error', (err) => reject(new Error(`device ${id}: ${err.message}`)));
    socket.io.engine.on('upgrade', () => { upgraded = true; done(); });
    socket.io.engine.on('upgradeError', (err) => reject(new Error(`device ${id}: upgrade failed: ${err.message}`)));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const before = rssKB(opts.pid);
  const sockets = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (next < opts.conns) {
      const id = opts.base + next++;
      sockets.push(await connect(opts, id));
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  await sleep(opts.settle * 1000);
  const after = rssKB(opts.pid);
  const polling = sockets.filter((s) => s.io.engine.transport.name !== 'websocket').length;
  const report = {
    conns: sockets.length,
    upgraded: sockets.length - polling,
    seconds: Math.round(seconds * 100) / 100,
    conns_per_s: Math.round(sockets.length / seconds),
    rss_before_kb: before,
    rss_after_kb: after,
    kb_per_conn: Math.round(((after - before) / sockets.length) * 10) / 10,
  };
  console.log(`${report.conns} devices by polling then WebSocket (${report.upgraded} upgraded) in ${report.seconds} s = ${report.conns_per_s}/s; ` +
    `server RSS ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB = ${report.kb_per_conn} KB per connection`);
  console.log(JSON.stringify(report));
  for (const s of sockets) s.close();
  if (polling > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
