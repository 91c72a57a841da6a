package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// device is one Socket.IO connection of one account: a minimal Engine.IO
// v4 / Socket.IO v5 client over a WebSocket, with one reader goroutine and
// no other per-connection goroutine or timer.
type device struct {
	role    role
	account int // index of the account among those of its role
	slot    int // which of the account's devices

	conn *websocket.Conn
	sid  string     // the socket id the server's CONNECT gave (socket.id)
	wmu  sync.Mutex // gorilla allows one writer at a time
	idle time.Duration
	// lastPing and lastMessage are when the reader last got a ping (and
	// answered it) and any packet: a dropped connection's report says.
	lastPing, lastMessage time.Time

	// fifo holds, in emit order, the orders whose alert this device
	// awaits; used only with -match fifo (servers whose alert payload has
	// no order_id).
	fifoMu sync.Mutex
	fifo   []int64
}

type role uint8

const (
	owner role = iota
	client
)

func (r role) String() string {
	if r == owner {
		return "owner"
	}
	return "client"
}

// eioOpenPacket is the part of the Engine.IO open packet the client uses.
type eioOpenPacket struct {
	SID          string `json:"sid"`
	PingInterval int64  `json:"pingInterval"`
	PingTimeout  int64  `json:"pingTimeout"`
}

// errRefused is a handshake the server answered with CONNECT_ERROR.
type errRefused struct{ message string }

func (e errRefused) Error() string { return "connect_error: " + e.message }

// connect opens the WebSocket, reads the Engine.IO open packet, joins the
// default namespace with auth {token} and waits for its CONNECT.
func (d *device) connect(ctx context.Context, dialer *websocket.Dialer, wsURL, token string) error {
	conn, resp, err := dialer.DialContext(ctx, wsURL, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return fmt.Errorf("websocket: %w (HTTP %d)", err, resp.StatusCode)
		}
		return fmt.Errorf("websocket: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = conn.SetReadDeadline(deadline)
	fail := func(err error) error {
		conn.Close()
		return err
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return fail(fmt.Errorf("read open packet: %w", err))
	}
	if len(msg) == 0 || msg[0] != eioOpen {
		return fail(fmt.Errorf("want engine.io open packet, got %.40q", msg))
	}
	var open eioOpenPacket
	if err := json.Unmarshal(msg[1:], &open); err != nil {
		return fail(fmt.Errorf("open packet: %w", err))
	}
	// The server closes a connection that sent nothing for
	// pingInterval+pingTimeout; it pings, we answer.
	d.idle = time.Duration(open.PingInterval+open.PingTimeout)*time.Millisecond + 5*time.Second
	if d.idle < 10*time.Second {
		d.idle = 60 * time.Second
	}
	if err := conn.WriteMessage(websocket.TextMessage, connectFrame(token)); err != nil {
		return fail(fmt.Errorf("send connect: %w", err))
	}
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return fail(fmt.Errorf("read connect: %w", err))
		}
		if len(msg) == 1 && msg[0] == eioPing {
			if err := conn.WriteMessage(websocket.TextMessage, []byte{eioPong}); err != nil {
				return fail(err)
			}
			continue
		}
		if len(msg) < 2 || msg[0] != eioMessage {
			continue
		}
		p, err := parseSIO(msg[1:])
		if err != nil {
			return fail(err)
		}
		if p.Namespace != "/" {
			continue
		}
		switch p.Type {
		case sioConnect:
			var c struct {
				SID string `json:"sid"`
			}
			_ = json.Unmarshal(p.Data, &c)
			_ = conn.SetReadDeadline(time.Time{})
			d.conn, d.sid = conn, c.SID
			return nil
		case sioConnectError:
			var e struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(p.Data, &e)
			return fail(errRefused{e.Message})
		}
	}
}

// write sends one text frame.
func (d *device) write(b []byte) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_ = d.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return d.conn.WriteMessage(websocket.TextMessage, b)
}

// alert is one SUBMIT_ORDER or APPROVAL_ORDER a device received.
type alert struct {
	event   event
	orderID int64 // -1 when the payload has none
	at      time.Duration
}

