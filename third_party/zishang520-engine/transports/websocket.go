// Package transports implements the WebSocket transport for Engine.IO.
package transports

import (
	"errors"
	"io"
	"net"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/slices"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var wsLog = log.NewLog("engine:ws")

type websocket struct {
	Transport

	idleTimeout time.Duration

	socket     *types.WebSocketConn
	writeQueue queue.Queue // orderbell patch: by value (upstream: a pointer, one more object per connection)

	// orderbell patch: waits for the socket to be readable while the read
	// buffer is empty (nil: gorilla's own blocking read, as upstream).
	waitReadable func()
	// orderbell patch: or, where it can (park_linux.go), ends the reader
	// goroutine while the read buffer is empty and starts a new one when
	// the socket is readable.
	park *readerPark
	// orderbell patch: the read buffer, released while parked (readbuf.go).
	readBuf readBuffer
}

// WebSocket transport
func MakeWebSocket() Websocket {
	w := &websocket{Transport: MakeTransport()}

	w.Prototype(w)

	return w
}

func NewWebSocket(ctx *types.HttpContext) Websocket {
	w := MakeWebSocket()

	w.Construct(ctx)

	return w
}

func (w *websocket) Construct(ctx *types.HttpContext) {
	w.Transport.Construct(ctx)

	w.idleTimeout = ctx.IdleTimeout
	w.socket = ctx.Websocket
	if w.socket.Reader != nil {
		w.park = newReaderPark(w.socket.NetConn(), func() { w.read(true) })
		w.readBuf = readBuffer{br: w.socket.Reader, conn: w.socket.NetConn(), size: w.socket.Reader.Size()}
		if w.park == nil {
			w.waitReadable = readWaiter(w.socket.NetConn())
		}
	}

	_ = w.socket.On("error", func(errs ...any) {
		w.OnError("websocket error", slices.TryGetAny[error](errs, 0))
	})
	_ = w.socket.Once("close", func(...any) {
		w.OnClose()
	})

	w.SetWritable(true)
	w.SetPerMessageDeflate(nil)

	StartReader(w, ctx.TransportReadPermission(), w.message)
}

// Transport name
func (w *websocket) Name() string {
	return WEBSOCKET
}

// WritesPreEncodedFrame reports whether send writes a packet's
// Options.WsPreEncodedFrame as it is, never reading the packet's data: with
// no per-message-deflate (orderbell patch: the socket copy's WriteToEngine
// then hands such a transport a broadcast's shared data).
func (w *websocket) WritesPreEncodedFrame() bool { return w.PerMessageDeflate() == nil }

// Advertise upgrade support.
func (w *websocket) HandlesUpgrades() bool {
	return true
}

func (w *websocket) _error(err error) {
	if ws.IsUnexpectedCloseError(err) || errors.Is(err, net.ErrClosed) {
		w.socket.Emit("close")
	} else {
		w.socket.Emit("error", err)
	}
}

// Receiving Messages
func (w *websocket) message() { w.read(false) }

// read is the reader: it reads messages until the connection ends, or, with
// w.park, until the read buffer is empty and the socket is armed (the
// watcher then starts the next reader, on a kept goroutine: queue.Go).
// woken: started because the socket became readable (or was closed), so
// read before parking again.
func (w *websocket) read(woken bool) {
	parked := false
	// Guarantee cleanup on any exit path — covers errors that _error()
	// routes as "error" (not "close") on the socket and any future paths
	// that return without calling _error at all.
	defer func() {
		if !parked && !w.writeQueue.IsShuttingDown() {
			w.socket.Emit("close")
		}
	}()

	for {
		if w.idleTimeout > 0 {
			_ = w.socket.SetReadDeadline(time.Now().Add(w.idleTimeout))
		}
		// orderbell patch: at rest, end this goroutine (w.park), or park
		// here rather than inside NextReader, gorilla and bufio (this
		// goroutine's stack grew while it handled the connect; the runtime
		// halves a parked goroutine's stack only while it uses under a
		// quarter of it, which it does from here). Bytes already in the
		// read buffer are read at once.
		if !woken && w.socket.Reader != nil && w.socket.Reader.Buffered() == 0 {
			if w.park != nil {
				// Released before the socket is armed: from then on the
				// next reader may already be running.
				w.readBuf.release()
				if w.park.park() {
					parked = true
					return
				}
			} else if w.waitReadable != nil {
				w.waitReadable()
			}
		}
		if w.park != nil {
			// A reader that woke, or could not park, reads with a buffer
			// again (a no-op when it has one).
			w.readBuf.restore()
		}
		woken = false
		mt, message, err := w.socket.NextReader()
		if err != nil {
			w._error(err)
			return
		}

		switch mt {
		case ws.BinaryMessage:
			read := types.NewBytesBuffer(nil)
			if _, err := read.ReadFrom(message); err != nil {
				w._error(err)
			} else {
				w.onMessage(read)
			}
		case ws.TextMessage:
			read := types.NewStringBuffer(nil)
			if _, err := read.ReadFrom(message); err != nil {
				w._error(err)
			} else {
				w.onMessage(read)
			}
		case ws.CloseMessage:
			w.socket.Emit("close")
			if c, ok := message.(io.Closer); ok {
				_ = c.Close()
			}
			return
		case ws.PingMessage:
		case ws.PongMessage:
		}
		if c, ok := message.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

func (w *websocket) onMessage(data types.BufferInterface) {
	wsLog.Debug(`websocket received "%s"`, data)
	w.OnData(data)
}

// Writes a packet payload.
func (w *websocket) Send(packets []*packet.Packet) {
	w.SetWritable(false)
	w.writeQueue.Enqueue(func() { w.send(packets) })
}

// send runs exclusively on writeQueue, including its completion events.
func (w *websocket) send(packets []*packet.Packet) {
	defer func() {
		w.Emit("drain")
		w.SetWritable(true)
		w.Emit("ready")
	}()

	for _, packet := range packets {
		// always creates a new object since ws modifies it
		compress := true
		if packet.Options != nil {
			if packet.Options.Compress != nil && !*packet.Options.Compress {
				compress = false
			}

			if w.WritesPreEncodedFrame() && packet.Options.WsPreEncodedFrame != nil {
				mt := ws.BinaryMessage
				if _, ok := packet.Options.WsPreEncodedFrame.(*types.StringBuffer); ok {
					mt = ws.TextMessage
				}
				// orderbell patch: a PreparedMessage is meant to be built once and
				// written to many connections; built here, per socket per broadcast,
				// it copied the payload into a fresh frame (plus a mutex and a map)
				// for every recipient: 45% of all bytes allocated under load. With
				// no per-message-deflate, WriteMessage writes the same single frame
				// straight into the connection's write buffer, with no allocation.
				if err := w.socket.WriteMessage(mt, packet.Options.WsPreEncodedFrame.Bytes()); err != nil {
					wsLog.Debug(`Send Error "%s"`, err.Error())
					w._error(err)
					return
				}
				continue

			}
		}

		data, err := w.Parser().EncodePacket(packet, w.SupportsBinary())
		if err != nil {
			wsLog.Debug(`Send Error "%s"`, err.Error())
			w._error(err)
			return
		}
		w.write(data, compress)
	}
}
func (w *websocket) write(data types.BufferInterface, compress bool) {
	if w.PerMessageDeflate() != nil {
		if data.Len() < w.PerMessageDeflate().Threshold {
			compress = false
		}
	}
	wsLog.Debug(`writing %#v`, data)

	w.socket.EnableWriteCompression(compress)
	mt := ws.BinaryMessage
	if _, ok := data.(*types.StringBuffer); ok {
		mt = ws.TextMessage
	}
	write, err := w.socket.NextWriter(mt)
	if err != nil {
		w._error(err)
		return
	}
	defer func() {
		if err := write.Close(); err != nil {
			w._error(err)
			return
		}
	}()
	if _, err := io.Copy(write, data); err != nil {
		w._error(err)
		return
	}
}

// OnClose releases the write queue and hijacked connection for every close path,
// including peer/error closes that bypass DoClose after the state becomes closed.
func (w *websocket) OnClose() {
	w.writeQueue.TryClose()
	w.Transport.OnClose()
	_ = w.socket.Close()
	w.wakeParked()
}

// wakeParked starts a parked reader after the connection was closed here,
// so that it sees the close (orderbell patch; park_linux.go).
func (w *websocket) wakeParked() {
	if w.park != nil {
		w.park.wake()
	}
}

// Closes the transport.
func (w *websocket) DoClose(fn types.Callable) {
	wsLog.Debug(`closing`)
	w.writeQueue.TryClose()
	defer func() {
		_ = w.socket.Close()
		w.wakeParked()
	}()
	if fn != nil {
		fn()
	}
}
