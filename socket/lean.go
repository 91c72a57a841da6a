package socket

// The lean layer, on with Config.Lean (LEAN_WEBSOCKET, on by default):
// every Engine.IO 4 connection, whether it opens a WebSocket directly
// (socket.io-client v4 told transports: ['websocket'], and the load
// generator) or starts with long-polling and upgrades (the pages' own
// client: leanpoll.go), is served by this layer of our own instead of the
// Socket.IO library, on Go's own netpoller: the upgrade by hand, and no
// goroutine, no buffer and no library object per idle connection (about a
// fifth of the library's live heap, so the collector's marks are a tenth
// as long: bench/README.md, twenty-sixth round). A
// connection's socket waits in one process-wide epoll set whose own fd
// waits in the runtime's poller (leanpark_linux.go, the way the engine
// patch's park_linux.go parks its readers); when it is readable, a kept
// goroutine reads what is there without blocking (a raw read on the
// non-blocking fd), handles the frames, and arms the socket again. What
// stays the library's: Engine.IO 3 (socket.io-client v2), JSONP, and
// cross-origin polling when CORS_ORIGINS is set (the library answers its
// CORS); broadcasts reach both.
//
// What it serves: the open packet; the CONNECT with auth.token (or the
// cookie) and last_notification_id, refused as the library refuses it; the
// socket in its account's room, the oldest of an account's sockets
// disconnected past SocketsPerAccount; the replay of missed alerts, behind
// the account's gate, and kept out of their live emits; the legacy emits
// with their acks and the emit limit; pings in a ring of 10 ms steps, each
// socket at a random step, its pong timeout checked there; the connect
// timeout and the login's expiry, at a sweep every second; every broadcast
// written to it too; the connected gauge and the disconnect counters. Not
// served: binary packets (a connection that sends one is closed;
// orderbell's clients send none).

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/utils"
	"golang.org/x/time/rate"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

// leanStep is how often the pinger runs: each run pings the sockets of one
// bucket of the ring (PingInterval / leanStep buckets).
const leanStep = 10 * time.Millisecond

type lean struct {
	s                         *Server
	watch                     *leanWatcher
	stop                      chan struct{}
	pingInterval, pingTimeout time.Duration

	mu      sync.Mutex
	rooms   map[string][]*leanConn // an account's sockets from their CONNECT, oldest first (broadcasts reach the joined)
	polling map[string]*leanConn   // polling sessions by their Engine.IO sid, until they upgrade or end
	buckets [][]*leanConn          // the pinger's ring; every socket is in one
	closing bool
}

// leanConn is one connection: all orderbell keeps of it, with its net.Conn.
type leanConn struct {
	l *lean

	wmu      sync.Mutex // one frame at a time
	conn     net.Conn   // the WebSocket; set under wmu for a polling session that upgrades
	rc       syscall.RawConn
	fd       int32
	gone     atomic.Bool // closed: the watcher arms it no more
	poll     *leanPoll   // under wmu: a polling session's state, nil on a WebSocket (leanpoll.go)
	flushing bool        // under wmu: a flusher has queued output to write
	queued   []byte      // under wmu: what the flusher writes next

	pingedAt atomic.Int64 // the unanswered ping's time (UnixNano), 0 when answered

	// The reader's alone (one runs at a time).
	pending []byte        // a frame's beginning, until the rest arrives (rare)
	cookie  string        // the cookie's token, until the CONNECT
	emits   *rate.Limiter // made at the first emit

	// Set at the CONNECT, under l.mu; read without it only by the reader
	// after the CONNECT, and by broadcasts that found it in a room.
	principal models.Principal
	expires   time.Time
	room      string
	sid       string
	connected prometheus.Gauge
	seen      []int64 // alerts it was replayed, kept out of their live emits until seenUntil
	seenUntil time.Time

	// Under l.mu.
	opened       time.Time
	bucket, slot int
	joined       bool // in its account's room: broadcasts reach it
	ended        bool // out of it, counted
	shut         bool // the connection closed
}

