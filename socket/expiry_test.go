package socket

import (
	"testing"
	"time"

	"github.com/orderbell/orderbell/models"
)

// A login ends at its token's exp: the sweeper tells the device (the
// DISCONNECT packet, "41") at the first sweep after it, never before.
func TestExpiredLoginIsDisconnected(t *testing.T) {
	s := newTestServer(t, Config{})
	// The test server's logins last an hour: this one was issued just
	// under an hour ago, so it has two seconds left.
	token, exp, err := s.tokens.Issue(models.Principal{Role: models.RoleOwner, ID: 1}, time.Now().Add(-time.Hour+2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.url, token)
	got := c.next(t)
	at := time.Now()
	if got != "41" {
		t.Fatalf("got %q, want the DISCONNECT packet 41", got)
	}
	if at.Before(exp) {
		t.Fatalf("disconnected %v before its exp", exp.Sub(at))
	}
	// A sweep comes every second; the slack is for a loaded machine.
	if late := at.Sub(exp); late > sweepEvery+3*time.Second {
		t.Fatalf("disconnected %v after its exp, want at the next sweep", late)
	}
}
