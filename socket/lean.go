package socket

// An experiment, not part of orderbell (branch experiment/lean-netpoll):
// with ORDERBELL_LEAN_WS=1, a WebSocket-only Engine.IO 4 connection (no
// sid, transport=websocket) is served by a lean layer of our own instead of
// the Socket.IO library, on Go's own netpoller: the upgrade by hand, and no
// goroutine, no buffer and no library object per idle connection. A
// connection's socket waits in one process-wide epoll set whose own fd
// waits in the runtime's poller (leanpark_linux.go, the way the engine
// patch's park_linux.go parks its readers); when it is readable, a kept
// goroutine reads what is there without blocking (a raw read on the
// non-blocking fd), handles the frames, and arms the socket again.
//
// What it serves: the open packet, the CONNECT with auth.token (or the
// cookie), the socket in its account's room, pings spread over the
// interval, pongs, the close, and every broadcast written to it too. No
// replay, no limits, no legacy emits and acks, no pong timeout, no Redis,
// no metrics: enough for loadgen's http flow, to measure what such a layer
// does to orderbell's figures when it sits on Go's poller rather than on a
// second one (the twenty-fifth round's nbio layer).

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/utils"

	"github.com/orderbell/orderbell/auth"
)

var leanEnabled = os.Getenv("ORDERBELL_LEAN_WS") == "1"

type lean struct {
	s     *Server
	watch *leanWatcher

	mu    sync.Mutex
	rooms map[string][]*leanConn
	all   []*leanConn
}

// leanConn is one connection: all orderbell keeps of it, with its net.Conn.
type leanConn struct {
	l    *lean
	conn net.Conn
	rc   syscall.RawConn
	fd   int32

	wmu      sync.Mutex // one frame at a time
	flushing bool       // under wmu: a flusher has queued output to write
	queued   []byte     // under wmu: what the flusher writes next

	// The reader's alone (one runs at a time).
	pending []byte // a frame's beginning, until the rest arrives (rare)
	cookie  string // the cookie's token, until the CONNECT

	// Under l.mu.
	room string
	sid  string
	slot int
	gone bool
}

func newLean(s *Server) *lean {
	w, err := newLeanWatcher()
	if err != nil {
		panic(err)
	}
	l := &lean{s: s, watch: w, rooms: map[string][]*leanConn{}}
	go l.pings()
	return l
}

