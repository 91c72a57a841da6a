package socket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
	"golang.org/x/time/rate"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

// Config is what the socket server needs from orderbell's configuration.
type Config struct {
	// AllowedOrigins are the foreign origins whose pages may connect with
	// credentials. Same-origin pages need no entry.
	AllowedOrigins []string
	// MaxMessageBytes bounds one incoming message; default 1 MB.
	MaxMessageBytes int64
	// ConnectTimeout closes a connection that has not joined a namespace,
	// such as one refused as unauthorized; default 10 s.
	ConnectTimeout time.Duration
	// Redis, when set, carries every emit to the sockets of every node.
	Redis *Redis
	// Metrics registers the socket series; nil registers none.
	Metrics prometheus.Registerer
	// EmitRate (per second) and EmitBurst bound a socket's own emits;
	// defaults DefaultEmitRate and DefaultEmitBurst.
	EmitRate  float64
	EmitBurst int
	// SocketsPerAccount bounds one account's sockets on this node;
	// default DefaultSocketsPerAccount.
	SocketsPerAccount int
	// StallTimeout is how long a connection with a full queue may take
	// nothing before it is dropped; default DefaultStallTimeout.
	StallTimeout time.Duration
	// QueueHardLimit drops a connection with this many packets waiting,
	// whatever it does; default DefaultQueueHardLimit.
	QueueHardLimit int
	// PingInterval and PingTimeout are Engine.IO's heartbeat; defaults the
	// Node server's (25 s and 20 s). Tests shorten them.
	PingInterval, PingTimeout time.Duration
	// Lean serves Engine.IO 4 connections (WebSocket, and long-polling
	// with its upgrade) with the lean layer (lean.go, leanpoll.go) rather
	// than the library.
	Lean bool
}

// Server is the Socket.IO server. It implements Notifier.
type Server struct {
	cfg     Config
	io      *socketio.Server
	handler http.Handler
	lean    *lean // nil unless cfg.Lean
	tokens  *auth.Tokens
	db      *models.DB
	log     *slog.Logger
	metrics *metrics
	sockets accounts

	// gates serialise, per account, a reconnecting socket's replay with
	// this node's live deliveries to that account, so replayed alerts come
	// before live ones.
	gates [256]sync.Mutex

	sweepStop, sweepStopped chan struct{}
	sweepOnce               sync.Once

	// deliveries are what Notify and OrderUpdated queued, by the account
	// they go to (its Shard: one account's all go through the same queue,
	// in order), each queue delivered by a goroutine of its own
	// (deliverQueued) until Close. A replay holds its account's gate while
	// it queries the database: only the alerts queued behind it in the same
	// queue wait.
	deliveries [16]deliveryQueue
}

// deliveryQueue is a FIFO that never blocks the one who adds to it (the
// order writer, right after its commit).
type deliveryQueue struct {
	mu        sync.Mutex
	pending   []delivery
	wake      chan struct{} // 1 slot: something was added
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	// out is the queue's goroutine's own, for each of its broadcasts.
	out broadcastScratch
}

// broadcastScratch is what a broadcast hands the adapter, kept by the
// delivery goroutine from one broadcast to the next: both adapters (the
// in-memory one, and Redis's, which publishes and then delivers locally)
// are done with the packet and options when Broadcast returns. Made anew
// for each, they were a twentieth of the garbage an order made.
type broadcastScratch struct {
	rooms, except types.Set[socketio.Room] // a zero Set is an empty one
	opts          socketio.BroadcastOptions
	packet        parser.Packet
	data          [2]any
}

// delivery is one queued emit: a stored alert, or (update) ORDER_UPDATED
// for order, skipping the socket origin. Rooms and payloads are built when
// it is delivered, not by the order writer that queues it.
type delivery struct {
	alert  models.Notification
	order  models.Order
	origin string
	update bool
}

