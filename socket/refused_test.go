package socket

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// SPEC: a refused handshake keeps nothing for it. The refusal (44) comes
// at once; the connection, which never joined a namespace, is closed by
// the connect timeout, and the engine keeps no client for it.
func TestRefusedHandshakeKeepsNothing(t *testing.T) {
	const connectTimeout = 300 * time.Millisecond
	s := newTestServer(t, Config{ConnectTimeout: connectTimeout})
	const n = 20
	conns := make([]*rawClient, n)
	for i := range conns {
		c, refusal := handshake(t, s.url, "forged-token")
		if !strings.HasPrefix(refusal, "44{") || !strings.Contains(refusal, `"message":"unauthorized"`) {
			t.Fatalf("answer to a forged token: %q", refusal)
		}
		conns[i] = c
	}
	// The server closes each refused connection: the client sees its
	// connection end (not a read timeout), within the connect timeout and
	// a margin.
	for i, c := range conns {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, data, err := c.conn.ReadMessage()
			if err == nil {
				if string(data) == "2" { // a ping before the close: fine
					continue
				}
				t.Fatalf("refused connection %d got %q", i, data)
			}
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Fatalf("refused connection %d was still open after 10 s", i)
			}
			break
		}
	}
	// And the engine forgets them (its client list empties right after), or
	// the lean layer, when it served them.
	pollUntil(t, 2*time.Second, fmt.Sprintf("the engine and the lean layer to let go of %d refused handshakes", n),
		func() bool { conns, _ := leanHeld(s.Server); return s.io.Engine().ClientsCount() == 0 && conns == 0 })
}
