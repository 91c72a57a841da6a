package socket

// Long-polling and its upgrade to WebSocket in the lean layer: how the
// pages' own client (socket.io-client v4 with its default transports)
// connects. A polling session is a leanConn with a leanPoll: what is
// written to it waits in out until the client's next GET takes it; its
// POSTs are handled as the WebSocket frames are (message). The client
// then probes a WebSocket on the same sid (2probe / 3probe), its pending
// GET is answered with a noop so it pauses polling, and on its upgrade
// packet (5) the connection becomes a WebSocket one like any other, with
// what was still queued written on it first.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/utils"
	"golang.org/x/net/http/httpguts"
)

// upgradeTimeout is how long a probe may take to upgrade (Engine.IO's
// default).
const upgradeTimeout = 10 * time.Second

// leanPoll is a polling session's state, under its leanConn's wmu.
type leanPoll struct {
	sid       string        // the Engine.IO session id the client's requests carry
	out       []byte        // packets for the next GET, \x1e-separated
	wait      chan struct{} // the pending GET's, closed to wake it
	getting   bool          // a GET is pending
	posting   bool          // a POST is being handled
	upgrading bool          // a probe answered: GETs are answered at once
	probe     net.Conn      // the probing WebSocket, until it upgrades or fails
	closed    bool          // the session ended: the next GET gets what is left and a close packet
}

func (p *leanPoll) wake() {
	if p.wait != nil {
		close(p.wait)
		p.wait = nil
	}
}

// framePayload is the payload of a server frame (appendFrame's).
func framePayload(frame []byte) []byte {
	switch frame[1] & 0x7f {
	case 126:
		return frame[4:]
	case 127:
		return frame[10:]
	}
	return frame[2:]
}

// queue is writeLocked for a polling session: the packet waits for a GET.
func (p *leanPoll) queue(frame []byte) error {
	if frame[0]&0x0f != 0x1 || p.closed {
		return nil
	}
	payload := framePayload(frame)
	if len(p.out)+1+len(payload) > leanQueueLimit {
		return errBehind
	}
	if len(p.out) > 0 {
		p.out = append(p.out, 0x1e)
	}
	p.out = append(p.out, payload...)
	p.wake()
	return nil
}

// serveHTTP serves r if it is the lean layer's: a WebSocket opened
// directly, a polling handshake, or a request of one of its polling
// sessions. It reports whether it did; the library serves the rest
// (Engine.IO 3, JSONP, CORS preflights, sessions of its own, unknown
// sids).
func (l *lean) serveHTTP(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		return false
	}
	sid := q.Get("sid")
	switch q.Get("transport") {
	case "websocket":
		if !httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "websocket") {
			return false
		}
		if sid == "" {
			l.serve(w, r)
			return true
		}
		c := l.session(sid)
		if c == nil {
			return false
		}
		l.upgrade(w, r, c)
		return true
	case "polling":
		if q.Has("j") {
			return false
		}
		if sid == "" {
			// A cross-origin client needs the CORS answers the library
			// gives (CORS_ORIGINS): its sessions stay the library's.
			if r.Method != http.MethodGet || (len(l.s.cfg.AllowedOrigins) > 0 && r.Header.Get("Origin") != "") {
				return false
			}
			l.openPolling(w, r)
			return true
		}
		c := l.session(sid)
		if c == nil {
			return false
		}
		switch r.Method {
		case http.MethodGet:
			c.pollGet(w, r)
		case http.MethodPost:
			c.pollPost(w, r)
		default:
			engineError(w, http.StatusBadRequest, 2, "Bad handshake method")
		}
		return true
	}
	return false
}

