// The server hands out the v4 browser client at /socket.io/socket.io.js
// (and .min.js), as the Node server does, for pages that load it there.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { makeTest, startServer } from './helpers.js';

let server;
const test = makeTest(() => server);
before(async () => { server = await startServer(); });
after(async () => server?.stop());

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist');

describe('the browser client', () => {
  for (const name of ['socket.io.js', 'socket.io.min.js']) {
    test(`GET /socket.io/${name} is the npm package's v4 bundle`, async () => {
      const res = await fetch(`${server.url}/socket.io/${name}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /javascript/);
      const body = await res.text();
      assert.equal(body, readFileSync(path.join(dist, name), 'utf8'));
      assert.match(body, /Socket\.IO v4\./);
    });
  }
});
