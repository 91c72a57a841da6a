package types

import (
	"bufio"

	"github.com/gorilla/websocket"
)

type WebSocketConn struct {
	EventEmitter

	*websocket.Conn

	// orderbell patch: the connection's read buffer, when the Engine.IO
	// server gave gorilla its own (nil otherwise). While it holds no bytes,
	// the reader can wait for the socket to become readable from a shallow
	// frame, so an idle connection's reader goroutine keeps a small stack.
	Reader *bufio.Reader
}

func (t *WebSocketConn) Close() error {
	defer t.Emit("close")
	return t.Conn.Close()
}
