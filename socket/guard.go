package socket

import (
	"runtime"
	"sync"
	"time"

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
	// the hard limit it is dropped whatever it does. Both are checked at
	// each sweep (sweepEvery).
	maxQueued             = 1024
	DefaultQueueHardLimit = 16 * maxQueued
	DefaultStallTimeout   = 10 * time.Second
)

// limitEmits disconnects a socket that emits faster than the rate.
func (sess *session) limitEmits() {
	sess.sock.Use(sess.checkEmitRate)
}

// emitLimiter is the socket's limiter, made at its first emit. A device
// emits only the legacy events, once when its user places or accepts an
// order, so most sockets never do, and one that has not keeps an object
// and ~100 bytes fewer for the collector to mark.
func (sess *session) emitLimiter() *rate.Limiter {
	if l := sess.emits.Load(); l != nil {
		return l
	}
	l := rate.NewLimiter(rate.Limit(sess.s.cfg.EmitRate), sess.s.cfg.EmitBurst)
	if sess.emits.CompareAndSwap(nil, l) {
		return l
	}
	return sess.emits.Load()
}

func (sess *session) checkEmitRate(_ []any, next func(error)) {
	if sess.emitLimiter().Allow() {
		next(nil)
		return
	}
	sess.s.metrics.dropped.WithLabelValues("emit_rate").Inc()
	sess.s.log.Info("socket emits too fast: disconnected", "room", sess.room)
	sess.sock.Disconnect(false)
}

// sweepEvery is how often the sweeper looks at every socket of the node:
// a login ends at most this long after its expiry, and a reader that
// stopped is dropped at most this long after its stall timeout.
const sweepEvery = time.Second

// sweepChunk is how many sockets the sweeper checks before it lets other
// goroutines run (~0.1 ms of work).
const sweepChunk = 128

// sweep looks at every socket of the node each sweepEvery, until stop is
// closed: it ends the sessions whose login has expired and drops the
// connections that stopped reading. One goroutine and one ticker for the
// node, where each socket had a timer and two listeners called on every
// packet (~0.25 KB per idle connection).
func (s *Server) sweep(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	var sessions []*session
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			sessions = s.sockets.appendAll(sessions[:0])
			for i, sess := range sessions {
				sess.check(now)
				if i%sweepChunk == sweepChunk-1 {
					// A sweep of 10,000 sessions takes 8–9 ms of CPU on a
					// slow VM: in one go it would hold the core for that
					// long, and every request arriving meanwhile would wait.
					runtime.Gosched()
				}
			}
			clear(sessions) // hold no session until the next sweep
		}
	}
}

// check is the sweep of one socket. Only the sweeper calls it.
func (sess *session) check(now time.Time) {
	if sess.ended.Load() || sess.dropped {
		return
	}
	if !now.Before(sess.expires) {
		sess.dropped = true
		go sess.expire() // Disconnect may wait for the socket's writer
		return
	}
	// The engine queues each packet and hands the queue to the transport
	// whenever the transport is free; a transport stuck writing to a
	// reader that does not read takes nothing more.
	waiting, flushed := sess.conn.Queue()
	if flushed != sess.flushed || waiting <= maxQueued {
		sess.flushed, sess.progressAt = flushed, now
	}
	cfg := &sess.s.cfg
	if waiting > cfg.QueueHardLimit || (waiting > maxQueued && now.Sub(sess.progressAt) > cfg.StallTimeout) {
		sess.dropped = true
		sess.s.metrics.dropped.WithLabelValues("slow_reader").Inc()
		go sess.conn.Close(true)
	}
}

// accounts tracks each account's sessions on this node, by the account's
// room, oldest first. It lists sessions, not sockets, so that the sweep
// reaches each session's state and its connection's queue without going
// through the socket (a cache miss or two per socket, 10,000 a second).
type accounts struct {
	mu    sync.Mutex
	rooms map[string][]*session
}

// add records sess under its room and returns the oldest sessions beyond
// max, for the caller to disconnect.
func (a *accounts) add(sess *session, max int) []*session {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := append(a.rooms[sess.room], sess)
	var drop []*session
	if max > 0 && len(list) > max {
		drop = append(drop, list[:len(list)-max]...)
		list = append([]*session(nil), list[len(list)-max:]...)
	}
	a.rooms[sess.room] = list
	return drop
}

// appendAll appends every listed session to dst.
func (a *accounts) appendAll(dst []*session) []*session {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, list := range a.rooms {
		dst = append(dst, list...)
	}
	return dst
}

func (a *accounts) remove(sess *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	room := sess.room
	list := a.rooms[room]
	for i, s := range list {
		if s == sess {
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
