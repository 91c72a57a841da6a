// Package engine provides the Engine.IO server implementation, including HTTP/WebSocket/WebTransport handling and protocol management.
package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/quic-go/webtransport-go"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/errors"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
	webtrans "github.com/zishang520/socket.io/v3/pkg/webtransport"
)

const (
	// DefaultWSReadBufferSize is the default read buffer size for WebSocket connections.
	DefaultWSReadBufferSize = 1024

	// DefaultWSWriteBufferSize is the default write buffer size for WebSocket connections.
	DefaultWSWriteBufferSize = 1024
)

// orderbell patch: without a WriteBufferPool every WebSocket connection holds
// its own write buffer for its whole life, idle or not. With it, gorilla takes
// a buffer (DefaultWSWriteBufferSize plus the frame header) from the pool when
// a message starts and puts it back once the message is written. One pool for
// the one WriteBufferSize the Upgrader uses, as gorilla asks; *sync.Pool
// satisfies its BufferPool interface.
var wsWriteBufferPool = &sync.Pool{}

type server struct {
	BaseServer

	httpServer *types.HttpServer
}

// new server.
func MakeServer() Server {
	s := &server{BaseServer: MakeBaseServer()}

	s.Prototype(s)

	return s
}

// create server.
func NewServer(opt any) Server {
	s := MakeServer()

	s.Construct(opt)

	return s
}

func (s *server) SetHttpServer(httpServer *types.HttpServer) {
	s.httpServer = httpServer
}

func (s *server) HttpServer() *types.HttpServer {
	return s.httpServer
}

func (s *server) Init() {
}

func (s *server) Cleanup() {
}

func (s *server) CreateTransport(transportName string, ctx *types.HttpContext) (transports.Transport, error) {
	if transport, ok := s.TransportsByName()[transportName]; ok {
		return transport.New(ctx), nil
	}
	return nil, errors.ErrUnsupportedTransport
}

// Handles an Engine.IO HTTP request.
func (s *server) HandleRequest(ctx *types.HttpContext) {
	serverLog.Debug(`handling "%s" http request "%s"`, ctx.Method(), ctx.Request().RequestURI)

	callback := func(codeMessage *types.CodeMessage, errorContext map[string]any) {
		if ctx.IsDone() || ctx.Context().Err() != nil {
			return
		}
		if codeMessage != nil {
			s.emitAbortRequest(ctx, codeMessage, errorContext)
			return
		}

		if sid := ctx.Query().Peek("sid"); sid != "" {
			serverLog.Debug("setting new request for existing client")
			if socket, ok := s.Clients().Load(sid); ok {
				socket.Transport().OnRequest(ctx)
			} else {
				abortRequest(ctx, UNKNOWN_SID, map[string]any{"sid": sid})
			}
		} else {
			if codeMessage, t := s.Proto().Handshake(ctx.Query().Peek("transport"), ctx); t == nil {
				abortRequest(ctx, codeMessage, nil)
			}
		}
	}

	s.Proto().ApplyMiddlewares(ctx, func(err error) {
		// Middleware may resume after the response ended or the request was canceled.
		if ctx.IsDone() || ctx.Context().Err() != nil {
			return
		}
		if err != nil {
			callback(BAD_REQUEST, map[string]any{"name": "MIDDLEWARE_FAILURE"})
		} else {
			callback(s.Proto().Verify(ctx, false))
		}
	})

	// Wait for data to be written to the client.
	<-ctx.Done()
}

