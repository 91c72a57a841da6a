package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Order limits.
const (
	MinItemCount  = 1
	MaxItemCount  = 99
	MaxOrderLines = 100
)

// OrderLine is one requested menu and how many of it.
type OrderLine struct {
	MenuID int64
	Count  int64
}

// PlaceOrder stores a client's order at a store and, in the same
// transaction, the SUBMIT_ORDER alert for the store's owner. The caller
// emits the returned alert after this returns.
func (db *DB) PlaceOrder(ctx context.Context, client Principal, storeID int64, lines []OrderLine) (Order, Notification, error) {
	if client.Role != RoleClient {
		return Order{}, Notification{}, forbidden("only customers can place orders")
	}
	if storeID <= 0 {
		return Order{}, Notification{}, invalid("store_id must be a positive whole number")
	}
	if len(lines) == 0 {
		return Order{}, Notification{}, invalid("items must hold at least one menu")
	}
	if len(lines) > MaxOrderLines {
		return Order{}, Notification{}, invalid("items may hold at most %d menus", MaxOrderLines)
	}
	seen := make(map[int64]bool, len(lines))
	menuIDs := make([]int64, 0, len(lines))
	for _, l := range lines {
		if l.Count < MinItemCount || l.Count > MaxItemCount {
			return Order{}, Notification{}, invalid("count of menu %d must be from %d to %d", l.MenuID, MinItemCount, MaxItemCount)
		}
		if seen[l.MenuID] {
			return Order{}, Notification{}, invalid("menu %d is listed twice", l.MenuID)
		}
		seen[l.MenuID] = true
		menuIDs = append(menuIDs, l.MenuID)
	}

	var order Order
	var alert Notification
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var store Store
		err := tx.Select("id", "owner_id").Take(&store, storeID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("store %d does not exist", storeID)
		}
		if err != nil {
			return err
		}
		var menus []Menu
		if err := tx.Where("store_id = ? AND id IN ?", storeID, menuIDs).Find(&menus).Error; err != nil {
			return err
		}
		byID := make(map[int64]Menu, len(menus))
		for _, m := range menus {
			byID[m.ID] = m
		}
		at := now()
		order = Order{ClientID: client.ID, OwnerID: store.OwnerID, StoreID: storeID, Status: StatusPending, CreatedAt: at, UpdatedAt: at}
		for _, l := range lines {
			m, ok := byID[l.MenuID]
			if !ok {
				return invalid("menu %d is not on store %d's menu", l.MenuID, storeID)
			}
			order.TotalPrice += m.Price * l.Count
			order.Items = append(order.Items, OrderItem{MenuID: m.ID, Name: m.Name, Price: m.Price, Count: int(l.Count)})
		}
		if err := tx.Create(&order).Error; err != nil {
			return err
		}
		alert = Notification{
			RecipientRole: RoleOwner, RecipientID: store.OwnerID, Event: EventSubmitOrder,
			OrderID: order.ID, StoreID: storeID, TotalPrice: order.TotalPrice, CreatedAt: at,
		}
		return tx.Create(&alert).Error
	})
	if err != nil {
		return Order{}, Notification{}, dbErr(err)
	}
	alert.CommittedAt = time.Now()
	return order, alert, nil
}

// AcceptOrder moves a pending order to accepted and, in the same
// transaction, stores the APPROVAL_ORDER alert for its customer. Only the
// owner of the order's store may; an order no longer pending is a conflict.
func (db *DB) AcceptOrder(ctx context.Context, owner Principal, orderID int64) (Order, Notification, error) {
	if owner.Role != RoleOwner {
		return Order{}, Notification{}, forbidden("only the store's owner can accept an order")
	}
	var order Order
	var alert Notification
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Take(&order, orderID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("order %d does not exist", orderID)
		}
		if err != nil {
			return err
		}
		if order.OwnerID != owner.ID {
			return forbidden("order %d was not placed at your store", orderID)
		}
		at := now()
		// The status condition makes two devices accepting at once safe:
		// exactly one of them changes the row.
		res := tx.Model(&Order{}).Where("id = ? AND status = ?", orderID, StatusPending).
			Updates(map[string]any{"status": StatusAccepted, "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return conflict("order %d is not pending", orderID)
		}
		order.Status, order.UpdatedAt = StatusAccepted, at
		alert = Notification{
			RecipientRole: RoleClient, RecipientID: order.ClientID, Event: EventApprovalOrder,
			OrderID: order.ID, StoreID: order.StoreID, TotalPrice: order.TotalPrice, CreatedAt: at,
		}
		return tx.Create(&alert).Error
	})
	if err != nil {
		return Order{}, Notification{}, dbErr(err)
	}
	alert.CommittedAt = time.Now()
	return order, alert, nil
}

// MaxListedOrders bounds GET /orders.
const MaxListedOrders = 200

// ListOrders returns the orders a client placed or an owner received,
// newest first, with their items.
func (db *DB) ListOrders(ctx context.Context, p Principal) ([]Order, error) {
	column := "client_id"
	if p.Role == RoleOwner {
		column = "owner_id"
	}
	var orders []Order
	err := db.gorm.WithContext(ctx).
		Preload("Items", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).
		Preload("Store", func(tx *gorm.DB) *gorm.DB { return tx.Select("id", "name", "owner_id") }).
		Preload("Client", func(tx *gorm.DB) *gorm.DB { return tx.Select("id", "nickname") }).
		Where(column+" = ?", p.ID).Order("id DESC").Limit(MaxListedOrders).
		Find(&orders).Error
	return orders, dbErr(err)
}

// HaveOrderBetween reports whether the client has ever ordered from a
// store of the owner. It decides which legacy browser emits are genuine.
func (db *DB) HaveOrderBetween(ctx context.Context, clientID, ownerID int64) (bool, error) {
	var ids []int64
	err := db.gorm.WithContext(ctx).Model(&Order{}).
		Where("client_id = ? AND owner_id = ?", clientID, ownerID).Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, dbErr(err)
}