func newLean(s *Server) (*lean, error) {
	w, err := newLeanWatcher()
	if err != nil {
		return nil, err
	}
	// The heartbeat the library's engine runs with (its defaults, or
	// Config's), so both kinds of connection are told and held to the same.
	opts := s.io.Engine().Opts()
	l := &lean{
		s: s, watch: w, stop: make(chan struct{}),
		rooms: map[string][]*leanConn{}, polling: map[string]*leanConn{},
		pingInterval: opts.PingInterval(), pingTimeout: opts.PingTimeout(),
	}
	l.buckets = make([][]*leanConn, max(1, int(l.pingInterval/leanStep)))
	go l.pings()
	return l, nil
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// hijackWebSocket answers a WebSocket handshake with 101 Switching
// Protocols, then first (when not nil), and hands over the connection.
func hijackWebSocket(w http.ResponseWriter, r *http.Request, first []byte) (net.Conn, syscall.RawConn, bool) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "bad WebSocket handshake", http.StatusBadRequest)
		return nil, nil, false
	}
	h := sha1.Sum([]byte(key + wsGUID))
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot upgrade", http.StatusInternalServerError)
		return nil, nil, false
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	var rc syscall.RawConn
	if sc, ok := conn.(syscall.Conn); ok && brw.Reader.Buffered() == 0 { // a client that did not wait for the 101: none of ours
		rc, err = sc.SyscallConn()
	}
	if rc == nil || err != nil {
		_ = conn.Close()
		return nil, nil, false
	}
	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = base64.StdEncoding.AppendEncode(resp, h[:])
	resp = append(resp, "\r\n\r\n"...)
	if first != nil {
		resp = appendFrame(resp, 0x1, first)
	}
	if _, err := conn.Write(resp); err != nil {
		_ = conn.Close()
		return nil, nil, false
	}
	return conn, rc, true
}

// openPacket is Engine.IO's open packet for session sid.
func (l *lean) openPacket(sid, upgrades string) []byte {
	b := make([]byte, 0, 160)
	b = append(b, `0{"sid":"`...)
	b = append(b, sid...)
	b = append(b, `","upgrades":`...)
	b = append(b, upgrades...)
	b = append(b, `,"pingInterval":`...)
	b = strconv.AppendInt(b, l.pingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, l.pingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, l.s.cfg.MaxMessageBytes, 10)
	return append(b, '}')
}

// serve serves a WebSocket opened directly: the open packet with the 101.
func (l *lean) serve(w http.ResponseWriter, r *http.Request) {
	cookie := cookieToken(r)
	conn, rc, ok := hijackWebSocket(w, r, l.openPacket(utils.Base64Id().GenerateId(), "[]"))
	if !ok {
		return
	}
	c := &leanConn{l: l, conn: conn, rc: rc, cookie: cookie, opened: time.Now()}
	_ = rc.Control(func(fd uintptr) { c.fd = int32(fd) })
	if !l.add(c) {
		_ = conn.Close()
		return
	}
	if err := l.watch.arm(c); err != nil {
		c.close("transport error")
	}
}

// add puts a new connection in the pinger's ring (and a polling session
// in l.polling); false once the layer is closing.
func (l *lean) add(c *leanConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	// At a random step of the ring: devices that connect together are
	// pinged apart, and the first ping comes within one interval.
	c.bucket = rand.IntN(len(l.buckets))
	c.slot = len(l.buckets[c.bucket])
	l.buckets[c.bucket] = append(l.buckets[c.bucket], c)
	if c.poll != nil {
		l.polling[c.poll.sid] = c
	}
	return true
}

