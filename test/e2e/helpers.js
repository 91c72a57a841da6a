// Shared helpers of orderbell's end-to-end tests: start the real server
// binary on a fresh database, log in, mint tokens, connect real Socket.IO
// clients (v4 and v2), record what they receive and wait for it.
//
// The binary is never built here: it comes from ORDERBELL_BIN (default
// ../orderbell relative to test/, i.e. the repository root's build).

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as nodeTest } from 'node:test';
import { promisify } from 'node:util';

import jwt from 'jsonwebtoken';
import { io as ioV4 } from 'socket.io-client';
import ioV2 from 'socket.io-client-v2';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.resolve(here, '..');

export const SUBMIT_ORDER = 'SUBMIT_ORDER';
export const APPROVAL_ORDER = 'APPROVAL_ORDER';
export const ALERT_EVENTS = [SUBMIT_ORDER, APPROVAL_ORDER];
export const SUBMIT_MESSAGE = '주문이 들어왔습니다.';
export const APPROVAL_MESSAGE = '주문이 승인되었습니다.';

/** The documented seed of an empty database (see the brief / SPEC §5). */
export const SEED = {
  owner: { role: 'owner', id: 1, email: 'owner@demo.orderbell', password: 'demo-owner-1234' },
  client: { role: 'client', id: 1, email: 'client@demo.orderbell', password: 'demo-client-1234' },
  storeId: 1,
  menus: [
    { menu_id: 1, price: 4500 },
    { menu_id: 2, price: 5000 },
    { menu_id: 3, price: 3500 },
  ],
};

/** How long any single expected event may take to arrive. */
export const EVENT_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------
// The server process

/** The orderbell binary under test; throws a clear error when it is missing. */
export function serverBinary() {
  const bin = process.env.ORDERBELL_BIN
    ? path.resolve(process.cwd(), process.env.ORDERBELL_BIN)
    : path.resolve(testDir, '..', 'orderbell');
  let ok = false;
  try {
    ok = statSync(bin).isFile();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `orderbell binary not found at ${bin}. The e2e tests do not build it: ` +
        `run "cd /work/main && go build -o orderbell ." (or build it elsewhere) ` +
        `and point ORDERBELL_BIN at it.`,
    );
  }
  return bin;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function mysqlArgs() {
  return [
    `-u${process.env.ORDERBELL_MYSQL_USER || 'root'}`,
    `-h${process.env.ORDERBELL_MYSQL_HOST || '127.0.0.1'}`,
    `-P${process.env.ORDERBELL_MYSQL_PORT || '3306'}`,
  ];
}

/**
 * A fresh, empty database for one server: a temp SQLite file by default, a
 * new MariaDB/MySQL database when ORDERBELL_DATABASE=mysql. drop() removes it.
 */
