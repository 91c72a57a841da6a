// Package engine implements the Engine.IO socket, which manages client connections, transport upgrades, and protocol state.
package engine

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/errors"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/slices"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

var socketLog = log.NewLog("engine:socket")

const (
	// DefaultUpgradeCheckInterval is the interval between upgrade readiness checks during transport upgrade.
	DefaultUpgradeCheckInterval = 100 * time.Millisecond
)

type socket struct {
	types.EventEmitter

	// The revision of the protocol:
	//
	// - 3rd is used in Engine.IO v3 / Socket.IO v2
	// - 4th is used in Engine.IO v4 and above / Socket.IO v3 and above
	//
	// It is found in the `EIO` query parameters of the HTTP requests.
	//
	// See: https://github.com/socketio/engine.io-protocol
	protocol int
	// A reference to the first HTTP request of the session
	//
	// TODO for the next major release: remove it
	//
	// orderbell patch: atomic, since ReleaseRequest replaces it with nil
	// while other goroutines may read it; released is then what is left.
	request  atomic.Pointer[types.HttpContext]
	released atomic.Pointer[types.RequestSnapshot]
	// The IP address of the client.
	remoteAddress string

	// The current state of the socket.
	readyState types.Atomic[string]
	// The current low-level transport.
	transport atomic.Pointer[transports.Transport]

	// This is the session identifier that the client will use in the subsequent HTTP requests. It must not be shared with
	// others parties, as it might lead to session hijacking.
	id        string
	server    BaseServer
	upgrading atomic.Bool
	upgraded  atomic.Bool
	// orderbell patch: the write buffer and the callback lists are fields by
	// value (upstream: each a pointer to its own object, made for every
	// socket; the zero Slice is ready to use). Upstream's list of cleanups
	// is gone: the socket owns its transport (setTransport).
	writeBuffer       types.Slice[*packet.Packet]
	packetsFn         types.Slice[SendCallback]
	sentCallbackFn    types.Slice[[]SendCallback]
	pingTimeoutTimer  atomic.Pointer[utils.Timer]
	pingIntervalTimer atomic.Pointer[utils.Timer]

	flushMu sync.Mutex
	flushed atomic.Uint64 // orderbell patch: packets handed to the transport (Queue)
}

// Queue is the number of packets waiting for the transport, and how many
// the transport has taken since the socket opened: a server can tell a
// client that stopped reading (packets waiting, none taken for a while)
// by reading it now and then, with no listener on every packet.
// (orderbell patch)
func (s *socket) Queue() (waiting int, flushed uint64) {
	return s.writeBuffer.Len(), s.flushed.Load()
}

func (s *socket) Protocol() int {
	return s.protocol
}

func (s *socket) Upgraded() bool {
	return s.upgraded.Load()
}

func (s *socket) Upgrading() bool {
	return s.upgrading.Load()
}

func (s *socket) Id() string {
	return s.id
}

func (s *socket) RemoteAddress() string {
	return s.remoteAddress
}

// orderbell patch: after ReleaseRequest, a context built from the
// snapshot, anew on each call.
func (s *socket) Request() *types.HttpContext {
	if r := s.request.Load(); r != nil {
		return r
	}
	if snap := s.released.Load(); snap != nil {
		return snap.Context()
	}
	return nil
}

// orderbell patch: ReleaseRequest lets the session's first request go,
// keeping its snapshot (types.HttpContext.Snapshot) with the headers named
// in keep. Call it once nothing needs the rest of the request: the
// connection's handshake has been read. Request answers from the snapshot
// afterwards.
func (s *socket) ReleaseRequest(keep ...string) {
	if r := s.request.Load(); r != nil {
		s.released.Store(r.Snapshot(keep...))
		s.request.Store(nil)
	}
}

func (s *socket) Transport() transports.Transport {
	if v := s.transport.Load(); v != nil {
		return *v
	}
	return nil
}

func (s *socket) Server() BaseServer {
	return s.server
}

func (s *socket) ReadyState() string {
	return s.readyState.Load()
}

func (s *socket) SetReadyState(state string) {
	socketLog.Debug("readyState updated from %s to %s", s.ReadyState(), state)

	s.readyState.Store(state)
}

// Client class.
func MakeSocket() Socket {
	s := &socket{
		EventEmitter: types.NewEventEmitter(),
	}
	s.readyState.Store("opening")

	return s
}

// Client class.
func NewSocket(id string, server BaseServer, transport transports.Transport, ctx *types.HttpContext, protocol int) Socket {
	s := MakeSocket()

	s.Construct(id, server, transport, ctx, protocol)

	return s
}

