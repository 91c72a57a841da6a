package socket

import (
	"sync"
	"sync/atomic"
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
func (s *Server) limitEmits(sock *socketio.Socket) {
	bucket := rate.NewLimiter(rate.Limit(s.cfg.EmitRate), s.cfg.EmitBurst)
	sock.Use(func(_ []any, next func(error)) {
		if bucket.Allow() {
			next(nil)
			return
		}
		s.metrics.dropped.WithLabelValues("emit_rate").Inc()
		s.log.Info("socket emits too fast: disconnected", "room", sock.Data().(*session).principal.Room())
		sock.Disconnect(false)
	})
}

// capQueue drops a connection that stopped reading. The engine queues
// each packet ("packetCreate") and hands the queue to the transport
// ("flush") whenever the transport is free; a transport stuck writing to
// a reader that does not read takes nothing more.
func (s *Server) capQueue(sock *socketio.Socket) {
	conn := sock.Conn()
	var queued, lastFlush atomic.Int64
	lastFlush.Store(time.Now().UnixNano())
	var once sync.Once
	_ = conn.On("packetCreate", func(...any) {
		// Every broadcast passes here once per socket: read the clock only
		// past the soft limit.
		n := queued.Add(1)
		if n <= maxQueued && n <= int64(s.cfg.QueueHardLimit) {
			return
		}
		stalled := time.Since(time.Unix(0, lastFlush.Load())) > s.cfg.StallTimeout
		if (n > maxQueued && stalled) || n > int64(s.cfg.QueueHardLimit) {
			once.Do(func() {
				s.metrics.dropped.WithLabelValues("slow_reader").Inc()
				go conn.Close(true)
			})
		}
	})
	_ = conn.On("flush", func(args ...any) {
		if sent, ok := args[0].([]*packet.Packet); ok {
			queued.Add(-int64(len(sent)))
		}
		lastFlush.Store(time.Now().UnixNano())
	})
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
