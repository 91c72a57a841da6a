//go:build !linux

package socket

import "errors"

// leanWatcher needs epoll (leanpark_linux.go): elsewhere the lean layer is
// unavailable and every connection stays the library's.
type leanWatcher struct{}

func newLeanWatcher() (*leanWatcher, error) {
	return nil, errors.New("the lean WebSocket layer needs Linux's epoll")
}

func (*leanWatcher) arm(*leanConn) error { return errors.New("unavailable") }
func (*leanWatcher) forget(*leanConn)    {}
func (*leanWatcher) close()              {}

func rawRead(uintptr, []byte) (int, error)  { return 0, errors.New("unavailable") }
func rawWrite(uintptr, []byte) (int, error) { return 0, errors.New("unavailable") }
