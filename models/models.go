package models

import (
	"strconv"
	"time"
)

// Role is the kind of account. Clients and owners live in separate tables
// whose ids may collide, so an identity is always the pair (role, id).
type Role string

const (
	RoleClient Role = "client"
	RoleOwner  Role = "owner"
)

// ParseRole accepts exactly "client" or "owner".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleClient, RoleOwner:
		return r, nil
	}
	return "", invalid(`role must be "client" or "owner"`)
}

// Principal is an authenticated account.
type Principal struct {
	Role Role
	ID   int64
}

// Room is the one Socket.IO room that holds every device of this account.
func (p Principal) Room() string { return string(p.Role) + ":" + strconv.FormatInt(p.ID, 10) }

// Shard spreads accounts over a few of something (taken modulo their
// number): the order writer's lanes, the socket server's delivery queues.
// The (role, id) pair is mixed (Fibonacci hashing) so that owners and
// customers each spread over all of them: id<<1|role alone would put every
// owner on the even ones.
func (p Principal) Shard() uint64 {
	key := uint64(p.ID) << 1
	if p.Role == RoleClient {
		key |= 1
	}
	return (key * 0x9E3779B97F4A7C15) >> 32
}

// Order statuses.
const (
	StatusPending  = 0
	StatusAccepted = 1
)

// Alert events, as the browser client knows them.
const (
	EventSubmitOrder   = "SUBMIT_ORDER"
	EventApprovalOrder = "APPROVAL_ORDER"
)

// Account is the shape both account tables share.
type Account struct {
	ID           int64     `gorm:"primaryKey"`
	Email        string    `gorm:"size:254;not null;uniqueIndex"`
	PasswordHash string    `gorm:"size:100;not null"`
	Nickname     string    `gorm:"size:100;not null"`
	CreatedAt    time.Time `gorm:"not null"`
}

// Client is a customer account.
type Client struct{ Account }

// Owner is a store owner account.
type Owner struct{ Account }

type Store struct {
	ID        int64     `gorm:"primaryKey"`
	OwnerID   int64     `gorm:"not null;index"`
	Name      string    `gorm:"size:100;not null"`
	CreatedAt time.Time `gorm:"not null"`
	Menus     []Menu    `gorm:"constraint:OnDelete:CASCADE"`
}

type Menu struct {
	ID      int64  `gorm:"primaryKey"`
	StoreID int64  `gorm:"not null;index"`
	Name    string `gorm:"size:100;not null"`
	Price   int64  `gorm:"not null"`
}

// Order is one customer's order at one store. OwnerID is copied from the
// store when the order is placed, so authorizing an accept is one lookup.
type Order struct {
	ID         int64       `gorm:"primaryKey"`
	ClientID   int64       `gorm:"not null;index"`
	OwnerID    int64       `gorm:"not null;index"`
	StoreID    int64       `gorm:"not null"`
	Status     int         `gorm:"not null;default:0"`
	TotalPrice int64       `gorm:"not null"`
	CreatedAt  time.Time   `gorm:"not null"`
	UpdatedAt  time.Time   `gorm:"not null"`
	Items      []OrderItem `gorm:"constraint:OnDelete:CASCADE"`
	// Store and Client are loaded by ListOrders, for display.
	Store  *Store  `gorm:"foreignKey:StoreID"`
	Client *Client `gorm:"foreignKey:ClientID"`
}

// OrderItem keeps the menu's name and price as they were when ordered.
type OrderItem struct {
	ID      int64  `gorm:"primaryKey"`
	OrderID int64  `gorm:"not null;index"`
	MenuID  int64  `gorm:"not null"`
	Name    string `gorm:"size:100;not null"`
	Price   int64  `gorm:"not null"`
	Count   int    `gorm:"not null"`
}

// Notification is one stored alert for one account. It is written in the
// same transaction as the order change that causes it and emitted after
// commit, so a crash in between loses nothing: it is replayed on request.
type Notification struct {
	ID            int64      `gorm:"primaryKey"`
	RecipientRole Role       `gorm:"size:10;not null;index:idx_notifications_recipient,priority:1"`
	RecipientID   int64      `gorm:"not null;index:idx_notifications_recipient,priority:2"`
	Event         string     `gorm:"size:20;not null"`
	OrderID       int64      `gorm:"not null"`
	StoreID       int64      `gorm:"not null"`
	TotalPrice    int64      `gorm:"not null"`
	CreatedAt     time.Time  `gorm:"not null"`
	ReadAt        *time.Time ``
	// CommittedAt is when the transaction that stored it committed; it is
	// not stored (it measures commit-to-emit latency).
	CommittedAt time.Time `gorm:"-"`
}

// Recipient is the account the alert is for.
func (n Notification) Recipient() Principal {
	return Principal{Role: n.RecipientRole, ID: n.RecipientID}
}

// Message is the human-readable text the original server sent.
func (n Notification) Message() string {
	if n.Event == EventApprovalOrder {
		return "주문이 승인되었습니다."
	}
	return "주문이 들어왔습니다."
}

// now is the one clock for stored times: UTC, millisecond precision, so a
// value reads back the same from SQLite and MySQL.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