// appendFrame appends an unmasked server frame of opcode op.
func appendFrame[T string | []byte](b []byte, op byte, payload T) []byte {
	n := len(payload)
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// write sends frame without ever blocking its caller (a delivery
// goroutine, or the pinger): it writes what the socket takes at once (a
// raw write on the non-blocking fd) and hands the rest to a flusher
// goroutine, which waits in Go's poller for the socket to take it; frames
// written meanwhile queue behind, up to leanQueueLimit bytes, past which,
// or if the flusher's write takes longer than the stall timeout, the
// connection is dropped. Only a connection that is behind has a flusher.
func (c *leanConn) write(frame []byte) {
	c.wmu.Lock()
	err := c.writeLocked(frame)
	c.wmu.Unlock()
	c.failed(err)
}

var errBehind = errors.New("too far behind")

// writeLocked is write with c.wmu held; the caller hands its error to
// failed once it has let go of c.wmu.
func (c *leanConn) writeLocked(frame []byte) error {
	if c.poll != nil {
		return c.poll.queue(frame)
	}
	if c.flushing {
		if len(c.queued)+len(frame) > leanQueueLimit {
			return errBehind
		}
		c.queued = append(c.queued, frame...)
		return nil
	}
	var n int
	var werr error
	if err := c.rc.Control(func(fd uintptr) {
		for {
			n, werr = rawWrite(fd, frame)
			if werr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		werr = err
	}
	if werr == syscall.EAGAIN {
		n, werr = 0, nil
	}
	if werr != nil {
		return werr
	}
	if n < len(frame) {
		c.queued = append(c.queued[:0], frame[n:]...)
		c.flushing = true
		queue.Go(c.flush)
	}
	return nil
}

// failed closes the connection after a write that failed (err not nil).
func (c *leanConn) failed(err error) {
	switch {
	case err == nil:
	case errors.Is(err, errBehind):
		c.drop()
	default:
		c.close("transport error")
	}
}

// leanQueueLimit is how far behind a connection may fall, in bytes.
const leanQueueLimit = 1 << 20

// flush writes what is queued until nothing is, on its own goroutine.
func (c *leanConn) flush() {
	for {
		c.wmu.Lock()
		out := c.queued
		c.queued = nil
		if len(out) == 0 {
			c.flushing = false
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()
		_ = c.conn.SetWriteDeadline(time.Now().Add(c.l.s.cfg.StallTimeout))
		if _, err := c.conn.Write(out); err != nil {
			c.drop()
			return
		}
	}
}

// drop closes a connection that stopped reading.
func (c *leanConn) drop() {
	if c.close("forced server close") {
		c.l.s.metrics.dropped.WithLabelValues("slow_reader").Inc()
	}
}

func (c *leanConn) send(text string) {
	var buf [128]byte
	c.write(appendFrame(buf[:0], 0x1, text))
}

// end takes a connected socket out of its room and counts its end by
// reason (the library's reasons: disconnectReasons), once; the connection
// stays open (a DISCONNECT may still be on its way to the client).
func (c *leanConn) end(reason string) bool {
	l := c.l
	l.mu.Lock()
	ended := c.ended
	c.ended = true
	if !ended && c.room != "" {
		members := l.rooms[c.room]
		for i, x := range members {
			if x == c {
				members = append(members[:i], members[i+1:]...)
				break
			}
		}
		if len(members) == 0 {
			delete(l.rooms, c.room)
		} else {
			l.rooms[c.room] = members
		}
	}
	connected := c.room != ""
	l.mu.Unlock()
	if ended || !connected {
		return !ended
	}
	l.s.metrics.disconnects.WithLabelValues(disconnectReasons[reason]).Inc()
	c.connected.Dec()
	return true
}

// close ends the socket (if it has not ended) and the connection, once;
// it reports whether this call ended the socket.
func (c *leanConn) close(reason string) bool {
	ended := c.end(reason)
	l := c.l
	l.mu.Lock()
	if c.shut {
		l.mu.Unlock()
		return ended
	}
	c.shut = true
	b := l.buckets[c.bucket]
	last := b[len(b)-1]
	b[c.slot], last.slot = last, c.slot
	b[len(b)-1] = nil
	l.buckets[c.bucket] = b[:len(b)-1]
	l.mu.Unlock()
	c.gone.Store(true)
	c.wmu.Lock()
	conn, p := c.conn, c.poll
	var probe net.Conn
	if p != nil {
		// The next GET gets what is queued and the close packet. A
		// client paused for its upgrade sends no GET: it gets them on
		// the probe once it upgrades (upgraded), and a probe not yet
		// answered is closed, so the client goes on polling.
		// Forgotten before the GET is woken: a client that has the close
		// packet finds the sid gone.
		p.closed = true
		if !p.upgrading {
			probe, p.probe = p.probe, nil
		}
		l.forgetSession(p.sid)
		p.wake()
	}
	c.wmu.Unlock()
	if p != nil {
		if probe != nil {
			_ = probe.Close()
		}
		return ended
	}
	l.watch.forget(c) // before the fd can be someone else's
	_ = conn.Close()
	return ended
}

// disconnect sends the DISCONNECT packet and ends the socket; the client
// closes its connection (a client that does not is closed after
// expiredGrace).
func (c *leanConn) disconnect(reason string) bool {
	if !c.end(reason) {
		return false
	}
	c.send("41")
	time.AfterFunc(expiredGrace, func() { c.close(reason) })
	return true
}

var readBufs = sync.Pool{New: func() any { return new([4096]byte) }}

// readReady reads what the socket has, handles every whole frame, and arms
// it again; it runs on a kept goroutine after the watcher saw it readable.
func (c *leanConn) readReady() {
	buf := readBufs.Get().(*[4096]byte)
	defer readBufs.Put(buf)
	for {
		var n int
		var rerr error
		if err := c.rc.Control(func(fd uintptr) {
			n, rerr = rawRead(fd, buf[:])
		}); err != nil {
			c.close("transport close")
			return
		}
		if rerr == syscall.EINTR {
			continue
		}
		if rerr == syscall.EAGAIN {
			if err := c.l.watch.arm(c); err != nil {
				c.close("transport error")
			}
			return
		}
		if rerr != nil || n == 0 {
			c.close("transport close")
			return
		}
		data := buf[:n]
		if len(c.pending) > 0 {
			data = append(c.pending, data...)
			c.pending = nil
		}
		if !c.take(data) {
			return
		}
	}
}

// take handles the whole frames of data and keeps the rest for the next
// read; it reports false when it closed the connection.
func (c *leanConn) take(data []byte) bool {
	rest, err := c.frames(data)
	if err != nil {
		c.close(err.Error())
		return false
	}
	if len(rest) > 0 {
		c.pending = append([]byte(nil), rest...)
	}
	return true
}

var (
	errTransport  = errors.New("transport error")
	errClientGone = errors.New("transport close")
	errLeft       = errors.New("client namespace disconnect")
)

// nextFrame reads the client frame at the start of data: its opcode, its
// unmasked payload (unmasked in place; nil while the frame is not whole)
// and what follows it. An error is a frame no client of ours sends: not
// masked, fragmented, or longer than limit.
func nextFrame(data []byte, limit int64) (op byte, payload, rest []byte, err error) {
	if len(data) < 2 {
		return 0, nil, data, nil
	}
	op, fin, masked := data[0]&0x0f, data[0]&0x80 != 0, data[1]&0x80 != 0
	n, i := uint64(data[1]&0x7f), 2
	switch n {
	case 126:
		if len(data) < 4 {
			return 0, nil, data, nil
		}
		n, i = uint64(binary.BigEndian.Uint16(data[2:])), 4
	case 127:
		if len(data) < 10 {
			return 0, nil, data, nil
		}
		n, i = binary.BigEndian.Uint64(data[2:]), 10
	}
	if !masked || !fin || n > uint64(limit) {
		return 0, nil, nil, errTransport
	}
	if uint64(len(data)) < uint64(i)+4+n {
		return 0, nil, data, nil
	}
	mask := data[i : i+4]
	payload = data[i+4 : i+4+int(n) : i+4+int(n)]
	for j := range payload {
		payload[j] ^= mask[j&3]
	}
	return op, payload, data[i+4+int(n):], nil
}

// frames handles the whole client frames at the start of data and returns
// what is left of it; an error is the reason to close.
func (c *leanConn) frames(data []byte) ([]byte, error) {
	for {
		op, payload, rest, err := nextFrame(data, c.l.s.cfg.MaxMessageBytes)
		if err != nil {
			return nil, err
		}
		if payload == nil {
			return rest, nil
		}
		data = rest
		switch op {
		case 0x1:
			if err := c.message(payload); err != nil {
				return nil, err
			}
		case 0x8:
			var b [8]byte
			c.write(appendFrame(b[:0], 0x8, []byte{}))
			return nil, errClientGone
		case 0x9:
			var b [136]byte
			c.write(appendFrame(b[:0], 0xA, payload))
		case 0xA:
		default:
			return nil, errTransport // binary packets too: orderbell's clients send none
		}
	}
}

// message handles one Engine.IO packet.
func (c *leanConn) message(data []byte) error {
	switch {
	case len(data) == 1 && data[0] == '3': // pong
		c.pingedAt.Store(0)
	case len(data) >= 2 && data[0] == '4' && data[1] == '0':
		c.connect(data[2:])
	case len(data) >= 2 && data[0] == '4' && data[1] == '1':
		return errLeft
	case len(data) >= 2 && data[0] == '4' && data[1] == '2':
		c.event(data[2:])
	case len(data) == 1 && data[0] == '1': // the client closes
		return errClientGone
	}
	// anything else: nothing to do
	return nil
}

// connect joins the main namespace (the only one) with the auth payload.
func (c *leanConn) connect(payload []byte) {
	l, s := c.l, c.l.s
	l.mu.Lock()
	joined := c.room != "" || c.ended
	l.mu.Unlock()
	if joined {
		return
	}
	if len(payload) > 0 && payload[0] != '{' {
		// Another namespace ("/admin,…"): there is none.
		ns, _, _ := strings.Cut(string(payload), ",")
		c.send("44" + ns + `,{"message":"Invalid namespace"}`)
		return
	}
	var authPayload map[string]any
	if len(payload) > 0 && json.Unmarshal(payload, &authPayload) != nil {
		c.refuse(auth.ErrInvalidToken)
		return
	}
	cookie := c.cookie
	c.cookie = ""
	cred, err := s.login(authPayload, func() string { return cookie })
	if err != nil {
		c.refuse(err)
		return
	}
	p, lastSeen, replay := cred.principal, cred.lastSeen, cred.replay

	// As the library does: listed (and the account's oldest sockets past
	// the limit disconnected) and answered first; then, behind the
	// account's gate, replayed what it missed and joined to its room, so
	// that no live emit of the account comes between, or twice.
	room := p.Room()
	sid := utils.Base64Id().GenerateId()
	var evicted []*leanConn
	l.mu.Lock()
	if c.shut || l.closing {
		l.mu.Unlock()
		return
	}
	c.principal, c.expires, c.room, c.sid = p, cred.expires, room, sid
	c.connected = s.metrics.connected.WithLabelValues(string(p.Role))
	c.connected.Inc()
	members := append(l.rooms[room], c)
	if over := len(members) - s.cfg.SocketsPerAccount; over > 0 {
		evicted = append(evicted, members[:over]...)
	}
	l.rooms[room] = members
	l.mu.Unlock()
	for _, old := range evicted {
		if old.disconnect("server namespace disconnect") {
			s.metrics.dropped.WithLabelValues("too_many_sockets").Inc()
		}
	}
	var buf [64]byte
	answer := appendFrame(buf[:0], 0x1, `40{"sid":"`+sid+`"}`)
	if !replay {
		// Nothing to replay: in the room at once, with the answer written
		// before anything a broadcast writes (it waits for c.wmu), so that
		// no emit is missed after the answer, and none comes before it.
		c.wmu.Lock()
		l.mu.Lock()
		c.joined = !c.ended
		l.mu.Unlock()
		err := c.writeLocked(answer)
		c.wmu.Unlock()
		c.failed(err)
		return
	}
	c.write(answer)
	// On a goroutine of its own, so that the reader goes on (and sees the
	// connection close) while the connect waits its turn.
	queue.Go(func() { c.join(lastSeen) })
}

// join replays what the socket missed since lastSeen and joins it to its
// account's room, behind the account's gate, so that every alert reaches
// it once: replayed (and kept out of its live emit), or live.
func (c *leanConn) join(lastSeen int64) {
	l, s, p, room := c.l, c.l.s, c.principal, c.room
	gate := s.gate(p)
	gate.Lock()
	defer gate.Unlock()
	l.mu.Lock()
	gone := c.ended
	l.mu.Unlock()
	if gone {
		return // closed or evicted while it waited its turn: no replay query
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	missed, err := s.db.Missed(ctx, p, lastSeen)
	cancel()
	if err != nil {
		s.log.Warn("replay missed alerts: closing the connection", "room", room, "err", err)
		s.metrics.dropped.WithLabelValues("replay_failed").Inc()
		c.close("forced server close")
		return
	}
	seen := make([]int64, len(missed))
	for i, n := range missed {
		seen[i] = n.ID
	}
	l.mu.Lock()
	c.seen, c.seenUntil, c.joined = seen, time.Now().Add(seenFor), true
	l.mu.Unlock()
	for _, n := range missed {
		c.emit(n.Event, AlertFor(n))
	}
	s.metrics.replayed.Add(float64(len(missed)))
}

func (c *leanConn) refuse(err error) {
	s := c.l.s
	s.metrics.refused.WithLabelValues(refusalReason(err)).Inc()
	msg, _ := json.Marshal(refusal(err))
	c.send(`44{"message":` + string(msg) + `}`)
}

// emit sends one event to this socket alone.
func (c *leanConn) emit(event string, payload any) {
	if frame, err := eventFrame(event, payload); err == nil {
		c.write(frame)
	}
}

// eventFrame is the WebSocket frame of the Socket.IO EVENT packet
// 42["event",payload].
func eventFrame(event string, payload any) ([]byte, error) {
	body, err := json.Marshal([2]any{event, payload})
	if err != nil {
		return nil, err
	}
	msg := append(make([]byte, 0, len(body)+2), "42"...)
	return appendFrame(make([]byte, 0, len(body)+12), 0x1, append(msg, body...)), nil
}

// event handles the client's own emits: the legacy SUBMIT_ORDER and
// APPROVAL_ORDER, answered on their ack; past the emit limit the socket is
// disconnected.
func (c *leanConn) event(data []byte) {
	l, s := c.l, c.l.s
	l.mu.Lock()
	connected := c.room != "" && !c.ended
	l.mu.Unlock()
	if !connected {
		return
	}
	if c.emits == nil {
		c.emits = rate.NewLimiter(rate.Limit(s.cfg.EmitRate), s.cfg.EmitBurst)
	}
	if !c.emits.Allow() {
		s.metrics.dropped.WithLabelValues("emit_rate").Inc()
		s.log.Info("socket emits too fast: disconnected", "room", c.room)
		c.disconnect("server namespace disconnect")
		return
	}
	i := 0
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	ackID, body := data[:i], data[i:]
	var args []any
	if json.Unmarshal(body, &args) != nil || len(args) == 0 {
		return
	}
	event, _ := args[0].(string)
	if len(ackID) == 0 || (event != models.EventSubmitOrder && event != models.EventApprovalOrder) {
		return
	}
	ack, err := json.Marshal([]any{s.checkLegacyEmit(c.principal, event, args[1:])})
	if err != nil {
		return
	}
	frame := make([]byte, 0, len(ack)+len(ackID)+12)
	c.write(appendFrame(frame, 0x1, append(append([]byte("43"), ackID...), ack...)))
}

// pings runs the ring: every leanStep, the sockets of the next bucket are
// pinged, so each once per interval, unless its last ping is unanswered:
// then it is closed once that ping is PingTimeout old (at its first step
// after, so up to one interval late). And every leanStep a share of the
// buckets is swept, all of them each sweepEvery: a socket that has not
// joined within ConnectTimeout is closed, one whose login expired is told
// and disconnected.
func (l *lean) pings() {
	var pingBuf [3]byte
	frame := appendFrame(pingBuf[:0], 0x1, "2")
	tick := time.NewTicker(leanStep)
	defer tick.Stop()
	timeout := l.pingTimeout.Nanoseconds()
	perSweep := (len(l.buckets)*int(leanStep) + int(sweepEvery) - 1) / int(sweepEvery)
	var due, unjoined, expired []*leanConn
	for step, swept := 0, 0; ; step = (step + 1) % len(l.buckets) {
		select {
		case <-tick.C:
		case <-l.stop:
			return
		}
		now := time.Now()
		l.mu.Lock()
		due = append(due[:0], l.buckets[step]...)
		for range perSweep {
			for _, c := range l.buckets[swept] {
				switch {
				case c.ended:
				case c.room == "" && now.Sub(c.opened) > l.s.cfg.ConnectTimeout:
					unjoined = append(unjoined, c)
				case c.room != "" && !now.Before(c.expires):
					expired = append(expired, c)
				}
			}
			swept = (swept + 1) % len(l.buckets)
		}
		l.mu.Unlock()
		for _, c := range unjoined {
			c.close("")
		}
		for _, c := range expired {
			l.s.log.Debug("socket token expired", "room", c.principal.Room())
			c.disconnect("server namespace disconnect")
		}
		for _, c := range due {
			switch at := c.pingedAt.Load(); {
			case at == 0:
				c.pingedAt.Store(now.UnixNano())
				c.write(frame)
			case now.UnixNano()-at >= timeout:
				c.close("ping timeout")
			}
		}
		clear(due)
		clear(unjoined)
		clear(expired)
		unjoined, expired = unjoined[:0], expired[:0]
	}
}

// closeAll closes every lean connection, for Server.Close.
func (l *lean) closeAll() {
	close(l.stop)
	l.mu.Lock()
	l.closing = true
	var all []*leanConn
	for _, b := range l.buckets {
		all = append(all, b...)
	}
	l.mu.Unlock()
	for _, c := range all {
		c.close("server shutting down")
	}
	l.watch.close()
}

// broadcast writes event with payload to every lean socket in room but
// the one whose id is except, or those that were replayed the alert
// except names (its notification:<id> room).
func (l *lean) broadcast(room, except, event string, payload any) {
	l.mu.Lock()
	var members []*leanConn
	for _, c := range l.rooms[room] {
		if c.joined {
			members = append(members, c)
		}
	}
	l.mu.Unlock()
	if len(members) == 0 {
		return
	}
	var seenID int64 = -1
	if id, ok := strings.CutPrefix(except, seenRoomPrefix); ok {
		seenID, _ = strconv.ParseInt(id, 10, 64)
	}
	frame, err := eventFrame(event, payload)
	if err != nil {
		return
	}
	now := time.Now()
	for _, c := range members {
		if c.sid == except || (seenID >= 0 && c.wasReplayed(seenID, now)) {
			continue
		}
		c.write(frame)
	}
}

func (c *leanConn) wasReplayed(id int64, now time.Time) bool {
	if now.After(c.seenUntil) {
		return false
	}
	for _, s := range c.seen {
		if s == id {
			return true
		}
	}
	return false
}