// Handles an Engine.IO HTTP Upgrade.
func (s *server) HandleUpgrade(ctx *types.HttpContext) {
	callback := func(codeMessage *types.CodeMessage, errorContext map[string]any) {
		if ctx.IsDone() || ctx.Context().Err() != nil {
			return
		}
		if codeMessage != nil {
			s.emitAbortUpgrade(ctx, codeMessage, errorContext)
			return
		}

		wsc := &types.WebSocketConn{EventEmitter: types.NewEventEmitter()}

		ws := &websocket.Upgrader{
			// orderbell patch: 0 makes gorilla read through the hijacked
			// reader, which bufferedHijacker sizes wsReadBufferSize.
			ReadBufferSize:    0,
			WriteBufferSize:   DefaultWSWriteBufferSize,
			WriteBufferPool:   wsWriteBufferPool, // orderbell patch: an idle connection holds no write buffer
			EnableCompression: s.Opts().PerMessageDeflate() != nil,
			Error: func(_ http.ResponseWriter, _ *http.Request, _ int, reason error) {
				// response is written by emitAbortRequest below
				wsc.Emit("error", reason)
			},
		}

		if cors := s.Opts().Cors(); cors != nil && cors.Origin != nil {
			ws.CheckOrigin = func(r *http.Request) bool {
				origin := r.Header.Get("Origin")
				if origin == "" {
					return true
				}
				return cors.IsOriginAllowed(origin, cors.Origin)
			}
		}

		// delegate to ws
		hj := &bufferedHijacker{ResponseWriter: ctx.Response()}
		if conn, err := ws.Upgrade(hj, ctx.Request(), ctx.ResponseHeaders().All()); err != nil {
			s.emitAbortRequest(ctx, BAD_REQUEST, map[string]any{"name": "UPGRADE_FAILURE"})
			serverLog.Debug("websocket error before upgrade: %s", err.Error())
		} else {
			conn.SetReadLimit(s.Opts().MaxHttpBufferSize())
			wsc.Conn = conn
			wsc.Reader = hj.reader
			s.onWebSocket(ctx, wsc)
		}
	}

	s.Proto().ApplyMiddlewares(ctx, func(err error) {
		// Middleware may resume after the response ended or the request was canceled.
		if ctx.IsDone() || ctx.Context().Err() != nil {
			return
		}
		if err != nil {
			callback(BAD_REQUEST, map[string]any{"name": "MIDDLEWARE_FAILURE"})
		} else {
			callback(s.Proto().Verify(ctx, true))
		}
	})
}

// Called upon a ws.io connection.
func (s *server) onWebSocket(ctx *types.HttpContext, wsc *types.WebSocketConn) {
	onUpgradeError := func(...any) {
		serverLog.Debug("websocket error before upgrade")
		// wsc.close() not needed
	}

	_ = wsc.On("error", onUpgradeError)

	transportName := ctx.Query().Peek("transport")
	if transport, ok := s.TransportsByName()[transportName]; ok && !transport.HandlesUpgrades() {
		serverLog.Debug("transport doesnt handle upgraded requests")
		_ = wsc.Close()
		return
	}

	// get client id
	id := ctx.Query().Peek("sid")

	// keep a reference to the ws.Socket
	ctx.Websocket = wsc

	if len(id) == 0 {
		if codeMessage, t := s.Proto().Handshake(transportName, ctx); t == nil {
			abortUpgrade(ctx, codeMessage, nil)
		} else {
			// transport error handling takes over
			wsc.RemoveListener("error", onUpgradeError)
		}
		return
	}

	client, ok := s.Clients().Load(id)

	if !ok {
		serverLog.Debug("upgrade attempt for closed client")
		_ = wsc.Close()
	} else if client.Upgrading() {
		serverLog.Debug("transport has already been trying to upgrade")
		_ = wsc.Close()
	} else if client.Upgraded() {
		serverLog.Debug("transport had already been upgraded")
		_ = wsc.Close()
	} else {
		serverLog.Debug("upgrading existing transport")

		// transport error handling takes over
		wsc.RemoveListener("error", onUpgradeError)

		s.prepareUpgrade(transportName, ctx, client)
	}
}

func (s *server) prepareUpgrade(transportName string, ctx *types.HttpContext, client Socket) {
	ctx.IdleTimeout = s.Opts().IdleTimeout()
	var transport transports.Transport
	if !withTransportInitialization(ctx, s.Opts().UpgradeTimeout(), func(aborted func() bool) bool {
		var err error
		transport, err = s.Proto().CreateTransport(transportName, ctx)
		if err != nil {
			serverLog.Debug("upgrading not existing transport")
			return false
		}
		if state := transport.ReadyState(); aborted() || state == "closing" || state == "closed" {
			return false
		}
		transport.SetPerMessageDeflate(s.Opts().PerMessageDeflate())
		client.MaybeUpgrade(transport)
		return true
	}) && transport != nil {
		transport.Close()
	}
}

