package engine

import (
	"bufio"
	"net"
	"net/http"
)

// orderbell patch: bufferedHijacker hands gorilla a read buffer the server
// owns. With Upgrader.ReadBufferSize 0, gorilla reads the connection through
// the hijacked *bufio.Reader (this one), so the WebSocket transport can tell
// when it is empty (types.WebSocketConn.Reader) and wait for the socket to
// become readable before calling NextReader — from a shallow frame, rather
// than deep inside gorilla and bufio. At rest that lets the runtime shrink
// the reader goroutine's stack (grown to 8 KB while handling the connect)
// to 4 KB: 4 KB less per idle connection, and less stack for the GC to
// scan.
type bufferedHijacker struct {
	http.ResponseWriter
	reader *bufio.Reader // wsReadBufferSize, once hijacked
}

// wsReadBufferSize is the read buffer of a WebSocket connection, which
// every idle connection keeps: the smallest gorilla takes (it reads
// through a hijacked reader only when it is over 256 bytes), rounded up to
// the allocator's size class (288). Upstream's DefaultWSReadBufferSize was
// 1 KB. A client's frames are mostly pongs and short emits; a longer one
// (a connect with its token, ~350 bytes) is read in more than one read(2).
const wsReadBufferSize = 288

func (h *bufferedHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	conn, brw, err := hj.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// gorilla refuses a client that sent data before the handshake
		// completed; let it see that, with the server's own reader.
		return conn, brw, err
	}
	h.reader = bufio.NewReaderSize(conn, wsReadBufferSize)
	return conn, bufio.NewReadWriter(h.reader, brw.Writer), nil
}
