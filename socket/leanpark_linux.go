package socket

import (
	"os"
	"sync"
	"syscall"

	"github.com/zishang520/socket.io/v3/pkg/queue"
)

// leanWatcher is one epoll set holding every idle lean connection's socket
// (one-shot: a socket is armed again after its reader has read it dry).
// The set's own fd is registered with the runtime's poller like any
// socket, so no thread blocks in epoll_wait: the watcher goroutine parks
// in Go's poller until the set has events.
type leanWatcher struct {
	epfd   int
	file   *os.File
	mu     sync.Mutex
	conns  map[int32]*leanConn
	closed bool
}

func newLeanWatcher() (*leanWatcher, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "orderbell-lean-watcher")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	w := &leanWatcher{epfd: epfd, file: f, conns: map[int32]*leanConn{}}
	go w.run(rc)
	return w, nil
}

// arm registers c and arms its socket for one readiness event. Arming
// looks at the socket's state then, so data that came since its reader's
// last read is not missed.
func (w *leanWatcher) arm(c *leanConn) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || c.gone.Load() {
		return os.ErrClosed
	}
	// A socket armed before is still in the set, disarmed; a new one is not.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: c.fd}
	err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_MOD, int(c.fd), &ev)
	if err == syscall.ENOENT {
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(c.fd), &ev)
	}
	if err != nil {
		delete(w.conns, c.fd) // closed meanwhile: keep no entry for its fd
		return err
	}
	w.conns[c.fd] = c
	return nil
}

// forget drops c, before its fd is closed (and can be another's).
func (w *leanWatcher) forget(c *leanConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conns[c.fd] == c {
		delete(w.conns, c.fd)
		if !w.closed {
			_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(c.fd), nil)
		}
	}
}

// close stops the watcher (its goroutine ends) and closes the set; no
// epoll call is made on its fd after (the number may be reused).
func (w *leanWatcher) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	// Not under mu: Close waits for run's callback to return, and the
	// callback takes mu (it then sees closed and returns).
	_ = w.file.Close()
}

// run starts the reader of every socket that became readable, until close.
func (w *leanWatcher) run(rc syscall.RawConn) {
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
			w.mu.Lock()
			if w.closed {
				w.mu.Unlock()
				return true
			}
			for _, ev := range events[:n] {
				if c := w.conns[ev.Fd]; c != nil {
					queue.Go(c.readReady)
				}
			}
			w.mu.Unlock()
		}
	})
}

// rawRead and rawWrite are one system call on the non-blocking fd: they
// return EAGAIN rather than wait.
func rawRead(fd uintptr, p []byte) (int, error)  { return syscall.Read(int(fd), p) }
func rawWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
