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
		store, order, storeHinted, orderHinted := models.Lanes(ctx, db, f.storeID, 1)
		if store != wantStore || storeHinted || orderHinted {
			t.Errorf("before any order: store lane %d (remembered %v), order remembered %v; want %d, looked up", store, storeHinted, orderHinted, wantStore)
		}
		if !laned && order != 0 {
			t.Errorf("one lane, but order lane %d", order)
		}
		o, _ := f.order(t, db)
		store, order, storeHinted, orderHinted = models.Lanes(ctx, db, f.storeID, o.ID)
		if store != wantStore || order != wantOrder {
			t.Errorf("lanes %d, %d; want the owner's %d and the customer's %d", store, order, wantStore, wantOrder)
		}
		if storeHinted != laned || orderHinted != laned {
			t.Errorf("after order %d: store remembered %v, order %v; want %v", o.ID, storeHinted, orderHinted, laned)
		}
	})
}

// An order another process placed (another node, on the same database) is
// looked up once, then remembered for the next device that accepts it.
func TestLaneOfAnOrderLookedUpIsRemembered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		laned := strings.HasSuffix(t.Name(), "/mysql")
		f := newFixture(t, db)
		o, _ := f.order(t, db)
		models.ForgetLanes(db)
		if _, _, _, hinted := models.Lanes(ctx, db, f.storeID, o.ID); hinted {
			t.Fatal("forgotten order still remembered")
		}
		_, order, _, hinted := models.Lanes(ctx, db, f.storeID, o.ID)
		if hinted != laned {
			t.Errorf("after one lookup: remembered %v, want %v", hinted, laned)
		}
		if want := f.client.Shard(); laned && order != want {
			t.Errorf("order lane %d, want the customer's %d", order, want)
		}
	})
}