func (s *socket) Construct(id string, server BaseServer, transport transports.Transport, ctx *types.HttpContext, protocol int) {
	s.id = id
	s.server = server
	s.request.Store(ctx)
	s.protocol = protocol

	// Cache IP since it might not be in the req later
	if ctx.WebTransport != nil {
		s.remoteAddress = ctx.WebTransport.RemoteAddr().String()
	} else if ctx.Websocket != nil && ctx.Websocket.Conn != nil {
		s.remoteAddress = ctx.Websocket.RemoteAddr().String()
	} else {
		s.remoteAddress = ctx.Request().RemoteAddr
	}

	s.setTransport(transport)
	opened := s.onOpen()
	if ctx.TransportReadPermission() != nil {
		// Managed streams start heartbeat when their initialization completes.
		ctx.SetTransportReady(s.startHeartbeat)
	} else if opened {
		s.startHeartbeat()
	}
}

// openHandshake is the open packet's data. orderbell patch: upstream
// marshalled a map[string]any, whose keys encoding/json sorts through
// reflection, for every connection: 2.5% of the server's CPU in a connect
// burst. The fields are in the order Node's engine.io writes them.
type openHandshake struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// onOpen queues OPEN and reports whether it reached the open event.
func (s *socket) onOpen() bool {
	// Initialization can lose to a transport error or its startup deadline.
	if !s.readyState.CompareAndSwap("opening", "open") {
		return false
	}

	// sends an `open` packet
	s.Transport().SetSid(s.id)

	// orderbell patch: a struct (openHandshake), not a map.
	data, err := json.Marshal(openHandshake{
		Sid:          s.id,
		Upgrades:     s.getAvailableUpgrades(),
		PingInterval: int64(s.server.Opts().PingInterval() / time.Millisecond),
		PingTimeout:  int64(s.server.Opts().PingTimeout() / time.Millisecond),
		MaxPayload:   s.server.Opts().MaxHttpBufferSize(),
	})

	if err != nil {
		socketLog.Debug("json.Marshal err: %s", err)
		s.OnClose("encode error")
		return false
	}
	s.sendPacket(
		packet.OPEN,
		types.NewStringBuffer(data),
		nil, nil,
	)

	if i := s.server.Opts().InitialPacket(); i != nil {
		s.sendPacket(packet.MESSAGE, i, nil, nil)
	}

	if s.ReadyState() != "open" {
		return false
	}
	s.Emit("open")
	return true
}

func (s *socket) startHeartbeat() {
	if s.ReadyState() == "closed" {
		return
	}
	if s.protocol == 3 {
		// in protocol v3, the client sends a ping, and the server answers with a pong
		s.resetPingTimeout()
	} else {
		// in protocol v4, the server sends a ping, and the client answers with a pong
		s.schedulePing()
	}
}

// Called upon transport packet.
func (s *socket) onPacket(data *packet.Packet) {
	if data == nil {
		socketLog.Debug("packet received nil")
		return
	}

	if s.ReadyState() != "open" {
		socketLog.Debug("packet received with closed socket")
		return
	}

	// export packet event
	socketLog.Debug(`received packet %s`, data.Type)
	s.Emit("packet", data)

	switch data.Type {
	case packet.PING:
		if s.Transport().Protocol() != 3 {
			s.onError(errors.ErrInvalidHeartbeat)
			return
		}
		socketLog.Debug("got ping")
		if timer := s.pingTimeoutTimer.Load(); timer != nil {
			timer.Refresh()
		}
		s.sendPacket(packet.PONG, nil, nil, nil)
		s.Emit("heartbeat")
	case packet.PONG:
		if s.Transport().Protocol() == 3 {
			s.onError(errors.ErrInvalidHeartbeat)
			return
		}
		socketLog.Debug("got pong")
		utils.ClearTimeout(s.pingTimeoutTimer.Load())
		if timer := s.pingIntervalTimer.Load(); timer != nil {
			timer.Refresh()
		}
		s.Emit("heartbeat")
	case packet.ERROR:
		s.OnClose("parse error")
	case packet.MESSAGE:
		s.Emit("data", data.Data)
		s.Emit("message", data.Data)
	}
}

// Called upon transport error.
func (s *socket) onError(err error) {
	socketLog.Debug("transport error %v", err)
	s.OnClose("transport error", err)
}

// testHookPingSent, if set (by tests only), runs right after a ping is
// handed to the transport (orderbell patch).
var testHookPingSent atomic.Pointer[func()]

