package socket

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/orderbell/orderbell/models"
)

// Connections that close while their socket is still being connected
// leave nothing behind: no socket in the namespace, no room, no entry in
// the per-account list. (The library alone kept about 0.15% of them.)
// And each socket's end is counted once in
// orderbell_socket_disconnects_total, those ones' too: their disconnect
// event came before the server listened for it.
func TestNoSocketOutlivesItsConnection(t *testing.T) {
	s := newTestServer(t, Config{})
	url, token := s.url, s.token(t, 1)
	var joined atomic.Int64 // sockets that reached the namespace's connection handlers
	_ = s.io.On("connection", func(...any) { joined.Add(1) })

	gone := make(chan struct{})
	close(gone) // each session connects (with a replay) and leaves at once
	var received atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				_ = soakSession(url, token, 0, gone, &received)
			}
		}()
	}
	wg.Wait()
	nsp := s.io.Sockets()
	// listed counts the sockets orderbell lists under their accounts;
	// sessions, those it began and has not ended (its connected gauge),
	// including the connects still waiting for their turn at the gate.
	leftovers := func() (sockets, rooms, sids, listed, sessions int) {
		listed = len(s.sockets.appendAll(nil))
		sessions = int(testutil.ToFloat64(s.metrics.connected.WithLabelValues("owner")))
		return nsp.Sockets().Len(), nsp.Adapter().Rooms().Len(), nsp.Adapter().Sids().Len(), listed, sessions
	}
	// Every session is the same account's, so their connects take turns at
	// its gate: on a loaded machine the last of them run well after their
	// connections closed (each then skips its replay query). Meanwhile the
	// listed sockets stay near the per-account bound, as each connect lists
	// itself before its turn; the sessions not yet ended go down as the
	// backlog drains. What is left must keep going down; a leak stays put.
	const stall = 10 * time.Second
	least, deadline := -1, time.Now().Add(stall)
	for {
		sockets, rooms, sids, listed, sessions := leftovers()
		left := sockets + rooms + sids + listed + sessions + int(s.io.Engine().ClientsCount())
		if left == 0 {
			// Every end is counted before its session's gauge goes down.
			// This test's connection listener runs after the server's,
			// so the last sockets' may be a moment behind: wait for them.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				counts, ended := disconnectCounts(t, s)
				if ended == float64(joined.Load()) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d sockets connected and ended, %v disconnects counted: %v", joined.Load(), ended, counts)
				}
			}
		}
		if least < 0 || left < least {
			least, deadline = left, time.Now().Add(stall)
		}
		if time.Now().After(deadline) {
			var stacks strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1) // grouped: what is each one waiting on
			t.Fatalf("after 4000 sessions, for %v: %d sockets, %d rooms, %d sids, %d listed sockets, %d sessions, %d engine clients remain:%s\n%s",
				stall,
				sockets, rooms, sids, listed, sessions, s.io.Engine().ClientsCount(), describeLeftovers(s), stacks.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// disconnectCounts reads every series of orderbell_socket_disconnects_total,
// gathered as a registry would: the count of each reason counted, and
// their sum.
func disconnectCounts(t *testing.T, s *testServer) (counts map[string]float64, sum float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.metrics.disconnects)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts = map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			n := m.GetCounter().GetValue()
			counts[m.GetLabel()[0].GetValue()] = n
			sum += n
		}
	}
	return counts, sum
}

// describeLeftovers says, for a failing churn test, what state each
// leftover socket is in: listed under its account, in the namespace, its
// own and its connection's state, and whether its session was ended.
func describeLeftovers(s *testServer) string {
	var b strings.Builder
	inNsp := map[*socketio.Socket]bool{}
	for _, sock := range s.io.Sockets().Sockets().Values() {
		inNsp[sock] = true
	}
	listed := map[*socketio.Socket]bool{}
	for _, sess := range s.sockets.appendAll(nil) {
		listed[sess.sock] = true
	}
	all := map[*socketio.Socket]bool{}
	for sock := range inNsp {
		all[sock] = true
	}
	for sock := range listed {
		all[sock] = true
	}
	for sock := range all {
		sess, _ := sock.Data().(*session)
		fmt.Fprintf(&b, "\n  socket %s: listed %v, in namespace %v, connected %v, connection %s, session ended %v, rooms %v",
			sock.Id(), listed[sock], inNsp[sock], sock.Connected(), sock.Conn().ReadyState(), sess != nil && sess.ended.Load(), sock.Rooms().Keys())
	}
	return b.String()
}

// A connect that ended while it waited for its account's gate (a
// reconnect storm) runs no replay query: its connection closed, or a newer
// socket of the account evicted it. The account has an alert to replay, and
// only the device still connected gets it.
func TestConnectGoneWhileWaitingSkipsTheReplay(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		// end ends the first device while its connect waits, and then
		// connects the second (which waits behind it).
		end func(t *testing.T, first *rawClient, connect func() *rawClient) (second *rawClient)
	}{
		{"connection closed", Config{}, func(t *testing.T, first *rawClient, connect func() *rawClient) *rawClient {
			_ = first.conn.Close()
			return connect()
		}},
		{"evicted", Config{SocketsPerAccount: 1}, func(t *testing.T, first *rawClient, connect func() *rawClient) *rawClient {
			second := connect() // lists itself and evicts the first before its turn
			if msg := first.next(t); msg != "41" {
				t.Fatalf("the evicted device got %q, want its DISCONNECT", msg)
			}
			return second
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, tc.cfg)
			ctx := context.Background()
			if _, err := s.db.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			_, alert, err := s.db.PlaceOrder(ctx, models.Principal{Role: models.RoleClient, ID: 1}, 1, []models.OrderLine{{MenuID: 1, Count: 1}})
			if err != nil {
				t.Fatal(err)
			}
			// No event says where a connect is on the server: polled.
			sessions := func() float64 { return testutil.ToFloat64(s.metrics.connected.WithLabelValues("owner")) }
			replayed := func() float64 { return testutil.ToFloat64(s.metrics.replayed) }
			connect := func() *rawClient {
				t.Helper()
				device, answer := handshakeAuth(t, s.url, map[string]any{
					"token": s.token(t, alert.RecipientID), "last_notification_id": 0,
				})
				if !strings.HasPrefix(answer, `40{"sid"`) {
					t.Fatalf("connect answer %q", answer)
				}
				return device
			}

			gate := s.gate(alert.Recipient()) // another connect of the account has its turn
			gate.Lock()
			first := connect()
			pollUntil(t, 10*time.Second, "the first connect to wait at the gate", func() bool { return sessions() == 1 })
			second := tc.end(t, first, connect)
			// The first session ends at once (its disconnect); its connect
			// still waits, and the second's behind it.
			pollUntil(t, 10*time.Second, "the first session to end and the second to wait", func() bool { return sessions() == 1 })
			// The mutex wakes its waiters in order: the first connect has
			// its turn, then the second. (Were the second to overtake it,
			// the count below could only miss the first's replay, never
			// invent one.)
			gate.Unlock()

			if msg := second.next(t); !strings.HasPrefix(msg, `42["`+models.EventSubmitOrder+`"`) {
				t.Fatalf("the device still connected got %q, want its replayed alert", msg)
			}
			pollUntil(t, 10*time.Second, "the second connect's replay to be counted", func() bool { return replayed() >= 1 })
			if got := replayed(); got != 1 {
				t.Errorf("alerts replayed: %v, want 1 (the ended connect got one too)", got)
			}
		})
	}
}
