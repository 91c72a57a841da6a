// Package socket is orderbell's Socket.IO server: the handshake that turns
// an accessToken into a principal, the one room per account the server
// puts every socket in, the replay of missed alerts, and the Notifier that
// delivers committed alerts and order changes.
package socket

import (
	"time"

	"github.com/orderbell/orderbell/models"
)

// Notifier delivers committed order changes to the connected devices of
// the accounts they concern. The order writer calls both methods right
// after each commit, in commit order (models.DB.OnCommit, wired by
// router.New): they must not block, and must deliver to each account in the
// order they are called.
type Notifier interface {
	// Notify delivers a stored alert (SUBMIT_ORDER or APPROVAL_ORDER).
	Notify(n models.Notification)
	// OrderUpdated tells the devices of the party the change sent no
	// alert to its new status (ORDER_UPDATED), so lists update in place
	// and the owner's other devices stop ringing for an accepted order.
	// origin, if not "", is the socket of the device that made the change
	// (models.WithOrigin): it already knows, and is skipped.
	OrderUpdated(o models.Order, origin string)
}

// Nop is a Notifier that delivers nothing, for tests of the HTTP API alone.
type Nop struct{}

func (Nop) Notify(models.Notification)        {}
func (Nop) OrderUpdated(models.Order, string) {}

// EventOrderUpdated is orderbell's own event, added to the original two.
const EventOrderUpdated = "ORDER_UPDATED"

// OrderUpdate is the payload of ORDER_UPDATED.
type OrderUpdate struct {
	OrderID    int64  `json:"order_id" msgpack:"order_id"`
	Status     int    `json:"status" msgpack:"status"`
	StoreID    int64  `json:"store_id" msgpack:"store_id"`
	ClientID   int64  `json:"client_id" msgpack:"client_id"`
	OwnerID    int64  `json:"owner_id" msgpack:"owner_id"`
	TotalPrice int64  `json:"total_price" msgpack:"total_price"`
	UpdatedAt  string `json:"updated_at" msgpack:"updated_at"`
}

// Alert is the payload of SUBMIT_ORDER and APPROVAL_ORDER. Keys may be
// added, never removed: the browser client reads them by name.
//
// The msgpack tags matter: the Redis adapter carries payloads to other
// nodes in msgpack, which would otherwise use the Go field names.
type Alert struct {
	Message        string `json:"message" msgpack:"message"`
	NotificationID int64  `json:"notification_id" msgpack:"notification_id"`
	OrderID        int64  `json:"order_id" msgpack:"order_id"`
	StoreID        int64  `json:"store_id" msgpack:"store_id"`
	TotalPrice     int64  `json:"total_price" msgpack:"total_price"`
	CreatedAt      string `json:"created_at" msgpack:"created_at"`
}

// jsTime is JavaScript's Date.prototype.toISOString format.
const jsTime = "2006-01-02T15:04:05.000Z07:00"

// AlertFor builds the payload for a stored alert.
func AlertFor(n models.Notification) Alert {
	return Alert{
		Message:        n.Message(),
		NotificationID: n.ID,
		OrderID:        n.OrderID,
		StoreID:        n.StoreID,
		TotalPrice:     n.TotalPrice,
		CreatedAt:      n.CreatedAt.UTC().Format(jsTime),
	}
}

// FormatTime formats t as the browser's Date.toISOString would.
func FormatTime(t time.Time) string { return t.UTC().Format(jsTime) }