// orderbell patch: the first ping comes at a random point of the ping
// interval, not a whole interval after the handshake. Sockets that connect
// together (every client reconnecting after a restart, a load test) would
// otherwise be pinged together, every interval, forever, since each next
// ping is an interval after its pong: 10,000 sockets connected in 2 s took
// 0.8 s of CPU in a 3 s burst every 25 s, stalling everything else. A ping
// earlier than the interval is within the protocol (a client only times out
// when one is late). After the first, Refresh re-arms the timer for the
// whole interval, as upstream.
func firstPingDelay(interval time.Duration) time.Duration {
	if interval <= 0 {
		return interval
	}
	return 1 + rand.N(interval)
}

// Pings client every `this.pingInterval` and expects response
// within `this.pingTimeout` or closes connection.
func (s *socket) schedulePing() {
	interval := s.server.Opts().PingInterval()
	timer := utils.SetTimeoutFirst(func() {
		if s.ReadyState() == "closed" {
			return
		}
		socketLog.Debug("writing ping packet - expecting pong within %dms", int64(s.server.Opts().PingTimeout()/time.Millisecond))
		// orderbell patch: the timeout is armed before the ping is sent.
		// Upstream armed it after: a pong handled in between (the reader
		// runs on another thread, or this goroutine was descheduled) cleared
		// the previous timer, and the new one then closed a live connection
		// with "ping timeout" pingTimeout later (pingTimeout < pingInterval,
		// so no next ping cleared it first).
		s.resetPingTimeout()
		s.sendPacket(packet.PING, nil, nil, nil)
		if hook := testHookPingSent.Load(); hook != nil {
			(*hook)()
		}
	}, firstPingDelay(interval), interval)
	s.pingIntervalTimer.Store(timer)
	// A close may have cleared the old timer before this one was published.
	if s.ReadyState() == "closed" {
		utils.ClearTimeout(timer)
	}
}

// Resets ping timeout.
func (s *socket) resetPingTimeout() {
	utils.ClearTimeout(s.pingTimeoutTimer.Load())
	if s.ReadyState() == "closed" {
		return
	}
	timer := utils.SetTimeout(func() {
		if s.ReadyState() == "closed" {
			return
		}
		s.OnClose("ping timeout")
	}, s.resetPingTimeoutDuration())
	s.pingTimeoutTimer.Store(timer)
	if s.ReadyState() == "closed" {
		utils.ClearTimeout(timer)
	}
}
func (s *socket) resetPingTimeoutDuration() time.Duration {
	if s.protocol == 3 {
		return s.server.Opts().PingInterval() + s.server.Opts().PingTimeout()
	}
	return s.server.Opts().PingTimeout()
}

// Attaches handlers for the given transport.
// orderbell patch: the socket owns its transport (transports.Owner) and
// takes its events in OnTransportEvent; upstream put five listener closures
// on it and kept a sixth, the cleanup that removed them: seven objects per
// connection, for its life.
func (s *socket) setTransport(transport transports.Transport) {
	s.transport.Store(&transport)
	transport.SetOwner(s)
	// Closing can finish before the owner is set.
	if s.ReadyState() == "closed" {
		s.clearTransport()
	}
}

// OnTransportEvent handles the events of the socket's transport (orderbell
// patch). Upstream's "error" and "close" listeners were Once; both end in
// OnClose, which runs once, and clearTransport stops the events.
func (s *socket) OnTransportEvent(evt types.EventName, args ...any) {
	switch evt {
	case "packet":
		s.onPacket(slices.TryGetAny[*packet.Packet](args, 0))
	case "ready":
		s.flush()
	case "drain":
		s.onDrain()
	case "error":
		s.onError(slices.TryGetAny[error](args, 0))
	case "close":
		s.OnClose("transport close")
	}
}

// Upon transport "drain" event
func (s *socket) onDrain() {
	if seqFn, err := s.sentCallbackFn.Shift(); err == nil {
		socketLog.Debug("executing batch send callback")
		for _, fn := range seqFn {
			fn(s.Transport())
		}
	}
}