export async function freshDatabase() {
  const kind = (process.env.ORDERBELL_DATABASE || 'sqlite').toLowerCase();
  if (kind === 'mysql' || kind === 'mariadb') {
    const name = `ob_e2e_${randomBytes(6).toString('hex')}`;
    await execFileP('mysql', [...mysqlArgs(), '-e', `CREATE DATABASE ${name}`]);
    const host = process.env.ORDERBELL_MYSQL_HOST || '127.0.0.1';
    const port = process.env.ORDERBELL_MYSQL_PORT || '3306';
    const user = process.env.ORDERBELL_MYSQL_USER || 'root';
    return {
      kind: 'mysql',
      url: `mysql://${user}@${host}:${port}/${name}`,
      drop: async () => {
        await execFileP('mysql', [...mysqlArgs(), '-e', `DROP DATABASE IF EXISTS ${name}`]);
      },
    };
  }
  if (kind !== 'sqlite') throw new Error(`ORDERBELL_DATABASE must be sqlite or mysql, not ${kind}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orderbell-e2e-'));
  return {
    kind: 'sqlite',
    url: `sqlite:${path.join(dir, 'orderbell.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const LISTENING = /msg=listening addr=(\S+)/;

/**
 * Starts the orderbell binary on a free port and a fresh database and
 * resolves once it logged `msg=listening` (event-driven, with a timeout).
 * The returned object has url, port, key (the ACCESS_TOKEN_KEY), output()
 * (everything the process printed so far), waitForOutput(re) and stop().
 */
export async function startServer({ env = {}, timeoutMs = 20000, database, key: sharedKey, port: fixedPort } = {}) {
  const bin = serverBinary();
  const port = fixedPort ?? (await freePort());
  // Several nodes share one database and key: the caller then owns both.
  const db = database ?? (await freshDatabase());
  const ownsDatabase = !database;
  const key = sharedKey ?? `e2e-${randomBytes(16).toString('hex')}`;
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME || os.tmpdir(),
      PORT: String(port),
      HOST: '127.0.0.1',
      ACCESS_TOKEN_KEY: key,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'debug',
      // The suites order and log in far faster than people from one
      // address; the limits themselves are tested in router/limits_test.go.
      RATE_LIMIT_ORDERS: '100000-M',
      RATE_LIMIT_LOGINS_PER_ADDRESS: '100000-M',
      // LEAN_WEBSOCKET from ORDERBELL_LEAN_WEBSOCKET: the Makefile runs the
      // suites once more with the lean layer off (the library alone).
      ...(process.env.ORDERBELL_LEAN_WEBSOCKET ? { LEAN_WEBSOCKET: process.env.ORDERBELL_LEAN_WEBSOCKET } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    out += d;
  });

  const server = {
    port,
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    key,
    database: db,
    child,
    output: () => out,
    // Resolves once the output matches re. The server's log lines come
    // through a pipe, apart from its sockets and HTTP answers, so a line
    // written before an answer can still be on its way when the answer
    // arrives.
    waitForOutput(re, timeoutMs = EVENT_TIMEOUT_MS) {
      if (re.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onData = () => {
          if (!re.test(out)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`the server did not log ${re} within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.stderr.off('data', onData);
        };
        // Listeners run in the order added: these after the ones that
        // append to out.
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsDatabase) await db.drop();
    },
    exited,
  };

  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`orderbell did not log "msg=listening" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onData = (d) => {
        out += d;
        const m = LISTENING.exec(out);
        if (m) {
          clearTimeout(timer);
          if (m[1] !== server.url) {
            reject(new Error(`orderbell listens on ${m[1]}, expected ${server.url}`));
          } else {
            resolve();
          }
        }
      };
      child.stdout.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`orderbell exited before listening (code ${code}, signal ${signal})`));
      });
    });
  } catch (err) {
    await server.stop().catch(() => {});
    err.message += `\n--- orderbell output ---\n${out}`;
    throw err;
  }
  // Keep draining stdout after the listening line.
  child.stdout.removeAllListeners('data');
  child.stdout.on('data', (d) => {
    out += d;
  });
  return server;
}

/**
 * test() whose failures print the server's output, and which closes every
 * socket opened through the given `t.track` when the test ends.
 * getServers returns the server(s) whose logs matter.
 */
export function makeTest(getServers) {
  const wrapped = (name, opts, fn) => {
    if (typeof opts === 'function') {
      fn = opts;
      opts = {};
    }
    return nodeTest(name, opts, async (t) => {
      const sockets = [];
      const servers = () => [getServers()].flat().filter(Boolean);
      const marks = new Map(servers().map((s) => [s, s.output().length]));
      t.track = (device) => {
        sockets.push(device);
        return device;
      };
      try {
        await fn(t);
      } catch (err) {
        for (const s of servers()) {
          const from = marks.get(s) ?? 0;
          process.stderr.write(
            `\n--- orderbell output (${s.url}) during failed test "${name}"` +
              `${from ? ` (from byte ${from})` : ''} ---\n${s.output().slice(from)}\n--- end ---\n`,
          );
        }
        throw err;
      } finally {
        for (const d of sockets) d.close();
      }
    });
  };
  return wrapped;
}

// ---------------------------------------------------------------------------
// HTTP

/**
 * One HTTP request. opts: token (sent as the accessToken cookie), bearer,
 * body (JSON), headers. Resolves {status, body, headers}; body is parsed
 * JSON when it is JSON.
 */
export async function http(server, method, urlPath, { token, bearer, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.cookie = `accessToken=${token}`;
  if (bearer) h.authorization = `Bearer ${bearer}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(server.url + urlPath, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') || '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers, text };
}

/** Asserts the status and returns the body, with a readable failure. */
export function expectStatus(res, status, what) {
  if (res.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${res.text}`);
  }
  return res.body;
}

export function uniqueEmail(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}@e2e.orderbell`;
}

/** Logs in; resolves {id, role, token}. */
export async function login(server, role, email, password) {
  const res = await http(server, 'POST', '/login', { body: { role, email, password } });
  const body = expectStatus(res, 200, `login ${role} ${email}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('accessToken='));
  if (!cookie) throw new Error(`login ${email}: no accessToken cookie in ${res.headers.getSetCookie()}`);
  const token = cookie.slice('accessToken='.length).split(';')[0];
  return { id: body.id, role: body.role, token };
}