func (s *server) OnWebTransportSession(ctx *types.HttpContext, wt *webtransport.Server) {
	if allowRequest := s.Opts().AllowRequest(); allowRequest != nil {
		if err := allowRequest(ctx); err != nil {
			s.emitAbortRequest(ctx, FORBIDDEN, map[string]any{"message": err.Error()})
			return
		}
	}

	// Validate Engine CORS per request without changing the shared WT server's
	// origin policy, which belongs to its caller and is configured before serving.
	if cors := s.Opts().Cors(); cors != nil && cors.Origin != nil {
		origin := ctx.Request().Header.Get("Origin")
		if origin != "" && !cors.IsOriginAllowed(origin, cors.Origin) {
			s.emitAbortRequest(ctx, FORBIDDEN, map[string]any{"message": "origin not allowed"})
			return
		}
	}

	session, err := wt.Upgrade(ctx.Response(), ctx.Request())
	if err != nil {
		serverLog.Debug("upgrading failed: %s", err.Error())
		s.emitAbortRequest(ctx, BAD_REQUEST, map[string]any{"name": "UPGRADE_FAILURE"})
		return
	}

	timeout := utils.SetTimeout(func() {
		serverLog.Debug("the client failed to establish a bidirectional stream in the given period")
		_ = session.CloseWithError(0, "")
	}, s.Opts().UpgradeTimeout())
	defer utils.ClearTimeout(timeout)

	stream, err := session.AcceptStream(ctx.Context())
	if err != nil {
		serverLog.Debug("accepting WebTransport stream failed: %s", err.Error())
		_ = session.CloseWithError(http.StatusBadRequest, BAD_REQUEST.Message)
		return
	}

	wtc := webtrans.NewConn(session, stream, true, 0, 0, nil, nil, nil)
	wtc.SetReadLimit(s.Opts().MaxHttpBufferSize())

	ctx.WebTransport = &types.WebTransportConn{EventEmitter: types.NewEventEmitter(), Conn: wtc}

	if s.Opts().IdleTimeout() > 0 {
		_ = wtc.SetReadDeadline(time.Now().Add(s.Opts().IdleTimeout()))
	}

	mt, message, err := wtc.NextReader()
	if err != nil {
		serverLog.Debug("stream is closed: %s", err.Error())
		abortUpgrade(ctx, BAD_REQUEST, nil)
		return
	}

	var data types.BufferInterface

	switch mt {
	case webtrans.BinaryMessage:
		data = types.NewBytesBuffer(nil)
		if _, err := data.ReadFrom(message); err != nil {
			serverLog.Debug("WebTransport handshake data read failed: %s", err.Error())
			abortUpgrade(ctx, BAD_REQUEST, nil)
			return
		}
	case webtrans.TextMessage:
		data = types.NewStringBuffer(nil)
		if _, err := data.ReadFrom(message); err != nil {
			serverLog.Debug("WebTransport handshake data read failed: %s", err.Error())
			abortUpgrade(ctx, BAD_REQUEST, nil)
			return
		}
	}
	if c, ok := message.(io.Closer); ok {
		_ = c.Close()
	}

	utils.ClearTimeout(timeout)

	value, _ := parser.Parserv4().DecodePacket(data)

	if v, ok := value.Data.(io.Closer); ok {
		defer func() { _ = v.Close() }()
	}

	if value.Type != packet.OPEN {
		serverLog.Debug("invalid WebTransport handshake")
		abortUpgrade(ctx, BAD_REQUEST, nil)
		return
	}

	// WebTransport uses protocol v4 for both new sessions and upgrades.
	ctx.Query().Set("EIO", "4")
	if data, ok := value.Data.(types.BufferInterface); ok && data.Len() == 0 {
		if codeMessage, t := s.Proto().Handshake(transports.WEBTRANSPORT, ctx); t == nil {
			abortUpgrade(ctx, codeMessage, nil)
		}
		return
	}

	var wth struct {
		Sid string `json:"sid"`
	}

	decoder := json.NewDecoder(value.Data)
	if decoder.Decode(&wth) != nil || decoder.Decode(&struct{}{}) != io.EOF {
		serverLog.Debug("invalid WebTransport handshake")
		abortUpgrade(ctx, BAD_REQUEST, nil)
		return
	}

	if len(wth.Sid) == 0 {
		serverLog.Debug("invalid WebTransport handshake")
		abortUpgrade(ctx, BAD_REQUEST, nil)
		return
	}

	client, ok := s.Clients().Load(wth.Sid)

	if !ok {
		serverLog.Debug("upgrade attempt for closed client")
		_ = session.CloseWithError(0, "")
	} else if client.Protocol() != 4 {
		serverLog.Debug("WebTransport requires protocol version 4")
		_ = session.CloseWithError(0, "")
	} else if client.Upgrading() {
		serverLog.Debug("transport has already been trying to upgrade")
		_ = session.CloseWithError(0, "")
	} else if client.Upgraded() {
		serverLog.Debug("transport had already been upgraded")
		_ = session.CloseWithError(0, "")
	} else {
		serverLog.Debug("upgrading existing transport")

		s.prepareUpgrade(transports.WEBTRANSPORT, ctx, client)
	}
}