// Upgrades socket to the given transport
func (s *socket) MaybeUpgrade(transport transports.Transport) {
	socketLog.Debug(`might upgrade socket transport from "%s" to "%s"`, s.Transport().Name(), transport.Name())

	s.upgrading.Store(true)

	var check, cleanup func()
	var onPacket, onError, onTransportClose, onClose types.EventListener
	var upgradeTimeoutTimer, checkIntervalTimer atomic.Pointer[utils.Timer]

	onPacket = func(datas ...any) {
		data, ok := datas[0].(*packet.Packet)
		if !ok {
			return
		}
		sb := new(strings.Builder)
		_, _ = io.Copy(sb, data.Data)
		if data.Type == packet.PING && sb.String() == "probe" {
			socketLog.Debug("got probe ping packet, sending pong")
			transport.Send([]*packet.Packet{{Type: packet.PONG, Data: strings.NewReader("probe")}})
			s.Emit("upgrading", transport)

			utils.ClearInterval(checkIntervalTimer.Load())
			checkIntervalTimer.Store(utils.SetInterval(check, DefaultUpgradeCheckInterval))

		} else if packet.UPGRADE == data.Type && s.ReadyState() != "closed" {
			socketLog.Debug("got upgrade packet - upgrading")
			cleanup()
			s.Transport().Discard()

			s.upgraded.Store(true)

			s.clearTransport()
			s.setTransport(transport)
			s.Emit("upgrade", transport)
			s.flush()
			if s.ReadyState() == "closing" {
				transport.Close(func() {
					s.OnClose("forced close")
				})
			}
		} else {
			cleanup()
			transport.Close()
		}
	}

	// we force a polling cycle to ensure a fast upgrade
	check = func() {
		if transports.POLLING == s.Transport().Name() && s.Transport().Writable() {
			socketLog.Debug("writing a noop packet to polling for fast upgrade")
			s.Transport().Send([]*packet.Packet{{Type: packet.NOOP}})
		}
	}

	cleanup = func() {
		s.upgrading.Store(false)

		utils.ClearInterval(checkIntervalTimer.Load())
		utils.ClearTimeout(upgradeTimeoutTimer.Load())

		transport.RemoveListener("packet", onPacket)
		transport.RemoveListener("close", onTransportClose)
		transport.RemoveListener("error", onError)
		s.RemoveListener("close", onClose)
	}

	onError = func(errs ...any) {
		socketLog.Debug("client did not complete upgrade - %v", slices.TryGetAny[error](errs, 0))
		cleanup()
		transport.Close()
	}

	onTransportClose = func(...any) {
		onError("transport closed")
	}

	onClose = func(...any) {
		onError("socket closed")
	}

	// set transport upgrade timer
	upgradeTimeoutTimer.Store(utils.SetTimeout(func() {
		socketLog.Debug("client did not complete upgrade - closing transport")
		cleanup()
		transport.Close()
	}, s.server.Opts().UpgradeTimeout()))

	_ = transport.On("packet", onPacket)
	_ = transport.Once("close", onTransportClose)
	_ = transport.Once("error", onError)

	_ = s.Once("close", onClose)
	// A startup deadline may have closed the candidate before these listeners
	// were installed. Do not leave a dead candidate marked as upgrading.
	if state := transport.ReadyState(); state == "closing" || state == "closed" || s.ReadyState() == "closed" {
		cleanup()
		transport.Close()
	}
}

// Clears listeners and timers associated with current transport.
func (s *socket) clearTransport() {
	s.Transport().SetOwner(nil)

	// silence further transport errors and prevent uncaught exceptions
	_ = s.Transport().On("error", func(...any) {
		socketLog.Debug("error triggered by discarded transport")
	})

	// ensure transport won't stay open
	s.Transport().Close()

	utils.ClearTimeout(s.pingTimeoutTimer.Load())
}

// Called upon transport considered closed.
// Possible reasons: `ping timeout`, `client error`, `parse error`,
// `transport error`, `server close`, `transport close`
func (s *socket) OnClose(reason string, description ...error) {
	if s.readyState.Swap("closed") != "closed" {
		description = append(description, nil)

		// clear timers
		utils.ClearTimeout(s.pingIntervalTimer.Load())

		utils.ClearTimeout(s.pingTimeoutTimer.Load())

		// clean writeBuffer in defer, so developers can still
		// grab the writeBuffer on 'close' event
		defer s.writeBuffer.Clear()

		s.packetsFn.Clear()

		s.sentCallbackFn.Clear()

		s.clearTransport()
		s.Emit("close", reason, description[0])
	}
}

// Sends a message packet.
func (s *socket) Send(
	data io.Reader,
	options *packet.Options,
	callback SendCallback,
) Socket {
	s.sendPacket(packet.MESSAGE, data, options, callback)
	return s
}

// Alias of [Send]
func (s *socket) Write(
	data io.Reader,
	options *packet.Options,
	callback SendCallback,
) Socket {
	s.sendPacket(packet.MESSAGE, data, options, callback)
	return s
}