/** Signs up and logs in a new account; resolves {id, role, token, email}. */
export async function signupAndLogin(server, role, prefix = role) {
  const email = uniqueEmail(prefix);
  const password = 'e2e-password-123';
  const res = await http(server, 'POST', '/signup', {
    body: { role, email, password, nickname: `${prefix} ${randomBytes(2).toString('hex')}` },
  });
  const created = expectStatus(res, 201, `signup ${role}`);
  const acct = await login(server, role, email, password);
  if (acct.id !== created.id) throw new Error(`signup said id ${created.id}, login said ${acct.id}`);
  return { ...acct, email };
}

export const loginSeedOwner = (server) => login(server, 'owner', SEED.owner.email, SEED.owner.password);
export const loginSeedClient = (server) => login(server, 'client', SEED.client.email, SEED.client.password);

/**
 * A new owner with a store and two menus (prices 7000 and 1200); resolves
 * {id, token, storeId, menus: [{menu_id, price}]}.
 */
export async function newOwnerWithStore(server, prefix = 'owner') {
  const owner = await signupAndLogin(server, 'owner', prefix);
  const store = expectStatus(
    await http(server, 'POST', '/stores', { token: owner.token, body: { name: `${prefix} 가게` } }),
    201,
    'create store',
  );
  const menus = [];
  for (const [name, price] of [['라면', 7000], ['단무지', 1200]]) {
    const m = expectStatus(
      await http(server, 'POST', `/stores/${store.store_id}/menus`, { token: owner.token, body: { name, price } }),
      201,
      'create menu',
    );
    menus.push({ menu_id: m.menu_id, price });
  }
  return { ...owner, storeId: store.store_id, menus };
}

/** POST /order, asserting 201; resolves the response body. */
export async function placeOrder(server, token, storeId, items) {
  return expectStatus(
    await http(server, 'POST', '/order', { token, body: { store_id: storeId, items } }),
    201,
    `order at store ${storeId}`,
  );
}

/** PATCH /order-receive/:id, asserting 200; resolves the response body. */
export async function acceptOrder(server, token, orderId) {
  return expectStatus(await http(server, 'PATCH', `/order-receive/${orderId}`, { token }), 200, `accept order ${orderId}`);
}

/** The caller's stored alerts with id > after (GET /notifications). */
export async function notificationsAfter(server, token, after = 0) {
  return expectStatus(await http(server, 'GET', `/notifications?after=${after}`, { token }), 200, 'GET /notifications');
}

// ---------------------------------------------------------------------------
// Tokens

