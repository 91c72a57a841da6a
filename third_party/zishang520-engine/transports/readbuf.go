package transports

import (
	"bufio"
	"net"
)

// orderbell patch: a parked connection (park_linux.go) keeps no read
// buffer. Parking needs the buffer empty, so nothing is lost by letting it
// go; the reader started when the socket is readable gives it a new one
// before it reads. gorilla reads through this same *bufio.Reader (the
// hijacked one, types.WebSocketConn.Reader) and never asks its size again,
// so swapping what it holds is invisible to it. 288 bytes per idle
// connection (about 4% of its live heap); a wake costs a new buffer and a
// throw-away Reader (~400 bytes), one per pong every 25 s at rest.
type readBuffer struct {
	br   *bufio.Reader
	conn net.Conn
	size int
}

// release drops the buffer. Only when it is empty, and only while no
// reader can run (before the socket is armed).
func (b *readBuffer) release() {
	*b.br = bufio.Reader{}
}

// restore gives the reader a buffer again, if it was released.
func (b *readBuffer) restore() {
	if b.br.Size() == 0 {
		*b.br = *bufio.NewReaderSize(b.conn, b.size)
	}
}
