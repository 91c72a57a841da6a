package socket

import (
	"net/url"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

var client_log = log.NewLog("socket.io:client")

// Client represents a Socket.IO client connection.
type Client struct {
	conn engine.Socket

	id      string
	server  *Server
	encoder parser.Encoder
	decoder parser.Decoder
	// orderbell patch: the client's sockets, one per namespace joined
	// (almost always one), in a short list under socketsMu. Upstream kept
	// two sync.Maps (by id and by namespace): a hash-trie node and an
	// entry per map and client, ~0.45 KB per idle connection.
	socketsMu      sync.Mutex
	sockets        []*Socket
	connectTimeout atomic.Pointer[utils.Timer]
	closed         atomic.Bool

	mu sync.Mutex
}

// MakeClient creates a new Client instance.
func MakeClient() *Client {
	return &Client{}
}

// NewClient creates a new Client and initializes it with the given server and connection.
func NewClient(server *Server, conn engine.Socket) *Client {
	c := MakeClient()

	c.Construct(server, conn)

	return c
}

// Conn returns the underlying Engine.IO socket connection.
func (c *Client) Conn() engine.Socket {
	return c.conn
}

// Construct initializes the client with the given server and connection.
func (c *Client) Construct(server *Server, conn engine.Socket) {
	c.server = server
	c.conn = conn
	c.encoder = server.Encoder()
	c.decoder = server._parser.NewDecoder()
	c.id = conn.Id()
	c.setup()
}

// Request returns the reference to the request that originated the Engine.IO connection.
func (c *Client) Request() *types.HttpContext {
	return c.conn.Request()
}

// setup sets up event listeners for the client.
func (c *Client) setup() {
	_ = c.decoder.On("decoded", c.ondecoded)
	_ = c.conn.On("data", c.ondata)
	_ = c.conn.On("error", c.onerror)

	c.connectTimeout.Store(utils.SetTimeout(func() {
		if len(c.socketList()) == 0 {
			client_log.Debug("no namespace joined yet, close the client")
			c.close()
		} else {
			client_log.Debug("the client has already joined a namespace, nothing to do")
		}
	}, c.server._connectTimeout))
	// Publish the timer before subscribing to close so teardown cannot miss a
	// timer installed later. Initialization may already have timed out.
	_ = c.conn.Once("close", c.onclose)
	if c.closed.Load() {
		// An immediate connect timeout can finish before its timer is stored.
		c.destroy()
	} else if c.conn.ReadyState() == "closed" {
		c.onclose("transport close")
	}
}

// connect connects a client to a namespace with optional auth parameters.
func (c *Client) connect(name string, auth map[string]any) {
	if _, ok := c.server._nsps.Load(name); ok {
		client_log.Debug("connecting to namespace %s", name)
		c.doConnect(name, auth)
		return
	}
	c.server._checkNamespace(name, auth, func(dynamicNspName Namespace) {
		if dynamicNspName != nil {
			c.doConnect(name, auth)
		} else {
			client_log.Debug("creation of namespace %s was denied", name)
			c._packet(&parser.Packet{
				Type: parser.CONNECT_ERROR,
				Nsp:  name,
				Data: map[string]any{
					"message": "Invalid namespace",
				},
			}, nil)
		}
	})
}

// doConnect connects a client to a namespace and adds the socket to the client.
func (c *Client) doConnect(name string, auth map[string]any) {
	nsp := c.server.Of(name, nil)
	nsp.Add(c, auth, func(socket *Socket) {
		c.socketsMu.Lock()
		c.sockets = append(c.sockets, socket)
		c.socketsMu.Unlock()
		if connectTimeout := c.connectTimeout.Load(); connectTimeout != nil {
			utils.ClearTimeout(connectTimeout)
			c.connectTimeout.Store(nil)
		}
	})
}

// _disconnect disconnects from all namespaces and closes the transport.
func (c *Client) _disconnect() {
	for _, socket := range c.takeSockets() {
		socket.Disconnect(false)
	}
	c.close()
}

// _remove removes a socket from the client. Called by each Socket.
func (c *Client) _remove(socket *Socket) {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	for i, s := range c.sockets {
		if s.Id() == socket.Id() {
			// A new list: socketList callers may be reading the old one.
			c.sockets = slices.Delete(slices.Clone(c.sockets), i, i+1)
			return
		}
	}
	client_log.Debug("ignoring remove for %s", socket.Id())
}

// socketList is the client's sockets now; the caller must not modify it.
// (orderbell patch)
func (c *Client) socketList() []*Socket {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	return c.sockets
}

// takeSockets empties the client's list and returns what it held.
// (orderbell patch)
func (c *Client) takeSockets() []*Socket {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	list := c.sockets
	c.sockets = nil
	return list
}

// socketOf is the client's socket in namespace name. (orderbell patch)
func (c *Client) socketOf(name string) (*Socket, bool) {
	for _, s := range c.socketList() {
		if s.Nsp().Name() == name {
			return s, true
		}
	}
	return nil, false
}

// close closes the underlying connection.
func (c *Client) close() {
	if c.conn.ReadyState() == "open" {
		client_log.Debug("forcing transport close")
		c.conn.Close(false)
		c.onclose("forced server close")
	}
}

// _packet writes a packet to the transport.
func (c *Client) _packet(packet *parser.Packet, opts *WriteOptions) {
	if c.conn.ReadyState() != "open" {
		client_log.Debug("ignoring packet write %v", packet)
		return
	}

	if opts == nil {
		opts = &WriteOptions{}
	}

	c.WriteToEngine(c.encoder.Encode(packet), opts)
}

// WriteToEngine writes encoded packets to the Engine.IO transport.
func (c *Client) WriteToEngine(encodedPackets []types.BufferInterface, opts *WriteOptions) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if opts.Volatile && !c.conn.Transport().Writable() {
		client_log.Debug("volatile packet is discarded since the transport is not currently writable")
		return
	}

	for _, encodedPacket := range encodedPackets {
		// orderbell patch: a text packet is shared, not copied, by every
		// socket a broadcast reaches. Each gets a reader of its own (a
		// transport reads the packet as it encodes it) over the same bytes,
		// clipped to their length so that nothing can append into them.
		// Upstream copied the bytes, with the buffer's spare capacity, for
		// each socket. Binary packets are still cloned.
		if text, ok := encodedPacket.(*types.StringBuffer); ok {
			// orderbell patch: a transport that writes a broadcast's
			// pre-encoded frame as it is (the engine copy's WebSocket with
			// no per-message-deflate) never reads the packet, so it gets
			// the shared one, with no reader of its own. (A WebSocket stays
			// one: the engine upgrades from polling, never back.)
			if fw, ok := c.conn.Transport().(frameWriter); ok && opts.WsPreEncodedFrame != nil && fw.WritesPreEncodedFrame() {
				c.conn.Write(text, &opts.Options, nil)
				continue
			}
			c.conn.Write(types.NewStringBuffer(slices.Clip(text.Bytes())), &opts.Options, nil)
			continue
		}
		c.conn.Write(encodedPacket.Clone(), &opts.Options, nil)
	}
}

