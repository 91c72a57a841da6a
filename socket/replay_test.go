package socket

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/orderbell/orderbell/models"
)

// A device that reconnects while an alert is between its commit and its
// live emit gets it once, by replay: the live emit skips the sockets that
// were replayed it (their notification:<id> room), and the next alert
// still arrives.
func TestReplayedAlertIsNotSentAgainLive(t *testing.T) {
	s := newTestServer(t, Config{})
	ctx := context.Background()
	if _, err := s.db.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	customer := models.Principal{Role: models.RoleClient, ID: 1}
	place := func() models.Notification {
		t.Helper()
		_, n, err := s.db.PlaceOrder(ctx, customer, 1, []models.OrderLine{{MenuID: 1, Count: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	alertID := func(msg string) int64 {
		t.Helper()
		var frame []json.RawMessage
		var alert Alert
		if !strings.HasPrefix(msg, "42") || json.Unmarshal([]byte(msg[2:]), &frame) != nil || len(frame) != 2 ||
			string(frame[0]) != `"`+models.EventSubmitOrder+`"` || json.Unmarshal(frame[1], &alert) != nil {
			t.Fatalf("want a SUBMIT_ORDER alert, got %q", msg)
		}
		return alert.NotificationID
	}

	first := place() // committed; its live emit comes after the device connects
	device, answer := handshakeAuth(t, s.url, map[string]any{
		"token": s.token(t, first.RecipientID), "last_notification_id": 0,
	})
	if !strings.HasPrefix(answer, `40{"sid"`) {
		t.Fatalf("connect answer %q", answer)
	}
	if got := alertID(device.next(t)); got != first.ID {
		t.Fatalf("replayed alert %d, want %d", got, first.ID)
	}
	s.Notify(first) // the late live emit of the replayed alert
	second := place()
	s.Notify(second)
	if got := alertID(device.next(t)); got != second.ID {
		t.Fatalf("after the replay of alert %d came alert %d; want the next one, %d, and nothing twice", first.ID, got, second.ID)
	}
}
