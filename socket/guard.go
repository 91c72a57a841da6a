package socket

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"
	"golang.org/x/time/rate"
)

// Defaults of what one socket or account may hold or do.
const (
	// DefaultEmitRate and DefaultEmitBurst bound a socket's own emits
	// (the legacy events, one per order): past them it is disconnected.
	DefaultEmitRate  = 10
	DefaultEmitBurst = 20
	// DefaultSocketsPerAccount bounds one account's sockets on a node; a
	// new one beyond it drops the account's oldest.
	DefaultSocketsPerAccount = 20
	// A connection with more than maxQueued packets waiting, whose
	// transport has taken nothing for DefaultStallTimeout, has stopped
	// reading: it is dropped, so a dead reader never holds memory. Past
	// the hard limit it is dropped whatever it does.
	maxQueued             = 1024
	DefaultQueueHardLimit = 16 * maxQueued
	DefaultStallTimeout   = 10 * time.Second
)

// limitEmits disconnects a socket that emits faster than the rate.
func (sess *session) limitEmits() {
	sess.emits = rate.NewLimiter(rate.Limit(sess.s.cfg.EmitRate), sess.s.cfg.EmitBurst)
	sess.sock.Use(sess.checkEmitRate)
}

func (sess *session) checkEmitRate(_ []any, next func(error)) {
	if sess.emits.Allow() {
		next(nil)
		return
	}
	sess.s.metrics.dropped.WithLabelValues("emit_rate").Inc()
	sess.s.log.Info("socket emits too fast: disconnected", "room", sess.room)
	sess.sock.Disconnect(false)
}

// capQueue drops a connection that stopped reading. The engine queues
// each packet ("packetCreate") and hands the queue to the transport
// ("flush") whenever the transport is free; a transport stuck writing to
// a reader that does not read takes nothing more.
func (sess *session) capQueue() {
	sess.lastFlush.Store(time.Now().UnixNano())
	conn := sess.sock.Conn()
	_ = conn.On("packetCreate", sess.onPacketCreate)
	_ = conn.On("flush", sess.onFlush)
}

func (sess *session) onPacketCreate(...any) {
	// Every broadcast passes here once per socket: read the clock only
	// past the soft limit.
	n := sess.queued.Add(1)
	cfg := &sess.s.cfg
	if n <= maxQueued && n <= int64(cfg.QueueHardLimit) {
		return
	}
	stalled := time.Since(time.Unix(0, sess.lastFlush.Load())) > cfg.StallTimeout
	if (n > maxQueued && stalled) || n > int64(cfg.QueueHardLimit) {
		if sess.slow.CompareAndSwap(false, true) {
			sess.s.metrics.dropped.WithLabelValues("slow_reader").Inc()
			go sess.sock.Conn().Close(true)
		}
	}
}

func (sess *session) onFlush(args ...any) {
	if sent, ok := args[0].([]*packet.Packet); ok {
		sess.queued.Add(-int64(len(sent)))
	}
	sess.lastFlush.Store(time.Now().UnixNano())
}

// accounts tracks each account's sockets on this node, oldest first.
type accounts struct {
	mu    sync.Mutex
	rooms map[string][]*socketio.Socket
}

// add records sock under room and returns the oldest sockets beyond max,
// for the caller to disconnect.
func (a *accounts) add(room string, sock *socketio.Socket, max int) []*socketio.Socket {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := append(a.rooms[room], sock)
	var drop []*socketio.Socket
	if max > 0 && len(list) > max {
		drop = append(drop, list[:len(list)-max]...)
		list = append([]*socketio.Socket(nil), list[len(list)-max:]...)
	}
	a.rooms[room] = list
	return drop
}

func (a *accounts) remove(room string, sock *socketio.Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := a.rooms[room]
	for i, s := range list {
		if s == sock {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(a.rooms, room)
	} else {
		a.rooms[room] = list
	}
}