// session is one socket's state, from its handshake to its disconnect.
// Everything orderbell keeps per socket is here, and its listeners are
// the session's methods, so a socket costs one allocation of ours rather
// than a closure and a captured variable per listener (10,000 idle
// sockets are 10,000 of these).
type session struct {
	// What the handshake established.
	credentials

	// Set when the socket connects (onConnection).
	s         *Server
	sock      *socketio.Socket
	conn      engine.Socket // sock's connection, for the sweeper
	room      string
	connected prometheus.Gauge
	emits     atomic.Pointer[rate.Limiter] // made at the first emit (emitLimiter)
	ended     atomic.Bool                  // end has run

	// The sweeper's alone (check): how many packets the transport had
	// taken at the last sweep, when it last took some (or had few
	// waiting), and whether the session was ended for its expiry or its
	// queue.
	flushed    uint64
	progressAt time.Time
	dropped    bool
}

// NewServer builds the Socket.IO server; serve it with Handler.
func NewServer(cfg Config, tokens *auth.Tokens, db *models.DB, log *slog.Logger) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 1_000_000
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.EmitRate <= 0 {
		cfg.EmitRate, cfg.EmitBurst = DefaultEmitRate, DefaultEmitBurst
	}
	if cfg.SocketsPerAccount <= 0 {
		cfg.SocketsPerAccount = DefaultSocketsPerAccount
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.QueueHardLimit <= 0 {
		cfg.QueueHardLimit = DefaultQueueHardLimit
	}
	opts := socketio.DefaultServerOptions()
	opts.SetServeClient(false)
	opts.SetAllowEIO3(true)
	opts.SetMaxHttpBufferSize(cfg.MaxMessageBytes)
	opts.SetConnectTimeout(cfg.ConnectTimeout)
	if cfg.PingInterval > 0 {
		opts.SetPingInterval(cfg.PingInterval)
	}
	if cfg.PingTimeout > 0 {
		opts.SetPingTimeout(cfg.PingTimeout)
	}
	if len(cfg.AllowedOrigins) > 0 {
		opts.SetCors(&types.Cors{Origin: cfg.AllowedOrigins, Credentials: true})
	}
	if cfg.Redis != nil {
		opts.SetAdapter(cfg.Redis.adapter)
	}

	s := &Server{
		cfg: cfg, tokens: tokens, db: db, log: log, metrics: newMetrics(cfg.Metrics),
		sockets:   accounts{rooms: map[string][]*session{}},
		sweepStop: make(chan struct{}), sweepStopped: make(chan struct{}),
	}
	go s.sweep(s.sweepStop, s.sweepStopped)
	for i := range s.deliveries {
		q := &s.deliveries[i]
		q.wake, q.stop, q.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go s.deliverQueued(q)
	}
	s.io = socketio.NewServer(nil, opts)
	s.io.Use(s.authenticate)
	_ = s.io.On("connection", func(args ...any) { s.onConnection(args[0].(*socketio.Socket)) })
	s.handler = s.io.ServeHandler(opts)
	if cfg.Lean {
		l, err := newLean(s)
		if err == nil && cfg.Redis != nil {
			if err = l.takeRemote(cfg.Redis); err != nil {
				l.closeAll()
			}
		}
		if err != nil {
			log.Warn("lean WebSocket layer unavailable: every connection stays the library's", "err", err)
			return s
		}
		s.lean = l
		lib := s.handler
		s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.lean.serveHTTP(w, r) {
				lib.ServeHTTP(w, r)
			}
		})
	}
	return s
}

// Handler serves the Engine.IO endpoint (mount it at /socket.io/).
func (s *Server) Handler() http.Handler { return s.handler }

// Close disconnects every socket so its client reconnects elsewhere, and
// stops delivering (alerts still queued are stored: the devices get them
// replayed when they reconnect, and pages load the orders' state).
func (s *Server) Close() {
	s.sweepOnce.Do(func() { close(s.sweepStop) })
	<-s.sweepStopped
	for i := range s.deliveries {
		q := &s.deliveries[i]
		q.closeOnce.Do(func() { close(q.stop) })
		<-q.stopped
	}
	if s.lean != nil {
		s.lean.closeAll()
	}
	done := make(chan struct{})
	s.io.Close(func(error) { close(done) })
	<-done
}

