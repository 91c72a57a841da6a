package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// DemoLogin is a demo account's sign-in, printed at start.
type DemoLogin struct {
	Role     Role
	Email    string
	Password string
}

var demoLogins = []DemoLogin{
	{Role: RoleOwner, Email: "owner@demo.orderbell", Password: "demo-owner-1234"},
	{Role: RoleClient, Email: "client@demo.orderbell", Password: "demo-client-1234"},
}

var demoMenus = []Menu{
	{Name: "떡볶이", Price: 4500},
	{Name: "순대", Price: 5000},
	{Name: "김밥", Price: 3500},
}

// SeedDemo fills an empty database (no accounts at all) with a demo owner,
// a store with menus and a customer. It returns the demo logins when the
// demo accounts exist, whether made now or on an earlier start.
func (db *DB) SeedDemo(ctx context.Context) ([]DemoLogin, error) {
	var clients, owners int64
	if err := db.gorm.WithContext(ctx).Model(&Client{}).Count(&clients).Error; err != nil {
		return nil, dbErr(err)
	}
	if err := db.gorm.WithContext(ctx).Model(&Owner{}).Count(&owners).Error; err != nil {
		return nil, dbErr(err)
	}
	if clients == 0 && owners == 0 {
		// One transaction: several nodes starting on one empty database
		// race here; the losers see a taken email and use the winner's.
		err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return seed(tx) })
		if err != nil && !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}
	var present []DemoLogin
	for _, l := range demoLogins {
		var n int64
		err := db.gorm.WithContext(ctx).Table(tableFor(l.Role)).Where("email = ?", l.Email).Count(&n).Error
		if err != nil {
			return nil, dbErr(err)
		}
		if n > 0 {
			present = append(present, l)
		}
	}
	return present, nil
}

func seed(tx *gorm.DB) error {
	for _, l := range demoLogins {
		nickname := "데모 사장님"
		if l.Role == RoleClient {
			nickname = "데모 손님"
		}
		p, err := createAccount(tx, SignupInput{Role: l.Role, Email: l.Email, Password: l.Password, Nickname: nickname})
		if err != nil {
			return err
		}
		if l.Role != RoleOwner {
			continue
		}
		store := Store{OwnerID: p.ID, Name: "오더벨 분식", CreatedAt: now()}
		for _, m := range demoMenus {
			store.Menus = append(store.Menus, Menu{Name: m.Name, Price: m.Price})
		}
		if err := tx.Session(&gorm.Session{FullSaveAssociations: true}).Create(&store).Error; err != nil {
			return err
		}
	}
	return nil
}
