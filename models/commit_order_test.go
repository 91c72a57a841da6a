package models_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// handedOver records the alert ids the order writer hands to OnCommit, and
// any order handed over with an alert that is not its own.
type handedOver struct {
	mu         sync.Mutex
	ids        []int64
	mismatched []string
}

func (h *handedOver) add(o models.Order, n models.Notification, _ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, n.ID)
	if o.ID == 0 || o.ID != n.OrderID || o.OwnerID != n.RecipientID || o.Status != models.StatusPending {
		h.mismatched = append(h.mismatched, fmt.Sprintf("order %+v with alert %+v", o, n))
	}
}

func (h *handedOver) has(id int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.ids, id)
}

func (h *handedOver) all() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ids)
}

// The writer hands every committed alert to the OnCommit hook before
// PlaceOrder returns, in the order of its commits: within a batch, in the
// batch's order, which is the order of the alerts' ids. An alert whose
// transaction did not commit is never handed over. (router.New hangs the
// socket server's Notify on it, so a device gets its alerts in id order.)
func TestAlertsHandedOverInCommitOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		var got handedOver
		db.OnCommit(got.add)

		// One batch of five orders and a change that fails after storing
		// an alert: the batch is rolled back and each change committed on
		// its own, in the batch's order.
		flush := models.HoldBatch(db)
		var wg sync.WaitGroup
		alerts := make([]models.Notification, 5)
		for i := range alerts {
			wg.Go(func() {
				_, n, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
				if err != nil {
					t.Error(err)
					return
				}
				if !got.has(n.ID) {
					t.Errorf("PlaceOrder returned alert %d before it was handed over", n.ID)
				}
				alerts[i] = n
			})
		}
		wg.Go(func() { _ = models.FailAfterWrite(ctx, db, f.owner) })
		flush(6)
		wg.Wait()
		if len(got.mismatched) > 0 {
			t.Fatalf("handed over orders that are not their alert's: %v", got.mismatched)
		}
		ids := got.all()
		if len(ids) != 5 || !slices.IsSorted(ids) {
			t.Fatalf("handed over %v: want the 5 committed alerts, in id order", ids)
		}
		for _, n := range alerts {
			if !slices.Contains(ids, n.ID) {
				t.Errorf("alert %d was not handed over", n.ID)
			}
		}

		// Many orders at once, in many batches.
		before := len(ids)
		for range 10 {
			wg.Go(func() {
				for range 10 {
					if _, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		ids = got.all()[before:]
		if len(ids) != 100 {
			t.Fatalf("handed over %d alerts for 100 orders", len(ids))
		}
		// One account's changes go through one writer goroutine (MySQL has
		// several, each for its share of the accounts), so its alerts are
		// committed and handed over in id order.
		if !slices.IsSorted(ids) {
			t.Errorf("handed over out of id order: %v", ids)
		}
	})
}

// The socket a change came from (WithOrigin: the X-Socket-Id of the
// request) reaches the hook with that change alone, on both kinds of
// change; a change without one hands over "".
func TestOriginHandedOverWithItsChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		var mu sync.Mutex
		origins := map[string]string{} // "<event> <order id>" → origin
		db.OnCommit(func(o models.Order, n models.Notification, origin string) {
			mu.Lock()
			defer mu.Unlock()
			origins[fmt.Sprintf("%s %d", n.Event, o.ID)] = origin
		})
		placed, _, err := db.PlaceOrder(models.WithOrigin(ctx, "phone-1"), f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := f.order(t, db)
		if _, _, err := db.AcceptOrder(models.WithOrigin(ctx, "tablet-2"), f.owner, placed.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.AcceptOrder(ctx, f.owner, plain.ID); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			fmt.Sprintf("%s %d", models.EventSubmitOrder, placed.ID):   "phone-1",
			fmt.Sprintf("%s %d", models.EventSubmitOrder, plain.ID):    "",
			fmt.Sprintf("%s %d", models.EventApprovalOrder, placed.ID): "tablet-2",
			fmt.Sprintf("%s %d", models.EventApprovalOrder, plain.ID):  "",
		}
		mu.Lock()
		defer mu.Unlock()
		if !maps.Equal(origins, want) {
			t.Fatalf("handed over origins %v, want %v", origins, want)
		}
	})
}

// Owners and customers each spread over every shard (the writer's four
// lanes on MySQL, the socket server's delivery queues).
func TestShardsSpreadOwnersAndCustomers(t *testing.T) {
	for _, role := range []models.Role{models.RoleOwner, models.RoleClient} {
		used := map[uint64]int{}
		for id := int64(1); id <= 400; id++ {
			used[models.Principal{Role: role, ID: id}.Shard()%4]++
		}
		for lane := uint64(0); lane < 4; lane++ {
			if used[lane] < 50 {
				t.Errorf("%s: shard %d of 4 takes %d of 400 accounts", role, lane, used[lane])
			}
		}
	}
}
