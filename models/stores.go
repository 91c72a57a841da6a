package models

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// MaxPrice bounds a menu price (in won) so totals never overflow.
const MaxPrice = 100_000_000

func cleanName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("%s is required", what)
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", invalid("%s must be at most 100 characters", what)
	}
	return name, nil
}

// ListStores returns every store, oldest first.
func (db *DB) ListStores(ctx context.Context) ([]Store, error) {
	var stores []Store
	err := db.gorm.WithContext(ctx).Order("id").Find(&stores).Error
	return stores, dbErr(err)
}

// GetStore returns one store with its menus.
func (db *DB) GetStore(ctx context.Context, id int64) (Store, error) {
	var store Store
	err := db.gorm.WithContext(ctx).
		Preload("Menus", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).
		Take(&store, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Store{}, notFound("store %d does not exist", id)
	}
	return store, dbErr(err)
}

// CreateStore opens a store for an owner.
func (db *DB) CreateStore(ctx context.Context, owner Principal, name string) (Store, error) {
	if owner.Role != RoleOwner {
		return Store{}, forbidden("only owners can open stores")
	}
	name, err := cleanName("name", name)
	if err != nil {
		return Store{}, err
	}
	store := Store{OwnerID: owner.ID, Name: name, CreatedAt: now()}
	if err := db.gorm.WithContext(ctx).Create(&store).Error; err != nil {
		return Store{}, dbErr(err)
	}
	return store, nil
}

// CreateMenu adds a menu to a store; only the store's owner may.
func (db *DB) CreateMenu(ctx context.Context, owner Principal, storeID int64, name string, price int64) (Menu, error) {
	if owner.Role != RoleOwner {
		return Menu{}, forbidden("only the store's owner can add menus")
	}
	name, err := cleanName("name", name)
	if err != nil {
		return Menu{}, err
	}
	if price <= 0 || price > MaxPrice {
		return Menu{}, invalid("price must be a whole number of won from 1 to %d", MaxPrice)
	}
	var store Store
	err = db.gorm.WithContext(ctx).Select("id", "owner_id").Take(&store, storeID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Menu{}, notFound("store %d does not exist", storeID)
	}
	if err != nil {
		return Menu{}, dbErr(err)
	}
	if store.OwnerID != owner.ID {
		return Menu{}, forbidden("store %d is not yours", storeID)
	}
	menu := Menu{StoreID: storeID, Name: name, Price: price}
	if err := db.gorm.WithContext(ctx).Create(&menu).Error; err != nil {
		return Menu{}, dbErr(err)
	}
	return menu, nil
}