type event uint8

const (
	evSubmit event = iota
	evApproval
)

func (e event) String() string {
	if e == evSubmit {
		return "SUBMIT_ORDER"
	}
	return "APPROVAL_ORDER"
}

// decodeAlert turns an Engine.IO message into an alert; ok is false for
// everything else (pings are handled by the caller, other events ignored).
func decodeAlert(msg []byte) (ev event, orderID int64, ok bool) {
	if len(msg) < 3 || msg[0] != eioMessage || msg[1] != sioEvent {
		return 0, 0, false
	}
	p, err := parseSIO(msg[1:])
	if err != nil || p.Namespace != "/" {
		return 0, 0, false
	}
	name, rest, err := eventName(p.Data)
	if err != nil {
		return 0, 0, false
	}
	switch name {
	case "SUBMIT_ORDER":
		ev = evSubmit
	case "APPROVAL_ORDER":
		ev = evApproval
	default:
		return 0, 0, false
	}
	id, found := intField(rest, "order_id")
	if !found {
		id = -1
	}
	return ev, id, true
}

// readLoop is the device's one goroutine: it answers pings and hands
// alerts, stamped on arrival, to deliver. It returns when the connection
// ends; closing reports whether that was asked for.
func (d *device) readLoop(clock func() time.Duration, deliver func(*device, alert), closing *atomic.Bool, dropped *atomic.Int64) {
	for {
		_ = d.conn.SetReadDeadline(time.Now().Add(d.idle))
		_, msg, err := d.conn.ReadMessage()
		at := clock()
		if err != nil {
			if !closing.Load() {
				d.dropped(dropped, "read: %v", err)
			}
			return
		}
		if len(msg) == 0 {
			continue
		}
		d.lastMessage = time.Now()
		switch msg[0] {
		case eioPing:
			d.lastPing = d.lastMessage
			if err := d.write([]byte{eioPong}); err != nil && !closing.Load() && !errors.Is(err, net.ErrClosed) {
				d.dropped(dropped, "pong: %v", err)
				return
			}
		case eioClose:
			if !closing.Load() {
				d.dropped(dropped, "Engine.IO close packet")
			}
			return
		case eioMessage:
			if ev, id, ok := decodeAlert(msg); ok {
				deliver(d, alert{event: ev, orderID: id, at: at})
			} else if len(msg) >= 2 && msg[1] == sioDisconnect && !closing.Load() {
				d.dropped(dropped, "Socket.IO disconnect packet %q", msg)
				d.conn.Close()
				return
			}
		}
	}
}

// droppedLogged bounds how many dropped connections are described on
// stderr: the first few say why; the count is in the report.
var droppedLogged atomic.Int64

// dropped counts a connection the server ended during the test and, for
// the first five, prints why (what the read or write returned).
func (d *device) dropped(count *atomic.Int64, why string, args ...any) {
	count.Add(1)
	if droppedLogged.Add(1) <= 5 {
		now := time.Now()
		since := func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return now.Sub(t).Round(time.Millisecond).String() + " before"
		}
		fmt.Fprintf(os.Stderr, "loadgen: connection dropped: %s %d device %d at %s: %s (last ping %s, last packet %s)\n",
			d.role, d.account, d.slot, now.Format("15:04:05.000"), fmt.Sprintf(why, args...), since(d.lastPing), since(d.lastMessage))
	}
}

// pushExpected and popExpected are the -match fifo queue.
func (d *device) pushExpected(orderID int64) {
	d.fifoMu.Lock()
	d.fifo = append(d.fifo, orderID)
	d.fifoMu.Unlock()
}

func (d *device) popExpected() (int64, bool) {
	d.fifoMu.Lock()
	defer d.fifoMu.Unlock()
	if len(d.fifo) == 0 {
		return 0, false
	}
	id := d.fifo[0]
	d.fifo = d.fifo[1:]
	if len(d.fifo) == 0 {
		d.fifo = nil
	}
	return id, true
}