// authenticate is the handshake middleware: the token comes from
// auth.token or, for browsers, the accessToken cookie.
func (s *Server) authenticate(sock *socketio.Socket, next func(*socketio.ExtendedError)) {
	sess, err := s.handshake(sock)
	if err != nil {
		s.metrics.refused.WithLabelValues(refusalReason(err)).Inc()
		s.log.Debug("socket handshake refused", "reason", err.Error(), "address", sock.Handshake().Address)
		next(socketio.NewExtendedError(refusal(err), nil))
		return
	}
	sock.SetData(sess)
	// The handshake has been read: the connection's first HTTP request,
	// which the engine keeps for the session's life (about 3 KB with its
	// parsed headers, response and contexts), can go but for a snapshot
	// of what a handshake may still be asked for
	// (third_party/zishang520-engine, patch 6). Its auth payload (the
	// login token, with last_notification_id) goes too
	// (third_party/zishang520-socket, patch 4). Here, not in
	// onConnection: that runs after the CONNECT answer is on its way, and
	// nothing may see them kept once the client is connected.
	sock.Conn().ReleaseRequest(keptHeaders...)
	sock.ReleaseAuth()
	next(nil)
}

// errBadLastSeen refuses a handshake whose last_notification_id is not a
// whole number; every other refusal reads "unauthorized".
var errBadLastSeen = errors.New("invalid last_notification_id")

func refusal(err error) string {
	if errors.Is(err, errBadLastSeen) {
		return errBadLastSeen.Error()
	}
	return "unauthorized"
}

// cookieToken is the accessToken cookie of r, if any (SPEC §4: browsers).
func cookieToken(r *http.Request) string {
	if c, err := r.Cookie(auth.CookieName); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) handshake(sock *socketio.Socket) (*session, error) {
	// sock.Auth, not Handshake(): that copies every header (patched library).
	c, err := s.login(sock.Auth(), func() string { return cookieToken(sock.Request().Request()) })
	if err != nil {
		return nil, err
	}
	return &session{credentials: c}, nil
}

// credentials are what a CONNECT established: who, until when, and what
// to replay.
type credentials struct {
	principal models.Principal
	expires   time.Time
	lastSeen  int64
	replay    bool
}

// login reads a CONNECT's auth payload, for the library's sockets and the
// lean layer's alike: the token from auth.token or, when there is none,
// the cookie (asked for only then), and auth.last_notification_id.
func (s *Server) login(authPayload map[string]any, cookie func() string) (credentials, error) {
	var token string
	if raw, ok := authPayload["token"]; ok {
		t, isString := raw.(string)
		if !isString {
			return credentials{}, fmt.Errorf("%w: auth.token is not a string", auth.ErrInvalidToken)
		}
		token = t
	} else {
		token = cookie()
	}
	if token == "" {
		return credentials{}, errNoToken
	}
	p, expires, err := s.tokens.Parse(token)
	if err != nil {
		return credentials{}, err
	}
	c := credentials{principal: p, expires: expires}
	if raw, ok := authPayload["last_notification_id"]; ok && raw != nil {
		id, ok := wholeNumber(raw)
		if !ok {
			return credentials{}, errBadLastSeen
		}
		c.lastSeen, c.replay = id, true
	}
	return c, nil
}

// wholeNumber reads a non-negative integer sent as a JSON number or a
// decimal string (localStorage hands pages strings).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n < 0 || n != math.Trunc(n) || n > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case string:
		if n == "" || strings.TrimLeft(n, "0123456789") != "" {
			return 0, false
		}
		id, err := strconv.ParseInt(n, 10, 64)
		return id, err == nil
	}
	return 0, false
}

