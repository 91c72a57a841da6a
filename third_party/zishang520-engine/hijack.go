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
	reader *bufio.Reader // DefaultWSReadBufferSize, once hijacked
}

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
	h.reader = bufio.NewReaderSize(conn, DefaultWSReadBufferSize)
	return conn, bufio.NewReadWriter(h.reader, brw.Writer), nil
}