// frameWriter is a transport that can tell whether it writes a packet's
// Options.WsPreEncodedFrame without reading the packet (orderbell patch).
type frameWriter interface{ WritesPreEncodedFrame() bool }

// ondata is called with incoming transport data.
func (c *Client) ondata(args ...any) {
	// error is needed for protocol violations (GH-1880)
	if err := c.decoder.Add(args[0]); err != nil {
		client_log.Debug("invalid packet format")
		c.onerror(err)
	}
}

// ondecoded is called when the parser fully decodes a packet.
func (c *Client) ondecoded(args ...any) {
	packet, _ := args[0].(*parser.Packet)
	var namespace string
	var authPayload map[string]any
	if c.conn.Protocol() == 3 {
		if parsed, err := url.Parse(packet.Nsp); err == nil {
			namespace = parsed.Path
			authPayload = utils.MapValues(parsed.Query(), func(value []string) any {
				return value
			})
		}
	} else {
		namespace = packet.Nsp
		authPayload, _ = packet.Data.(map[string]any)
	}
	socket, ok := c.socketOf(namespace)
	if !ok && packet.Type == parser.CONNECT {
		c.connect(namespace, authPayload)
	} else if ok && packet.Type != parser.CONNECT && packet.Type != parser.CONNECT_ERROR {
		socket.Enqueue(func() { socket._onpacket(packet) })
	} else {
		client_log.Debug("invalid state (packet type: %s)", packet.Type.String())
		c.close()
	}
}

// onerror handles an error from the transport or parser.
func (c *Client) onerror(args ...any) {
	for _, socket := range c.socketList() {
		socket._onerror(args[0])
	}
	c.conn.Close(false)
}

// onclose is called upon transport close.
func (c *Client) onclose(args ...any) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	client_log.Debug("client close with reason %v", args[0])

	// ignore a potential subsequent `close` event
	c.destroy()

	// `nsps` and `sockets` are cleaned up seamlessly
	for _, socket := range c.takeSockets() {
		socket._onclose(args...)
	}

	c.decoder.Destroy() // clean up decoder
}

// destroy cleans up event listeners and timers for the client.
func (c *Client) destroy() {
	c.conn.RemoveListener("data", c.ondata)
	c.conn.RemoveListener("error", c.onerror)
	c.conn.RemoveListener("close", c.onclose)
	c.decoder.RemoveListener("decoded", c.ondecoded)

	if connectTimeout := c.connectTimeout.Load(); connectTimeout != nil {
		utils.ClearTimeout(connectTimeout)
		c.connectTimeout.Store(nil)
	}
}