func (s *Server) onConnection(sock *socketio.Socket) {
	sess := sock.Data().(*session)
	sess.s, sess.sock, sess.conn = s, sock, sock.Conn()
	room := sess.principal.Room()
	sess.room = room
	sess.progressAt = time.Now() // before the sweeper can see it (s.sockets.add)
	sess.connected = s.metrics.connected.WithLabelValues(string(sess.principal.Role))
	// Listed before its end can run, so end always finds it.
	evicted := s.sockets.add(sess, s.cfg.SocketsPerAccount)
	_ = sock.On("disconnect", sess.onDisconnect)
	// Counted once its end is sure to be counted too (a disconnect from
	// here on reaches onDisconnect, its reason included; one before, the
	// deferred check below); end's Dec may come first, for a moment.
	sess.connected.Inc()
	// The library checks the connection is open, then adds the socket to
	// its client; a close in between never reaches the socket, which then
	// stays in the namespace and its rooms for good, its disconnect event
	// never sent. Whatever closed before this point is finished and
	// counted here (0.15% of sessions under churn).
	defer func() {
		if gone(sock) {
			sess.end(closedWhileConnecting)
			sock.Disconnect(false)
		}
	}()
	sess.limitEmits()
	for _, old := range evicted {
		s.metrics.dropped.WithLabelValues("too_many_sockets").Inc()
		old.sock.Disconnect(false)
	}
	_ = sock.On(models.EventSubmitOrder, sess.onSubmitOrder)
	_ = sock.On(models.EventApprovalOrder, sess.onApprovalOrder)

	gate := s.gate(sess.principal)
	gate.Lock()
	defer gate.Unlock()
	if gone(sock) {
		// Closed, or evicted by a newer socket of the account, while it
		// waited its turn (a reconnect storm): no replay query for it;
		// the deferred check above ends the session.
		return
	}
	var missed []models.Notification
	if sess.replay {
		var err error
		if missed, err = s.missed(sess); err != nil {
			// Joining without the replay would let the next live alert
			// move the device's last id past what it missed: close the
			// connection instead, and the client retries.
			s.log.Warn("replay missed alerts: closing the connection", "room", room, "err", err)
			s.metrics.dropped.WithLabelValues("replay_failed").Inc()
			// Not discard: a polling client must get the close on its
			// pending poll, or it notices only at the ping timeout.
			go sock.Conn().Close(false)
			return
		}
	}
	// A replayed alert whose live emit comes later (its request is still
	// between commit and emit, here or on another node) must skip this
	// socket: it joins the alert's own room, which every live emit of that
	// alert excludes, before it joins the account's room.
	seen := make([]socketio.Room, len(missed))
	for i, n := range missed {
		seen[i] = seenRoom(n.ID)
	}
	if len(seen) > 0 {
		sock.Join(seen...)
		time.AfterFunc(seenFor, func() {
			for _, r := range seen {
				sock.Leave(r)
			}
		})
	}
	sock.Join(socketio.Room(room))
	for _, n := range missed {
		_ = sock.Emit(n.Event, AlertFor(n))
	}
	s.metrics.replayed.Add(float64(len(missed)))
}

// gone reports whether sock was disconnected, or its connection closed.
func gone(sock *socketio.Socket) bool {
	return !sock.Connected() || sock.Conn().ReadyState() != "open"
}

// expire ends a session whose login has expired (the sweeper finds it).
func (sess *session) expire() {
	sess.s.log.Debug("socket token expired", "room", sess.room)
	// The DISCONNECT packet alone: the client sees "io server
	// disconnect", does not reconnect, and closes its connection.
	// (Disconnect(true) can close the transport before the packet is
	// written, and the client then reconnects.) A client that keeps the
	// connection open is closed after a grace period.
	sess.sock.Disconnect(false)
	time.AfterFunc(expiredGrace, func() { sess.sock.Conn().Close(true) })
}

func (sess *session) onDisconnect(args ...any) { sess.end(disconnectReason(args)) }

// end undoes what onConnection set up and counts the socket's end by
// reason, once. The library can send a socket's disconnect event twice (a
// server disconnect racing its connection's close): the first is counted.
func (sess *session) end(reason string) {
	if !sess.ended.CompareAndSwap(false, true) {
		return
	}
	sess.s.metrics.disconnects.WithLabelValues(reason).Inc()
	sess.connected.Dec()
	sess.s.sockets.remove(sess)
}

func (sess *session) onSubmitOrder(args ...any) {
	sess.s.onLegacyEmit(sess.principal, models.EventSubmitOrder, args)
}

func (sess *session) onApprovalOrder(args ...any) {
	sess.s.onLegacyEmit(sess.principal, models.EventApprovalOrder, args)
}

