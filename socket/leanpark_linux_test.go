package socket

import (
	"syscall"
	"testing"
	"time"
)

// Closing the watcher while its set has events must not hang: close
// waits for the watcher's callback, which takes the lock close held
// (a shutdown hung so in CI, sockets closing as the watcher closed).
// A socket left readable in the set, level-triggered, keeps the callback
// busy taking the lock.
func TestLeanWatcherClosesWhileEventsArrive(t *testing.T) {
	for i := range 200 {
		w, err := newLeanWatcher()
		if err != nil {
			t.Fatal(err)
		}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fds[0])}
		if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
			t.Fatal(err)
		}
		if _, err := syscall.Write(fds[1], []byte("x")); err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() { w.close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the watcher's close hung with events arriving", i)
		}
		_ = syscall.Close(fds[0])
		_ = syscall.Close(fds[1])
	}
}