/** Signs a token with jsonwebtoken, as the original Node backend did. */
export function mintToken(key, payload, options = { expiresIn: '1h' }) {
  return jwt.sign(payload, key, { algorithm: 'HS256', ...options });
}

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/** An unsigned alg:none token, crafted by hand. */
export function unsignedToken(payload) {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------
// Socket.IO devices

/**
 * A connected Socket.IO client plus everything it received. The recorder
 * is attached before the connection starts, so events sent right after
 * the handshake (replays) are not missed.
 */
class Device {
  constructor(socket, version, label) {
    this.socket = socket;
    this.version = version;
    this.label = label;
    this.events = [];
    this.waiters = [];
  }

  record(event, args) {
    this.events.push({ event, data: args[0], at: Date.now() });
    for (const w of [...this.waiters]) w.check();
  }

  /**
   * The alerts received (SUBMIT_ORDER / APPROVAL_ORDER), in arrival order,
   * as {event, data}. Other events (orderbell may add its own, e.g. state
   * updates) are kept in .events but are not alerts.
   */
  alerts() {
    return this.events.filter((e) => ALERT_EVENTS.includes(e.event));
  }

  /** Received events named `event` (payloads), optionally filtered. */
  received(event, pred = () => true) {
    return this.events.filter((e) => e.event === event && pred(e.data)).map((e) => e.data);
  }

  /**
   * Resolves with the payloads once `count` events named `event` matching
   * pred have arrived (counting ones already received); rejects after
   * timeoutMs with what did arrive.
   */
  waitFor(event, pred = () => true, { count = 1, timeoutMs = EVENT_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const got = this.received(event, pred);
          if (got.length >= count) {
            clearTimeout(timer);
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            resolve(got);
          }
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `${this.label}: waited ${timeoutMs} ms for ${count} × ${event}; got ${JSON.stringify(this.events)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
      waiter.check();
    });
  }

  /** Emits with an ack callback and resolves with the ack's first argument. */
  emitWithAck(event, data, timeoutMs = EVENT_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no ack for ${event} ${JSON.stringify(data)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.socket.emit(event, data, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
    });
  }

  /**
   * Proves the pipe from the server to this device is flushed: every emit
   * the server queued for this socket before now arrives before the ack of
   * a message sent now. The message is a legacy emit about user 0, who does
   * not exist, so it can ring nobody.
   */
  async flush() {
    const ack = await this.emitWithAck(SUBMIT_ORDER, { owner_id: 0 });
    if (!ack || typeof ack.ok !== 'boolean') {
      throw new Error(`${this.label}: flush ack is not {ok, message}: ${JSON.stringify(ack)}`);
    }
  }

  close() {
    this.socket.close();
  }
}

/**
 * Connects a v4 client. opts: token, lastNotificationId (sent as
 * auth.last_notification_id when not undefined), auth (extra auth keys),
 * transports, extraHeaders, reconnection (default false), label.
 * Resolves the Device on `connect`; rejects with the connect_error.
 */
export function connectV4(server, opts = {}) {
  const device = openV4(server, opts);
  return device.connected.then(() => device);
}

/** Like connectV4 but returns the Device at once, with .connected a promise. */
export function openV4(server, { token, lastNotificationId, auth = {}, transports, extraHeaders, reconnection = false, label = 'v4', timeoutMs = EVENT_TIMEOUT_MS } = {}) {
  const a = { ...auth };
  if (token !== undefined) a.token = token;
  if (lastNotificationId !== undefined) a.last_notification_id = lastNotificationId;
  const socket = ioV4(server.url, {
    autoConnect: false,
    forceNew: true,
    reconnection,
    auth: a,
    ...(transports ? { transports } : {}),
    ...(extraHeaders ? { extraHeaders } : {}),
  });
  const device = new Device(socket, 4, label);
  socket.onAny((event, ...args) => device.record(event, args));
  device.connected = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`${label}: neither connect nor connect_error within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(device);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      if (!reconnection) socket.close();
      reject(err);
    });
  });
  device.connected.catch(() => {});
  socket.connect();
  return device;
}

/**
 * Connects a v2 (Engine.IO 3) client with the accessToken cookie, as the
 * original browser pages did. transports defaults to v2's polling+upgrade.
 */
export function connectV2(server, { token, transports, label = 'v2', timeoutMs = EVENT_TIMEOUT_MS } = {}) {
  const cookie = token ? { cookie: `accessToken=${token}` } : {};
  const wsOnly = transports && transports.length === 1 && transports[0] === 'websocket';
  const socket = ioV2(server.url, {
    autoConnect: false,
    forceNew: true,
    reconnection: false,
    ...(transports ? { transports } : {}),
    transportOptions: { polling: { extraHeaders: cookie }, websocket: { extraHeaders: cookie } },
    ...(wsOnly ? { extraHeaders: cookie } : {}),
  });
  const device = new Device(socket, 2, label);
  // v2 has no onAny: record the events of the protocol, and orderbell's.
  for (const ev of [SUBMIT_ORDER, APPROVAL_ORDER, 'ORDER_UPDATED']) socket.on(ev, (...args) => device.record(ev, args));
  const connected = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`${label}: neither connect nor error within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(device);
    });
    const fail = (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    // v2 reports a middleware refusal as 'error'; transport failures as connect_error.
    socket.once('error', fail);
    socket.once('connect_error', fail);
  });
  socket.open();
  return connected;
}

/** Resolves the connect_error a refused v4 handshake gets (rejects on connect). */
export async function expectRefused(server, opts) {
  const device = openV4(server, { ...opts, reconnection: false });
  try {
    await device.connected;
  } catch (err) {
    return err;
  }
  device.close();
  throw new Error(`${opts.label || 'socket'}: handshake was accepted, expected a connect_error`);
}

/** Resolves once `emitter` emits `event` (first argument), or rejects after timeoutMs. */
export function once(emitter, event, timeoutMs = EVENT_TIMEOUT_MS, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (arg) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}

export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;


/** Every stored alert of the account, oldest first, paging through GET /notifications. */
export async function storedAlerts(server, token) {
  const all = [];
  for (;;) {
    const after = all.length ? all[all.length - 1].notification_id : 0;
    const page = expectStatus(await http(server, 'GET', `/notifications?after=${after}`, { token }), 200, 'GET /notifications');
    if (!page.length) return all;
    all.push(...page);
  }
}

/** Resolves as promise does, or rejects after timeoutMs naming what was awaited. */
export function withTimeout(promise, what, timeoutMs = 15_000) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs); }),
  ]);
}
