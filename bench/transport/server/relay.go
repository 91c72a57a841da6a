package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	nws "github.com/lesismal/nbio/nbhttp/websocket"
)

// relay is the Node original's emit flow (bench/node-relay.mjs) on nbio's
// poller, with just enough Engine.IO 4 and Socket.IO 5 over WebSocket for
// loadgen -flow emit: the open packet, the default namespace's CONNECT
// with auth {token} (HS256; the room is the token's owner_id or
// client_id), pings every 25 s spread over the interval, and
// SUBMIT_ORDER {owner_id} / APPROVAL_ORDER {client_id} relayed to that
// room with the original's message added. It keeps one object of its own
// per connection. A measurement of what a protocol layer of our own could
// cost, not a server: no polling, no acks, no namespaces but "/", no pong
// timeout, no Redis.
type relay struct {
	key []byte

	mu    sync.Mutex
	rooms map[int64][]*member
	all   []*member // for the pings; member.slot is its index
	sids  atomic.Uint64
}

// member is a connection's state: its room, once CONNECTed.
type member struct {
	c    *nws.Conn
	room int64 // 0 until the namespace CONNECT
	slot int
}

const pingInterval = 25 * time.Second

// serveRelay serves the relay's WebSocket at /socket.io/ on mux; stop
// ends its pings and its poller.
func serveRelay(mux *http.ServeMux, conns *atomic.Int64, key string) (stop func(), err error) {
	r := &relay{key: []byte(key), rooms: map[int64][]*member{}}
	u, engine, err := pollerUpgrader()
	if err != nil {
		return nil, err
	}
	u.KeepaliveTime = pingInterval + 20*time.Second // a pong is due every 25 s
	u.OnMessage(func(c *nws.Conn, _ nws.MessageType, data []byte) {
		if m, ok := c.Session().(*member); ok {
			r.onMessage(m, data)
		}
	})
	u.OnClose(func(c *nws.Conn, _ error) {
		if m, ok := c.Session().(*member); ok {
			r.leave(m)
			conns.Add(-1)
		}
	})
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, req *http.Request) {
		c, err := u.UpgradeAndTransferConnToPoller(w, req, nil)
		if err != nil {
			return
		}
		m := &member{c: c}
		c.SetSession(m)
		r.mu.Lock()
		m.slot = len(r.all)
		r.all = append(r.all, m)
		r.mu.Unlock()
		conns.Add(1)
		sid := r.sids.Add(1)
		_ = c.WriteMessage(nws.TextMessage, fmt.Appendf(nil,
			`0{"sid":"e%019d","upgrades":[],"pingInterval":%d,"pingTimeout":20000,"maxPayload":1000000}`,
			sid, pingInterval.Milliseconds()))
	})
	done := make(chan struct{})
	go r.pings(done)
	return func() { close(done); engine.Stop() }, nil
}

// pings sends every connection a ping once per interval, a 25th of them
// each second, until done is closed.
func (r *relay) pings(done <-chan struct{}) {
	const steps = 25
	ping := []byte("2")
	tick := time.NewTicker(pingInterval / steps)
	defer tick.Stop()
	for step := 0; ; step = (step + 1) % steps {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		due := make([]*nws.Conn, 0, len(r.all)/steps+1)
		for i := step; i < len(r.all); i += steps {
			due = append(due, r.all[i].c)
		}
		r.mu.Unlock()
		for _, c := range due {
			_ = c.WriteMessage(nws.TextMessage, ping)
		}
	}
}

func (r *relay) leave(m *member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.all[len(r.all)-1]
	r.all[m.slot], last.slot = last, m.slot
	r.all = r.all[:len(r.all)-1]
	if m.room == 0 {
		return
	}
	members := r.rooms[m.room]
	for i, x := range members {
		if x == m {
			members[i] = members[len(members)-1]
			members = members[:len(members)-1]
			break
		}
	}
	if len(members) == 0 {
		delete(r.rooms, m.room)
	} else {
		r.rooms[m.room] = members
	}
}

func (r *relay) onMessage(m *member, data []byte) {
	switch {
	case len(data) == 1 && data[0] == '3': // pong
	case bytes.HasPrefix(data, []byte("40")):
		r.connect(m, data[2:])
	case bytes.HasPrefix(data, []byte("42[")) && m.room != 0:
		r.event(data[2:])
	}
}

// connect answers the default namespace's CONNECT: a valid token joins
// its room, anything else gets CONNECT_ERROR "unauthorized".
func (r *relay) connect(m *member, data []byte) {
	var auth struct {
		Token string `json:"token"`
	}
	var claims struct {
		OwnerID  int64 `json:"owner_id"`
		ClientID int64 `json:"client_id"`
		jwt.RegisteredClaims
	}
	if json.Unmarshal(data, &auth) != nil || auth.Token == "" {
		_ = m.c.WriteMessage(nws.TextMessage, []byte(`44{"message":"unauthorized"}`))
		return
	}
	_, err := jwt.ParseWithClaims(auth.Token, &claims, func(*jwt.Token) (any, error) { return r.key, nil },
		jwt.WithValidMethods([]string{"HS256"}))
	room := claims.OwnerID
	if room == 0 {
		room = claims.ClientID
	}
	if err != nil || room == 0 || m.room != 0 {
		_ = m.c.WriteMessage(nws.TextMessage, []byte(`44{"message":"unauthorized"}`))
		return
	}
	r.mu.Lock()
	m.room = room
	r.rooms[room] = append(r.rooms[room], m)
	r.mu.Unlock()
	_ = m.c.WriteMessage(nws.TextMessage, fmt.Appendf(nil, `40{"sid":"s%019d"}`, r.sids.Add(1)))
}

var relayed = map[string]struct{ idKey, message string }{
	"SUBMIT_ORDER":   {"owner_id", "주문이 들어왔습니다."},
	"APPROVAL_ORDER": {"client_id", "주문이 승인되었습니다."},
}

// event relays SUBMIT_ORDER {owner_id} and APPROVAL_ORDER {client_id} to
// that room, the payload as sent with the message first: one encoding for
// every member.
func (r *relay) event(data []byte) {
	var args []json.RawMessage
	if json.Unmarshal(data, &args) != nil || len(args) < 2 {
		return
	}
	var name string
	if json.Unmarshal(args[0], &name) != nil {
		return
	}
	ev, ok := relayed[name]
	if !ok {
		return
	}
	var payload map[string]json.RawMessage
	if json.Unmarshal(args[1], &payload) != nil {
		return
	}
	room, err := strconv.ParseInt(string(payload[ev.idKey]), 10, 64)
	if err != nil {
		return
	}
	body := bytes.TrimSpace(args[1])
	frame := make([]byte, 0, 64+len(body))
	frame = append(frame, `42["`...)
	frame = append(frame, name...)
	frame = append(frame, `",{"message":`...)
	frame = strconv.AppendQuote(frame, ev.message)
	if rest := bytes.TrimSpace(body[1 : len(body)-1]); len(rest) > 0 {
		frame = append(frame, ',')
		frame = append(frame, rest...)
	}
	frame = append(frame, "}]"...)
	r.mu.Lock()
	members := append([]*member(nil), r.rooms[room]...)
	r.mu.Unlock()
	for _, x := range members {
		_ = x.c.WriteMessage(nws.TextMessage, frame)
	}
}
