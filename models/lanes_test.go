package models_test

import (
	"strings"
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// On MySQL a change's lane is its alert recipient's, looked up before the
// change is queued or remembered from an order placed: either way the same
// lane. SQLite has one lane and neither looks up nor remembers.
func TestLanesRememberedAreLanesLookedUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		laned := strings.HasSuffix(t.Name(), "/mysql")
		wantStore, wantOrder := f.owner.Shard(), f.client.Shard()
		if !laned {
			wantStore, wantOrder = 0, 0
		}
		// Before any order: the store's owner is looked up; an order that
		// does not exist has no customer (the transaction refuses it).
		store, _, storeHinted, orderHinted := models.Lanes(ctx, db, f.storeID, 1)
		if store != wantStore || storeHinted || orderHinted {
			t.Errorf("before any order: store lane %d (remembered %v), order remembered %v; want %d, looked up", store, storeHinted, orderHinted, wantStore)
		}
		o, _ := f.order(t, db)
		store, order, storeHinted, orderHinted := models.Lanes(ctx, db, f.storeID, o.ID)
		if store != wantStore || order != wantOrder {
			t.Errorf("lanes %d, %d; want the owner's %d and the customer's %d", store, order, wantStore, wantOrder)
		}
		if storeHinted != laned || orderHinted != laned {
			t.Errorf("after order %d: store remembered %v, order %v; want %v", o.ID, storeHinted, orderHinted, laned)
		}
	})
}
