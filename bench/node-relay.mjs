// node-relay.mjs — a stand-in for the original Node socket.io server's
// emit flow, to exercise `loadgen -flow emit`: it verifies the accessToken
// (HS256, same key), puts each socket in the room of its bare id (as the
// original did) and relays SUBMIT_ORDER {owner_id} to room owner_id and
// APPROVAL_ORDER {client_id} to room client_id, payload passed through with
// the original's message added. No database. Listens on 127.0.0.1 only.
//
//   ACCESS_TOKEN_KEY=benchkey PORT=3400 taskset -c 0 node bench/node-relay.mjs
//   taskset -c 1 loadgen -flow emit -url http://127.0.0.1:3400 -key benchkey ...

import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { Server } = require('socket.io');
const jwt = require('jsonwebtoken');

const key = process.env.ACCESS_TOKEN_KEY;
if (!key) throw new Error('set ACCESS_TOKEN_KEY');
const port = Number(process.env.PORT || 3400);

const http = createServer((req, res) => { res.writeHead(404).end(); });
const io = new Server(http, { transports: ['websocket', 'polling'] });

io.use((socket, next) => {
  try {
    const claims = jwt.verify(String(socket.handshake.auth?.token ?? ''), key, { algorithms: ['HS256'] });
    socket.data.id = claims.owner_id ?? claims.client_id;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  socket.join(String(socket.data.id));
  socket.on('SUBMIT_ORDER', (data) => {
    io.to(String(data?.owner_id)).emit('SUBMIT_ORDER', { message: '주문이 들어왔습니다.', ...data });
  });
  socket.on('APPROVAL_ORDER', (data) => {
    io.to(String(data?.client_id)).emit('APPROVAL_ORDER', { message: '주문이 승인되었습니다.', ...data });
  });
});

http.listen(port, '127.0.0.1', () => console.error(`node-relay on http://127.0.0.1:${port} (pid ${process.pid})`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { io.close(); process.exit(0); });