// takes reports whether r is a connection the lean layer serves.
func (l *lean) takes(r *http.Request) bool {
	q := r.URL.Query()
	return q.Get("EIO") == "4" && q.Get("transport") == "websocket" && q.Get("sid") == "" &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func (l *lean) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "bad WebSocket handshake", http.StatusBadRequest)
		return
	}
	h := sha1.Sum([]byte(key + wsGUID))
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot upgrade", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	if brw.Reader.Buffered() > 0 { // a client that did not wait for the 101
		_ = conn.Close()
		return
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		_ = conn.Close()
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		_ = conn.Close()
		return
	}
	c := &leanConn{l: l, conn: conn, rc: rc}
	if ck, err := r.Cookie(auth.CookieName); err == nil {
		c.cookie = ck.Value
	}
	_ = rc.Control(func(fd uintptr) { c.fd = int32(fd) })
	open := `0{"sid":"` + utils.Base64Id().GenerateId() +
		`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = base64.StdEncoding.AppendEncode(resp, h[:])
	resp = append(resp, "\r\n\r\n"...)
	resp = appendFrame(resp, 0x1, open)
	if _, err := conn.Write(resp); err != nil {
		_ = conn.Close()
		return
	}
	l.mu.Lock()
	c.slot = len(l.all)
	l.all = append(l.all, c)
	l.mu.Unlock()
	if err := l.watch.arm(c); err != nil {
		c.close()
	}
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
	if c.flushing {
		if len(c.queued)+len(frame) > leanQueueLimit {
			c.wmu.Unlock()
			c.close()
			return
		}
		c.queued = append(c.queued, frame...)
		c.wmu.Unlock()
		return
	}
	var n int
	var werr error
	if err := c.rc.Control(func(fd uintptr) {
		for {
			n, werr = syscall.Write(int(fd), frame)
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
		c.wmu.Unlock()
		c.close()
		return
	}
	if n < len(frame) {
		c.queued = append(c.queued[:0], frame[n:]...)
		c.flushing = true
		queue.Go(c.flush)
	}
	c.wmu.Unlock()
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
			c.close()
			return
		}
	}
}

func (c *leanConn) send(text string) {
	var buf [128]byte
	c.write(appendFrame(buf[:0], 0x1, text))
}

// close ends the connection, once.
func (c *leanConn) close() {
	l := c.l
	l.mu.Lock()
	if c.gone {
		l.mu.Unlock()
		return
	}
	c.gone = true
	last := l.all[len(l.all)-1]
	l.all[c.slot], last.slot = last, c.slot
	l.all = l.all[:len(l.all)-1]
	if c.room != "" {
		members := l.rooms[c.room]
		for i, x := range members {
			if x == c {
				members[i] = members[len(members)-1]
				members = members[:len(members)-1]
				break
			}
		}
		if len(members) == 0 {
			delete(l.rooms, c.room)
		} else {
			l.rooms[c.room] = members
		}
	}
	l.mu.Unlock()
	l.watch.forget(c) // before the fd can be someone else's
	_ = c.conn.Close()
}

var readBufs = sync.Pool{New: func() any { return new([4096]byte) }}

var errFrame = errors.New("bad frame")

// readReady reads what the socket has, handles every whole frame, and arms
// it again; it runs on a kept goroutine after the watcher saw it readable.
func (c *leanConn) readReady() {
	buf := readBufs.Get().(*[4096]byte)
	defer readBufs.Put(buf)
	for {
		var n int
		var rerr error
		if err := c.rc.Control(func(fd uintptr) {
			n, rerr = syscall.Read(int(fd), buf[:])
		}); err != nil {
			c.close()
			return
		}
		if rerr == syscall.EINTR {
			continue
		}
		if rerr == syscall.EAGAIN {
			if err := c.l.watch.arm(c); err != nil {
				c.close()
			}
			return
		}
		if rerr != nil || n == 0 {
			c.close()
			return
		}
		data := buf[:n]
		if len(c.pending) > 0 {
			data = append(c.pending, data...)
			c.pending = nil
		}
		rest, err := c.frames(data)
		if err != nil {
			c.close()
			return
		}
		if len(rest) > 0 {
			c.pending = append([]byte(nil), rest...)
		}
	}
}

// frames handles the whole client frames at the start of data and returns
// what is left of it.
func (c *leanConn) frames(data []byte) ([]byte, error) {
	for len(data) >= 2 {
		op, fin, masked := data[0]&0x0f, data[0]&0x80 != 0, data[1]&0x80 != 0
		n, i := uint64(data[1]&0x7f), 2
		switch n {
		case 126:
			if len(data) < 4 {
				return data, nil
			}
			n, i = uint64(binary.BigEndian.Uint16(data[2:])), 4
		case 127:
			if len(data) < 10 {
				return data, nil
			}
			n, i = binary.BigEndian.Uint64(data[2:]), 10
		}
		if !masked || !fin || n > uint64(c.l.s.cfg.MaxMessageBytes) {
			return nil, errFrame // fragmented messages too: no client of ours sends them
		}
		if uint64(len(data)) < uint64(i)+4+n {
			return data, nil
		}
		mask := data[i : i+4]
		payload := data[i+4 : i+4+int(n)]
		for j := range payload {
			payload[j] ^= mask[j&3]
		}
		data = data[i+4+int(n):]
		switch op {
		case 0x1, 0x2:
			c.message(payload)
		case 0x8:
			var b [8]byte
			c.write(appendFrame(b[:0], 0x8, []byte{}))
			return nil, errFrame
		case 0x9:
			var b [136]byte
			c.write(appendFrame(b[:0], 0xA, payload))
		case 0xA:
		default:
			return nil, errFrame
		}
	}
	return data, nil
}

func (c *leanConn) message(data []byte) {
	l := c.l
	switch {
	case len(data) >= 2 && data[0] == '4' && data[1] == '0':
		l.mu.Lock()
		joined := c.room != ""
		l.mu.Unlock()
		if joined {
			return
		}
		var a struct {
			Token *string `json:"token"`
		}
		if len(data) > 2 && json.Unmarshal(data[2:], &a) != nil {
			c.send(`44{"message":"unauthorized"}`)
			return
		}
		token := c.cookie
		if a.Token != nil {
			token = *a.Token
		}
		c.cookie = ""
		p, _, err := l.s.tokens.Parse(token)
		if err != nil {
			c.send(`44{"message":"unauthorized"}`)
			return
		}
		sid := utils.Base64Id().GenerateId()
		l.mu.Lock()
		if !c.gone {
			c.room, c.sid = p.Room(), sid
			l.rooms[c.room] = append(l.rooms[c.room], c)
		}
		l.mu.Unlock()
		c.send(`40{"sid":"` + sid + `"}`)
	case len(data) >= 2 && data[0] == '4' && data[1] == '1':
		c.close()
	}
	// pongs ("3") and everything else: nothing to do here
}

// pings pings every connection once per interval (25 s), a few at a time
// every 10 ms: written in one burst a second, the 400 pings of 10,000
// connections held the one P for milliseconds.
func (l *lean) pings() {
	const steps = 2500
	var ping [3]byte
	frame := appendFrame(ping[:0], 0x1, "2")
	tick := time.NewTicker(25 * time.Second / steps)
	due := []*leanConn{}
	for step := 0; ; step = (step + 1) % steps {
		<-tick.C
		l.mu.Lock()
		due = due[:0]
		for i := step; i < len(l.all); i += steps {
			due = append(due, l.all[i])
		}
		l.mu.Unlock()
		for _, c := range due {
			c.write(frame)
		}
		clear(due)
	}
}

// broadcast writes event with payload to every lean socket in room but
// the one whose id is except.
func (l *lean) broadcast(room, except, event string, payload any) {
	l.mu.Lock()
	members := append([]*leanConn(nil), l.rooms[room]...)
	l.mu.Unlock()
	if len(members) == 0 {
		return
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return
	}
	msg := make([]byte, 0, len(event)+len(body)+8)
	msg = append(msg, `42["`...)
	msg = append(msg, event...)
	msg = append(msg, `",`...)
	msg = append(msg, body...)
	msg = append(msg, ']')
	frame := appendFrame(make([]byte, 0, len(msg)+10), 0x1, msg)
	for _, c := range members {
		if c.sid != except {
			c.write(frame)
		}
	}
}