// Sends a packet.
func (s *socket) sendPacket(
	packetType packet.Type,
	data io.Reader,
	options *packet.Options,
	callback SendCallback,
) {
	if readystate := s.ReadyState(); readystate != "closing" && readystate != "closed" {
		// orderbell patch: a debug line's or an event's arguments are made
		// (boxed, in a slice of their own: 5% of the bytes an order
		// allocated) only when the line is printed or the event heard.
		if log.DEBUG.Load() {
			socketLog.Debug(`sending packet "%s" (%p)`, packetType, data)
		}

		// Clone options to avoid data races when the same Options pointer
		// is shared across multiple sockets during broadcast.
		//
		// orderbell patch: the packet and its options are one allocation,
		// and the compress flag points at one of two shared values (nothing
		// writes through Options.Compress: senders replace the pointer).
		// Upstream made the options, the packet and one or two bools apart
		// for every socket a packet went to.
		sent := &sentPacket{}
		opts := &sent.options
		if options != nil {
			opts.WsPreEncodedFrame = options.WsPreEncodedFrame
		}
		if options == nil || options.Compress == nil || *options.Compress {
			opts.Compress = &compressOn
		} else {
			opts.Compress = &compressOff
		}

		sent.packet = packet.Packet{
			Type:    packetType,
			Data:    data,
			Options: opts,
		}
		packet := &sent.packet

		// exports packetCreate event
		if s.ListenerCount("packetCreate") > 0 { // orderbell patch
			s.Emit("packetCreate", packet)
		}

		s.writeBuffer.Push(packet)

		// add send callback to object, if defined
		if callback != nil {
			s.packetsFn.Push(callback)
		}

		s.flush()
	}
}

// sentPacket is a packet sendPacket makes, with its options (orderbell patch).
type sentPacket struct {
	packet  packet.Packet
	options packet.Options
}

// compressOn and compressOff are the values every sent packet's
// Options.Compress points at (orderbell patch). Never written.
var compressOn, compressOff = true, false

// Attempts to flush the packets buffer.
func (s *socket) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()

	if s.ReadyState() != "closed" && s.Transport().Writable() {
		if wbuf := s.writeBuffer.AllAndClear(); len(wbuf) > 0 {
			s.flushed.Add(uint64(len(wbuf))) // orderbell patch: Queue
			socketLog.Debug("flushing buffer to transport")
			// orderbell patch: arguments made only for a listener (sendPacket)
			if s.ListenerCount("flush") > 0 {
				s.Emit("flush", wbuf)
			}
			if s.server.ListenerCount("flush") > 0 {
				s.server.Emit("flush", s, wbuf)
			}
			if packetsFn := s.packetsFn.AllAndClear(); len(packetsFn) > 0 {
				s.sentCallbackFn.Push(packetsFn)
			} else {
				s.sentCallbackFn.Push(nil)
			}
			s.Transport().Send(wbuf)
			s.Emit("drain")
			if s.server.ListenerCount("drain") > 0 { // orderbell patch
				s.server.Emit("drain", s)
			}
		}
	}
}

// Get available upgrades for this socket.
func (s *socket) getAvailableUpgrades() []string {
	availableUpgrades := []string{}
	for _, upg := range s.server.Upgrades(s.Transport().Name()) {
		if s.server.Transports().Has(upg) && (s.protocol == 4 || upg != transports.WEBTRANSPORT) {
			availableUpgrades = append(availableUpgrades, upg)
		}
	}
	return availableUpgrades
}

// Closes the socket and underlying transport.
func (s *socket) Close(discard bool) {
	if discard {
		if state := s.ReadyState(); state == "open" || state == "closing" {
			// The transport may have closed before its listeners were installed.
			// Finalize the socket even when Transport.Close cannot call back.
			s.Transport().Discard()
			s.OnClose("forced close")
		}
		return
	}

	if !s.readyState.CompareAndSwap("open", "closing") {
		return
	}

	if length := s.writeBuffer.Len(); length > 0 {
		socketLog.Debug("there are %d remaining packets in the buffer, waiting for the 'drain' event", length)
		_ = s.Once("drain", func(...any) {
			socketLog.Debug("all packets have been sent, closing the transport")
			s.closeTransport()
		})
		return
	}

	socketLog.Debug("the buffer is empty, closing the transport right away")
	s.closeTransport()
}

// Closes the underlying transport.
func (s *socket) closeTransport() {
	socketLog.Debug("closing the transport")
	s.Transport().Close(func() { s.OnClose("forced close") })
}
