package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

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
// transaction, the SUBMIT_ORDER alert for the store's owner. Both are
// handed to the OnCommit hook right after the commit.
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
	for _, l := range lines {
		if l.Count < MinItemCount || l.Count > MaxItemCount {
			return Order{}, Notification{}, invalid("count of menu %d must be from %d to %d", l.MenuID, MinItemCount, MaxItemCount)
		}
		if seen[l.MenuID] {
			return Order{}, Notification{}, invalid("menu %d is listed twice", l.MenuID)
		}
		seen[l.MenuID] = true
	}

	lane := db.storeLane(ctx, storeID)
	var order Order
	var alert Notification
	err := db.w.do(ctx, lane, &order, &alert, func(tx *batchTx) error {
		at := now()
		order = Order{ClientID: client.ID, StoreID: storeID, Status: StatusPending, CreatedAt: at, UpdatedAt: at,
			Items: make([]OrderItem, len(lines))}
		for i, l := range lines {
			// Each menu with its store's owner: one statement a line, and
			// none for the store while every menu is found.
			item := OrderItem{MenuID: l.MenuID, Count: int(l.Count)}
			err := tx.queryRow(stMenu, []driver.Value{l.MenuID, storeID}, &item.Name, &item.Price, &order.OwnerID)
			if errors.Is(err, sql.ErrNoRows) {
				return missingMenu(tx, storeID, l.MenuID)
			}
			if err != nil {
				return err
			}
			order.TotalPrice += item.Price * l.Count
			order.Items[i] = item
		}
		// Every check is done: from here on, only writes.
		res, err := tx.exec(stInsertOrder,
			order.ClientID, order.OwnerID, order.StoreID, int64(order.Status), order.TotalPrice, order.CreatedAt, order.UpdatedAt)
		if err != nil {
			return err
		}
		if order.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i := range order.Items {
			it := &order.Items[i]
			it.OrderID = order.ID
			res, err := tx.exec(stInsertItem, it.OrderID, it.MenuID, it.Name, it.Price, int64(it.Count))
			if err != nil {
				return err
			}
			if it.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		alert = Notification{
			RecipientRole: RoleOwner, RecipientID: order.OwnerID, Event: EventSubmitOrder,
			OrderID: order.ID, StoreID: storeID, TotalPrice: order.TotalPrice, CreatedAt: at,
		}
		return insertAlert(tx, &alert)
	})
	if err != nil {
		return Order{}, Notification{}, dbErr(err)
	}
	db.placed(order)
	return order, alert, nil
}

// missingMenu is the refusal for an order line whose menu was not found
// with its store: the store does not exist, or the menu is not on it.
func missingMenu(tx *batchTx, storeID, menuID int64) error {
	var ownerID int64
	err := tx.queryRow(stStoreOwner, []driver.Value{storeID}, &ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("store %d does not exist", storeID)
	}
	if err != nil {
		return err
	}
	return invalid("menu %d is not on store %d's menu", menuID, storeID)
}

func insertAlert(tx *batchTx, n *Notification) error {
	res, err := tx.exec(stInsertAlert,
		string(n.RecipientRole), n.RecipientID, n.Event, n.OrderID, n.StoreID, n.TotalPrice, n.CreatedAt)
	if err != nil {
		return err
	}
	n.ID, err = res.LastInsertId()
	return err
}

// AcceptOrder moves a pending order to accepted and, in the same
// transaction, stores the APPROVAL_ORDER alert for its customer. Only the
// owner of the order's store may; an order no longer pending is a conflict.
func (db *DB) AcceptOrder(ctx context.Context, owner Principal, orderID int64) (Order, Notification, error) {
	if owner.Role != RoleOwner {
		return Order{}, Notification{}, forbidden("only the store's owner can accept an order")
	}
	lane := db.orderLane(ctx, orderID)
	var order Order
	var alert Notification
	err := db.w.do(ctx, lane, &order, &alert, func(tx *batchTx) error {
		order = Order{ID: orderID}
		err := tx.queryRow(stOrderByID, []driver.Value{orderID},
			&order.ClientID, &order.OwnerID, &order.StoreID, &order.Status, &order.TotalPrice, &order.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
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
		res, err := tx.exec(stAcceptOrder, int64(StatusAccepted), at, orderID, int64(StatusPending))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return conflict("order %d is not pending", orderID)
		}
		order.Status, order.UpdatedAt = StatusAccepted, at
		alert = Notification{
			RecipientRole: RoleClient, RecipientID: order.ClientID, Event: EventApprovalOrder,
			OrderID: order.ID, StoreID: order.StoreID, TotalPrice: order.TotalPrice, CreatedAt: at,
		}
		return insertAlert(tx, &alert)
	})
	if err != nil {
		return Order{}, Notification{}, dbErr(err)
	}
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