// keptHeaders are the request headers a socket keeps after its connect,
// for whatever asks for its handshake later (another node's FetchSockets):
// where the client is and what it runs. Not the cookie: it holds the login
// token, which the socket no longer needs (~0.25 KB a connection). A
// second CONNECT on the same connection (no socket.io client sends one: a
// socket that disconnects closes its connection) authenticates with
// auth.token.
var keptHeaders = []string{"Origin", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip"}

// expiredGrace is how long a client whose login expired may keep its
// connection open after being told.
const expiredGrace = 10 * time.Second

// seenFor is how long a replayed socket keeps out of the live emits of
// what it was replayed: live emits follow their commit within moments.
const seenFor = time.Minute

// seenRoom holds the sockets that were replayed alert id.
func seenRoom(id int64) socketio.Room {
	return socketio.Room(seenRoomPrefix + strconv.FormatInt(id, 10))
}

const seenRoomPrefix = "notification:"

// missed loads the alerts a reconnecting device missed.
func (s *Server) missed(sess *session) ([]models.Notification, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.db.Missed(ctx, sess.principal, sess.lastSeen)
}

// gate is account p's gate (by its Shard, as its delivery queue).
func (s *Server) gate(p models.Principal) *sync.Mutex {
	return &s.gates[p.Shard()%uint64(len(s.gates))]
}

// Notify queues a committed alert for delivery to its recipient's devices
// and returns at once. The order writer calls it right after each commit
// (models.DB.OnCommit, wired by router.New), and each account's deliveries
// keep the order they were queued in, so a device gets its alerts in the
// order of their ids: it reconnects with the highest id it got, and is
// replayed only what comes after it.
func (s *Server) Notify(n models.Notification) {
	s.enqueue(n.Recipient(), delivery{alert: n})
}

// OrderUpdated queues ORDER_UPDATED for the party the change sent no alert
// to: the customer's devices when an order is placed (the owner's got
// SUBMIT_ORDER), the owner's when it is accepted (the customer's got
// APPROVAL_ORDER). It is state, not an alert: not stored, not replayed
// (pages load the state). Queued behind the account's earlier deliveries,
// an owner's other devices get an order's acceptance after its alert.
// The socket origin (the X-Socket-Id of the request that made the change),
// if given, is skipped: that device made the change and has its answer.
// Every socket is in the room of its own id, so a socket of another account
// named here changes nothing: it is not in the party's room.
func (s *Server) OrderUpdated(o models.Order, origin string) {
	s.enqueue(updatedParty(o), delivery{order: o, origin: origin, update: true})
}

// IsSocketID reports whether sid has the form of a Socket.IO socket id
// (what a client reads as socket.id), by the library's own rule.
func IsSocketID(sid string) bool { return utils.IsValidSid(sid) }

// updatedParty is who ORDER_UPDATED about o goes to.
func updatedParty(o models.Order) models.Principal {
	if o.Status == models.StatusAccepted {
		return models.Principal{Role: models.RoleOwner, ID: o.OwnerID}
	}
	return models.Principal{Role: models.RoleClient, ID: o.ClientID}
}

func (s *Server) enqueue(to models.Principal, d delivery) {
	q := &s.deliveries[to.Shard()%uint64(len(s.deliveries))]
	q.mu.Lock()
	q.pending = append(q.pending, d)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// deliverQueued delivers q's deliveries, in order, until Close.
func (s *Server) deliverQueued(q *deliveryQueue) {
	defer close(q.stopped)
	var batch []delivery
	for {
		select {
		case <-q.wake:
		case <-q.stop:
			return
		}
		for {
			q.mu.Lock()
			batch, q.pending = q.pending, batch[:0]
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for i := range batch {
				s.deliver(&q.out, &batch[i])
				batch[i] = delivery{}
			}
		}
	}
}

func (s *Server) deliver(out *broadcastScratch, d *delivery) {
	if d.update {
		o := &d.order
		s.broadcast(out, updatedParty(*o).Room(), socketio.Room(d.origin), EventOrderUpdated, OrderUpdate{
			OrderID: o.ID, Status: o.Status, StoreID: o.StoreID, ClientID: o.ClientID, OwnerID: o.OwnerID,
			TotalPrice: o.TotalPrice, UpdatedAt: FormatTime(o.UpdatedAt),
		})
		return
	}
	// A stored alert: to every socket in its recipient's room, on every
	// node, except sockets that already got it by replay, which the gate
	// keeps out of this while it runs.
	n := &d.alert
	to := n.Recipient()
	room := to.Room()
	gate := s.gate(to)
	gate.Lock()
	defer gate.Unlock()
	s.broadcast(out, room, seenRoom(n.ID), n.Event, AlertFor(*n))
	s.metrics.emitted.WithLabelValues(n.Event).Inc()
	if !n.CommittedAt.IsZero() {
		s.metrics.latency.Observe(time.Since(n.CommittedAt).Seconds())
	}
}

// broadcast emits event to every socket in room, on every node, except
// those in the room except (if not empty). It is io.To(room).Except(except)
// .Emit(event, payload) handed straight to the namespace's adapter (the
// in-memory one, or Redis's, which publishes and then delivers locally):
// the broadcast operators that chain builds, each with its own room sets,
// were a tenth of all the garbage an order made. out is the calling
// delivery goroutine's scratch.
func (s *Server) broadcast(out *broadcastScratch, room string, except socketio.Room, event string, payload any) {
	out.rooms.Clear()
	out.rooms.Add(socketio.Room(room))
	out.opts = socketio.BroadcastOptions{Rooms: &out.rooms}
	if except != "" {
		out.except.Clear()
		out.except.Add(except)
		out.opts.Except = &out.except
	}
	out.data = [2]any{event, payload}
	out.packet = parser.Packet{Type: parser.EVENT, Data: out.data[:]}
	s.io.Sockets().Adapter().Broadcast(&out.packet, &out.opts)
	out.data = [2]any{} // holding on to no payload until the next
	if s.lean != nil {
		s.lean.broadcast(room, string(except), event, payload)
	}
}

// LegacyAck answers the original browser code's own emits. orderbell has
// already sent the alert after the commit, so the emit is never relayed.
type LegacyAck struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// onLegacyEmit handles SUBMIT_ORDER {owner_id} from a customer and
// APPROVAL_ORDER {client_id} from an owner, as the original pages sent
// after their HTTP calls. Nothing is relayed: the server emitted the alert
// when the order changed. The ack (if asked for) says whether the emit
// named someone the sender really has an order with.
func (s *Server) onLegacyEmit(sender models.Principal, event string, args []any) {
	var ack socketio.Ack
	if len(args) > 0 {
		ack, _ = args[len(args)-1].(socketio.Ack)
	}
	if ack == nil {
		return
	}
	ack([]any{s.checkLegacyEmit(sender, event, args)}, nil)
}

func (s *Server) checkLegacyEmit(sender models.Principal, event string, args []any) LegacyAck {
	clientID, ownerID, problem := legacyPair(sender, event, args)
	if problem != "" {
		return LegacyAck{Message: problem}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	related, err := s.db.HaveOrderBetween(ctx, clientID, ownerID)
	switch {
	case err != nil:
		return LegacyAck{Message: "could not check the order; the alert was sent when the order was saved"}
	case !related:
		return LegacyAck{Message: "you have no order with that " + string(otherRole(sender.Role))}
	}
	return LegacyAck{OK: true, Message: "the alert was sent when the order was saved"}
}

// legacyPair reads who a legacy emit names: SUBMIT_ORDER {owner_id} from a
// customer, APPROVAL_ORDER {client_id} from an owner. It returns the
// customer and owner the emit is about, or why the emit is not one.
func legacyPair(sender models.Principal, event string, args []any) (clientID, ownerID int64, problem string) {
	wantRole, key := models.RoleClient, "owner_id"
	if event == models.EventApprovalOrder {
		wantRole, key = models.RoleOwner, "client_id"
	}
	if sender.Role != wantRole {
		return 0, 0, event + " is not sent by a " + string(sender.Role)
	}
	var body map[string]any
	if len(args) > 0 {
		body, _ = args[0].(map[string]any)
	}
	other, ok := wholeNumber(body[key])
	if !ok || other <= 0 {
		return 0, 0, key + " must be a positive whole number"
	}
	if sender.Role == models.RoleOwner {
		return other, sender.ID, ""
	}
	return sender.ID, other, ""
}

func otherRole(r models.Role) models.Role {
	if r == models.RoleClient {
		return models.RoleOwner
	}
	return models.RoleClient
}
