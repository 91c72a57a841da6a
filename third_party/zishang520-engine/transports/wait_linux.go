package transports

import (
	"net"
	"syscall"
)

// orderbell patch: readWaiter returns a function that blocks until conn has
// bytes to read (or is closed, or its read deadline passes), or nil when
// conn is not a plain socket. It peeks one byte with MSG_PEEK|MSG_DONTWAIT
// and parks on the runtime's poller while there is none, so the caller waits
// from its own shallow frame. Errors are left for the next real read to
// report.
func readWaiter(conn net.Conn) func() {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() { _ = rc.Read(hasData) }
}

// hasData reports whether fd can be read without blocking: data, end of
// stream, or an error for the real read to see.
func hasData(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EINTR
}