// engineError answers as Engine.IO's server does.
func engineError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"code":`+strconv.Itoa(code)+`,"message":"`+message+`"}`)
}

// badRequest answers a request Engine.IO refuses; with end, the session
// ends too, as Engine.IO ends it.
func (c *leanConn) badRequest(w http.ResponseWriter, status int, end bool) {
	engineError(w, status, 3, "Bad request")
	if end {
		c.close("transport error")
	}
}

func (l *lean) session(sid string) *leanConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.polling[sid]
}

// openPolling answers a polling handshake with the open packet of a new
// session.
func (l *lean) openPolling(w http.ResponseWriter, r *http.Request) {
	sid := utils.Base64Id().GenerateId()
	c := &leanConn{l: l, poll: &leanPoll{sid: sid}, cookie: cookieToken(r), opened: time.Now()}
	if !l.add(c) {
		engineError(w, http.StatusServiceUnavailable, 5, "Server shutting down")
		return
	}
	writePoll(w, l.openPacket(sid, `["websocket"]`))
}

func writePoll(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// pollGet answers a GET with what is queued, waiting for something if
// nothing is (pings come every interval).
func (c *leanConn) pollGet(w http.ResponseWriter, r *http.Request) {
	c.wmu.Lock()
	p := c.poll
	if p == nil || p.getting {
		c.wmu.Unlock()
		// Upgraded a moment ago; or a second GET at once, which ends the session.
		c.badRequest(w, http.StatusBadRequest, p != nil)
		return
	}
	for len(p.out) == 0 && !p.closed && !p.upgrading {
		wait := make(chan struct{})
		p.wait, p.getting = wait, true
		c.wmu.Unlock()
		select {
		case <-wait:
		case <-r.Context().Done():
			c.wmu.Lock()
			p.getting = false
			if p.wait == wait {
				p.wait = nil
			}
			c.wmu.Unlock()
			c.close("transport close") // the client went away mid-poll
			return
		}
		c.wmu.Lock()
		p.getting = false
	}
	out := p.out
	p.out = nil
	switch {
	case p.closed:
		if len(out) > 0 {
			out = append(out, 0x1e)
		}
		out = append(out, '1')
	case len(out) == 0: // upgrading: the client pauses polling
		out = append(out, '6')
	}
	c.wmu.Unlock()
	writePoll(w, out)
}

// pollPost handles the packets of a POST, as a WebSocket frame's.
func (c *leanConn) pollPost(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.l.s.cfg.MaxMessageBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.badRequest(w, http.StatusRequestEntityTooLarge, true)
		}
		return
	}
	c.wmu.Lock()
	p := c.poll
	overlap := p != nil && p.posting
	if p != nil {
		p.posting = true
	}
	c.wmu.Unlock()
	if p == nil || overlap {
		// Upgraded a moment ago; or a second POST at once, which ends the session.
		c.badRequest(w, http.StatusBadRequest, overlap)
		return
	}
	defer func() {
		c.wmu.Lock()
		p.posting = false
		c.wmu.Unlock()
	}()
	for packet := range bytes.SplitSeq(body, []byte{0x1e}) {
		if len(packet) > 0 && packet[0] == 'b' { // binary: orderbell's clients send none
			c.badRequest(w, http.StatusBadRequest, true)
			return
		}
		if err := c.message(packet); err != nil {
			c.close(err.Error())
			break
		}
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}

// upgrade serves a polling session's WebSocket probe: on 2probe it answers
// 3probe and has the pending GET answered, so the client pauses polling;
// on 5 the connection becomes the session's, what was queued is written
// on it, and it waits in the watcher like any other.
func (l *lean) upgrade(w http.ResponseWriter, r *http.Request, c *leanConn) {
	conn, rc, ok := hijackWebSocket(w, r, nil)
	if !ok {
		return
	}
	c.wmu.Lock()
	p := c.poll
	if p == nil || p.closed || p.probe != nil {
		c.wmu.Unlock()
		_ = conn.Close()
		return
	}
	p.probe = conn
	c.wmu.Unlock()
	fail := func() {
		c.wmu.Lock()
		if c.poll == p && p.probe == conn {
			p.probe, p.upgrading = nil, false
		}
		c.wmu.Unlock()
		_ = conn.Close()
	}
	_ = conn.SetReadDeadline(time.Now().Add(upgradeTimeout))
	var buf [512]byte
	var data []byte
	for {
		n, err := conn.Read(buf[len(data):])
		if err != nil {
			fail()
			return
		}
		data = buf[:len(data)+n]
		for {
			op, payload, rest, err := nextFrame(data, int64(len(buf)))
			if err != nil || (payload == nil && len(data) == len(buf)) {
				fail()
				return
			}
			if payload == nil {
				break // the rest of a frame is still to come
			}
			switch {
			case op == 0x1 && string(payload) == "2probe":
				// Upgrading from here on: a session closed while the
				// client pauses keeps this probe, for the client hears
				// of the close only where it listens (see close).
				c.wmu.Lock()
				if p.closed {
					c.wmu.Unlock()
					fail()
					return
				}
				p.upgrading = true
				c.wmu.Unlock()
				var b [16]byte
				if _, err := conn.Write(appendFrame(b[:0], 0x1, "3probe")); err != nil {
					fail()
					return
				}
				c.wmu.Lock()
				p.wake()
				c.wmu.Unlock()
			case op == 0x1 && string(payload) == "5":
				if c.upgraded(p, conn, rc) {
					c.handle(rest)
				}
				return
			case op == 0x9 || op == 0xA:
			default:
				fail()
				return
			}
			data = rest
		}
		data = buf[:copy(buf[:], data)]
	}
}

// upgraded makes conn the session's connection, writing on it first what
// was queued for polling; it reports whether the session was still open.
func (c *leanConn) upgraded(p *leanPoll, conn net.Conn, rc syscall.RawConn) bool {
	_ = conn.SetReadDeadline(time.Time{})
	c.wmu.Lock()
	var frames []byte
	if len(p.out) > 0 {
		for packet := range bytes.SplitSeq(p.out, []byte{0x1e}) {
			frames = appendFrame(frames, 0x1, packet)
		}
	}
	p.out = nil
	if p.closed {
		// Closed while the client paused: it gets what was left and
		// the close on the connection it now listens to, as engine.io
		// does.
		p.probe = nil
		c.wmu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(c.l.s.cfg.StallTimeout))
		_, _ = conn.Write(frames)
		_ = conn.Close()
		return false
	}
	c.conn, c.rc = conn, rc
	_ = rc.Control(func(fd uintptr) { c.fd = int32(fd) })
	c.poll, p.probe = nil, nil
	p.upgrading = true // so a GET still pending gets a noop, even without a probe
	p.wake()
	var err error
	if len(frames) > 0 {
		err = c.writeLocked(frames)
	}
	c.wmu.Unlock()
	c.l.forgetSession(p.sid)
	if err != nil {
		c.failed(err)
		return false
	}
	return true
}

// handle handles the frames that came with the upgrade packet, if any, and
// hands the connection to the watcher.
func (c *leanConn) handle(data []byte) {
	if len(data) > 0 && !c.take(data) {
		return
	}
	if err := c.l.watch.arm(c); err != nil {
		c.close("transport error")
	}
}

func (l *lean) forgetSession(sid string) {
	l.mu.Lock()
	delete(l.polling, sid)
	l.mu.Unlock()
}
