package transports

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/zishang520/socket.io/v3/pkg/queue"
)

// orderbell patch: a WebSocket connection's reader needs no goroutine while
// the connection is idle. When its read buffer is empty the reader arms the
// connection's socket in one process-wide epoll set (one-shot) and returns,
// freeing its goroutine (which ends, or is kept for other work: queue.Go);
// when the socket becomes readable (data, end of stream or an error) the
// epoll set's single watcher starts the reader again. The watcher itself
// parks on the runtime's poller (the epoll set's fd is registered there
// like any socket), so no thread blocks in epoll_wait.
//
// Upstream kept a goroutine blocked in gorilla's read per connection, and
// its stack: 4 KB even after patch 3, which the collector scans, and which
// counts towards the heap goal, at every idle connection.

// A readerPark is one connection's parking state.
type readerPark struct {
	rc     syscall.RawConn
	resume func() // starts the reader again; called on its own goroutine (queue.Go)

	state  atomic.Int32 // running or parked
	closed atomic.Bool  // the connection was closed by this side
	fd     int          // while parked (under watcher.mu)
}

const (
	running int32 = iota
	parked
)

// newReaderPark returns the parking state for conn, or nil when conn is not
// a plain socket or this system offers no epoll set (the reader then waits
// in its own goroutine, readWaiter).
func newReaderPark(conn net.Conn, resume func()) *readerPark {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil || theWatcher() == nil {
		return nil
	}
	return &readerPark{rc: rc, resume: resume}
}

// park arms the socket and reports whether the calling reader goroutine
// must now end (true), or go on reading itself (false: the connection was
// closed meanwhile, or could not be armed). Whoever moves the state from
// parked back to running starts the next reader; there is never more than
// one reader reading.
func (p *readerPark) park() bool {
	w := theWatcher()
	p.state.Store(parked)
	var armErr error
	if err := p.rc.Control(func(fd uintptr) { armErr = w.arm(int(fd), p) }); err != nil || armErr != nil {
		// Closed, or the set refused it: read here, unless someone else
		// has resumed this reader already.
		return !p.state.CompareAndSwap(parked, running)
	}
	// A close that came before the state was parked woke nobody (wake saw
	// running): see it here.
	if p.closed.Load() && p.state.CompareAndSwap(parked, running) {
		w.forget(p)
		return false
	}
	return true
}

// wake starts a parked reader after this side closed the connection (a
// closed socket leaves the epoll set without an event), so that it sees
// the close and runs the transport's close handling as it always did.
func (p *readerPark) wake() {
	p.closed.Store(true)
	if p.state.CompareAndSwap(parked, running) {
		theWatcher().forget(p)
		queue.Go(p.resume) // a kept goroutine (patch 12)
	}
}

// watcher is the process-wide epoll set and its parked readers by fd.
type watcher struct {
	epfd   int
	file   *os.File // epfd, registered with the runtime's poller
	mu     sync.Mutex
	parked map[int32]*readerPark
}

var (
	watcherOnce sync.Once
	theWatch    *watcher
)

// theWatcher is the watcher, started on first use; nil if it cannot be.
func theWatcher() *watcher {
	watcherOnce.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		if err := syscall.SetNonblock(epfd, true); err != nil {
			_ = syscall.Close(epfd)
			return
		}
		f := os.NewFile(uintptr(epfd), "orderbell-reader-parking")
		rc, err := f.SyscallConn()
		if err != nil {
			_ = f.Close()
			return
		}
		theWatch = &watcher{epfd: epfd, file: f, parked: map[int32]*readerPark{}}
		go theWatch.run(rc)
	})
	return theWatch
}

// arm registers p under fd and arms fd for one readiness event.
func (w *watcher) arm(fd int, p *readerPark) error {
	w.mu.Lock()
	p.fd = fd
	w.parked[int32(fd)] = p
	w.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)}
	// A socket parked before is still in the set, disarmed; a new one (or
	// one that reuses a closed socket's number) is not.
	err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
	if err == syscall.ENOENT {
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
	}
	if err != nil {
		w.forget(p)
	}
	return err
}

// forget drops p's registration, if it is still p's (its fd may already
// belong to another connection).
func (w *watcher) forget(p *readerPark) {
	w.mu.Lock()
	if w.parked[int32(p.fd)] == p {
		delete(w.parked, int32(p.fd))
	}
	w.mu.Unlock()
}

// run waits on the runtime's poller for the set to have events, and starts
// the reader of every socket that became readable.
func (w *watcher) run(rc syscall.RawConn) {
	events := make([]syscall.EpollEvent, 128)
	_ = rc.Read(func(uintptr) bool {
		for {
			n, err := syscall.EpollWait(w.epfd, events, 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return false // nothing ready: park until the set is readable
			}
			for _, ev := range events[:n] {
				w.mu.Lock()
				p := w.parked[ev.Fd]
				delete(w.parked, ev.Fd)
				w.mu.Unlock()
				if p != nil && p.state.CompareAndSwap(parked, running) {
					queue.Go(p.resume) // a kept goroutine (patch 12)
				}
			}
		}
	})
}