// Captures upgrade requests for a types.HttpServer.
func (s *server) Attach(server *types.HttpServer, opts any) {
	options, _ := opts.(config.AttachOptionsInterface)
	path := s.ComputePath(options)

	_ = server.Once("close", func(...any) {
		s.Close()
	})

	_ = server.Once("listening", func(...any) {
		s.Proto().Init()
	})

	server.HandleFunc(path, s.ServeHTTP)
}

// Captures upgrade requests for a http.Handler, Need to handle server shutdown disconnecting client connections.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		serverLog.Debug(`intercepting request for path "%s"`, utils.CleanPath(r.URL.Path))
		s.HandleRequest(types.NewHttpContext(w, r))
	} else if s.Transports().Has(transports.WEBSOCKET) {
		s.HandleUpgrade(types.NewHttpContext(w, r))
	} else {
		http.Error(w, "Not Implemented", http.StatusNotImplemented)
	}
}

// Close the HTTP long-polling request
func abortRequest(ctx *types.HttpContext, codeMessage *types.CodeMessage, errorContext map[string]any) {
	serverLog.Debug("abortRequest %d, %+v", codeMessage.Code, errorContext)
	statusCode := http.StatusBadRequest
	if codeMessage == FORBIDDEN {
		statusCode = http.StatusForbidden
	}
	message := codeMessage.Message
	if errorContext != nil {
		if m, ok := errorContext["message"]; ok {
			message = utils.TryCast[string](m)
		}
	}
	ctx.ResponseHeaders().Set("Content-Type", "application/json")
	_ = ctx.SetStatusCode(statusCode)
	if b, err := json.Marshal(types.CodeMessage{Code: codeMessage.Code, Message: message}); err == nil {
		_, _ = ctx.Write(b)
		return
	}
	_, _ = io.WriteString(ctx, `{"code":400,"message":"Bad request"}`)
}

func (s *server) emitAbortRequest(ctx *types.HttpContext, codeMessage *types.CodeMessage, errorContext map[string]any) {
	s.Emit("connection_error", &types.ErrorMessage{
		CodeMessage: codeMessage,
		Req:         ctx,
		Context:     errorContext,
	})
	abortRequest(ctx, codeMessage, errorContext)
}

// Close the WebSocket connection
func abortUpgrade(ctx *types.HttpContext, codeMessage *types.CodeMessage, errorContext map[string]any) {
	_ = ctx.On("error", func(...any) {
		serverLog.Debug("ignoring error from closed connection")
	})

	message := codeMessage.Message
	if errorContext != nil {
		if m, ok := errorContext["message"]; ok {
			message = utils.TryCast[string](m)
		}
	}

	if ctx.Websocket != nil {
		defer func() { _ = ctx.Websocket.Close() }()
		_ = ctx.Websocket.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, message))
	} else if ctx.WebTransport != nil {
		_ = ctx.WebTransport.CloseWithError(http.StatusBadRequest, message)
	} else {
		_ = ctx.SetStatusCode(http.StatusBadRequest)
		_, _ = io.WriteString(ctx, message)
	}
}

func (s *server) emitAbortUpgrade(ctx *types.HttpContext, codeMessage *types.CodeMessage, errorContext map[string]any) {
	s.Emit("connection_error", &types.ErrorMessage{
		CodeMessage: codeMessage,
		Req:         ctx,
		Context:     errorContext,
	})
	abortUpgrade(ctx, codeMessage, errorContext)
}
