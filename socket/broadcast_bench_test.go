package socket

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/orderbell/orderbell/models"
)

// BenchmarkBroadcastAlert is one alert (Notify, the path router/ takes
// after a commit) to an account with 2 devices (an owner in the load
// generator's mix) and with 200, over real WebSocket connections: each op
// returns once every device has read the frame. B/op and allocs/op count
// the whole process, the clients' reads included (about one small
// allocation per frame read).
//
//	go test ./socket/ -run '^$' -bench BroadcastAlert -benchmem
func BenchmarkBroadcastAlert(b *testing.B) {
	for _, devices := range []int{2, 200} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) { benchBroadcast(b, devices) })
	}
}

func benchBroadcast(b *testing.B, benchRecipients int) {
	s := newTestServer(b, Config{SocketsPerAccount: benchRecipients})
	token := s.token(b, 1)
	room := socketio.Room(models.Principal{Role: models.RoleOwner, ID: 1}.Room())

	clients := make([]*rawClient, benchRecipients)
	for i := range clients {
		clients[i] = dialRaw(b, s.url, token)
	}
	// The CONNECT answer comes before the server's connection handler
	// puts the socket in the account's room: wait until all are in it.
	joined := func() int {
		if ids, ok := s.io.Sockets().Adapter().Rooms().Load(room); ok {
			return ids.Len()
		}
		return 0
	}
	for deadline := time.Now().Add(10 * time.Second); joined() < benchRecipients; {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sockets joined %s", joined(), benchRecipients, room)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// One reader per device: it reads each message into its own buffer
	// (ReadMessage would allocate one per frame) and reports every alert.
	got := make(chan struct{}, benchRecipients)
	alert := []byte(`42["` + models.EventSubmitOrder + `"`)
	var readers sync.WaitGroup
	for _, c := range clients {
		readers.Add(1)
		go func(conn *websocket.Conn) {
			defer readers.Done()
			buf := make([]byte, 4096)
			for {
				_, r, err := conn.NextReader()
				if err != nil {
					return // closed by the cleanup below (or the server)
				}
				n := 0
				for n < len(buf) {
					m, err := r.Read(buf[n:])
					n += m
					if err == io.EOF {
						break
					}
					if err != nil {
						return
					}
				}
				switch msg := buf[:n]; {
				case bytes.HasPrefix(msg, alert):
					got <- struct{}{}
				case len(msg) == 1 && msg[0] == '2': // Engine.IO ping
					_ = conn.WriteMessage(websocket.TextMessage, []byte("3"))
				}
			}
		}(c.conn)
	}
	// Runs before dialRaw's and newTestServer's cleanups (last in, first
	// out): close every connection, then wait for the readers to return.
	b.Cleanup(func() {
		for _, c := range clients {
			_ = c.conn.Close()
		}
		readers.Wait()
	})

	timeout := time.NewTimer(time.Hour)
	defer timeout.Stop()
	n := models.Notification{RecipientRole: models.RoleOwner, RecipientID: 1,
		Event: models.EventSubmitOrder, OrderID: 1, StoreID: 1, TotalPrice: 1000, CreatedAt: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.ID = int64(i + 1)
		s.Notify(n)
		timeout.Reset(10 * time.Second)
		for d := 0; d < benchRecipients; d++ {
			select {
			case <-got:
			case <-timeout.C:
				b.Fatalf("broadcast %d: %d of %d devices got the alert within 10s", i+1, d, benchRecipients)
			}
		}
	}
	b.StopTimer()
}
