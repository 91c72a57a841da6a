package models_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

var ctx = context.Background()

// fixture is an owner with a store and menu, and a client.
type fixture struct {
	owner, client models.Principal
	storeID       int64
	menuID        int64
}

func newFixture(t testing.TB, db *models.DB) fixture {
	t.Helper()
	var f fixture
	var err error
	if f.owner, err = db.CreateAccount(ctx, models.SignupInput{Role: models.RoleOwner, Email: "o@example.com", Password: "password-1", Nickname: "o"}); err != nil {
		t.Fatal(err)
	}
	if f.client, err = db.CreateAccount(ctx, models.SignupInput{Role: models.RoleClient, Email: "c@example.com", Password: "password-1", Nickname: "c"}); err != nil {
		t.Fatal(err)
	}
	store, err := db.CreateStore(ctx, f.owner, "가게")
	if err != nil {
		t.Fatal(err)
	}
	menu, err := db.CreateMenu(ctx, f.owner, store.ID, "메뉴", 1200)
	if err != nil {
		t.Fatal(err)
	}
	f.storeID, f.menuID = store.ID, menu.ID
	return f
}

func (f fixture) order(t testing.TB, db *models.DB) (models.Order, models.Notification) {
	t.Helper()
	o, n, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return o, n
}

// Ids of the two account tables collide by design; identity is the pair.
func TestClientAndOwnerIDsCollide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		if f.owner.ID != f.client.ID {
			t.Fatalf("owner %d and client %d: the first of each table should share id 1", f.owner.ID, f.client.ID)
		}
		if f.owner.Room() == f.client.Room() || f.owner.Room() != "owner:1" || f.client.Room() != "client:1" {
			t.Errorf("rooms %q and %q", f.owner.Room(), f.client.Room())
		}
		_, n := f.order(t, db)
		if n.Recipient() != f.owner {
			t.Errorf("SUBMIT_ORDER goes to %v, want %v", n.Recipient(), f.owner)
		}
	})
}

// Two devices accepting the same order at once: exactly one succeeds and
// exactly one APPROVAL_ORDER is stored.
func TestAcceptOrderConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		o, _ := f.order(t, db)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = db.AcceptOrder(ctx, f.owner, o.ID)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, models.ErrConflict):
				t.Errorf("accept: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d accepts succeeded, want 1", ok)
		}
		notes, err := db.NotificationsAfter(ctx, f.client, 0)
		if err != nil || len(notes) != 1 || notes[0].Event != models.EventApprovalOrder {
			t.Errorf("client's alerts = %+v, %v; want one APPROVAL_ORDER", notes, err)
		}
	})
}

func TestMissedIsBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		_, first := f.order(t, db)
		models.AgeNotification(t, db, first.ID, 25*time.Hour)
		var last models.Notification
		for range models.ReplayLimit + 5 {
			_, last = f.order(t, db)
		}
		missed, err := db.Missed(ctx, f.owner, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(missed) != models.ReplayLimit || missed[len(missed)-1].ID != last.ID {
			t.Fatalf("missed %d alerts ending at %d; want the newest %d ending at %d", len(missed), missed[len(missed)-1].ID, models.ReplayLimit, last.ID)
		}
		for i := 1; i < len(missed); i++ {
			if missed[i].ID <= missed[i-1].ID {
				t.Fatalf("missed alerts out of order at %d", i)
			}
		}
		// The day-old alert is never replayed, even when it is the only one.
		if got, _ := db.Missed(ctx, f.owner, first.ID-1); got[0].ID == first.ID {
			t.Errorf("a 25-hour-old alert was replayed")
		}
		if got, _ := db.Missed(ctx, f.client, 0); len(got) != 0 {
			t.Errorf("the client was replayed the owner's alerts: %d", len(got))
		}
	})
}

// Earlier versions indexed notifications.created_at, which no query uses:
// a new database never has that index, and opening an old one drops it.
func TestOpenDropsTheUnusedCreatedAtIndex(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			old, err := models.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			if !models.HasAlertIndex(old, "idx_notifications_recipient") {
				t.Fatal("the recipient index is not found")
			}
			if models.HasAlertIndex(old, models.UnusedAlertIndex) {
				t.Error("a new database has the created_at index")
			}
			models.MakeOldAlertIndex(t, old)
			if !models.HasAlertIndex(old, models.UnusedAlertIndex) {
				t.Fatal("the old index was not made")
			}
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			db := dbtest.Open(t, url)
			if models.HasAlertIndex(db, models.UnusedAlertIndex) {
				t.Error("opening an old database kept the created_at index")
			}
			if !models.HasAlertIndex(db, "idx_notifications_recipient") {
				t.Error("the recipient index went too")
			}
		})
	}
}

func TestOpenURLs(t *testing.T) {
	for _, bad := range []string{"sqlite:", "postgres://x@y/z", "mysql://root@127.0.0.1:3306/"} {
		if db, err := models.Open(ctx, bad); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	base := os.Getenv(dbtest.MySQLEnv)
	if base == "" {
		t.Skipf("%s not set", dbtest.MySQLEnv)
	}
	u, _ := url.Parse(dbtest.Engines(t)[1].URL(t))
	// The same database as a mysql:// URL with driver options, and as a
	// plain go-sql-driver DSN.
	withParams := u.String() + "?timeout=3s"
	dsn := u.User.Username() + "@tcp(" + u.Host + ")" + u.Path
	for _, raw := range []string{withParams, dsn} {
		db, err := models.Open(ctx, raw)
		if err != nil {
			t.Errorf("Open(%q): %v", raw, err)
			continue
		}
		if _, err := db.ListStores(ctx); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
		_ = db.Close()
	}
}

// A database that stops answering gives ErrUnavailable, quickly; once it
// is back, everything works again.
func TestDatabaseOutage(t *testing.T) {
	if os.Getenv(dbtest.MySQLEnv) == "" {
		t.Skipf("%s not set", dbtest.MySQLEnv)
	}
	proxy, url := dbtest.BehindProxy(t, dbtest.Engines(t)[1].URL(t))
	db := dbtest.Open(t, url)
	f := newFixture(t, db)

	proxy.Cut()
	start := time.Now()
	_, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
	if !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("order during outage: %v; want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the failure took %v", d)
	}

	// A database that stops answering: one order waits for a timeout;
	// a batch of them fails together after one timeout too, not one per
	// order (orders are committed in batches, see writer.go).
	proxy.Hang()
	start = time.Now()
	if _, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}}); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("order while the database hangs: %v; want ErrUnavailable", err)
	}
	one := time.Since(start)
	flush := models.HoldBatch(db)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
		})
	}
	start = time.Now()
	flush(len(errs))
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, models.ErrUnavailable) {
			t.Errorf("order %d of the batch: %v; want ErrUnavailable", i, err)
		}
	}
	if all := time.Since(start); all > 3*one {
		t.Errorf("a batch of %d orders failed after %v; one alone after %v", len(errs), all, one)
	}
	t.Logf("while the database hangs: one order fails after %v, a batch of %d after %v", one, len(errs), time.Since(start))

	proxy.Restore()
	if _, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}}); err != nil {
		t.Fatalf("order after the outage: %v", err)
	}
	if notes, _ := db.NotificationsAfter(ctx, f.owner, 0); len(notes) != 1 {
		t.Errorf("%d alerts stored; want exactly the one committed order's", len(notes))
	}
}

// Nodes starting together on one empty database all come up with the one
// demo data set.
func TestSeedDemoConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		logins := make([][]models.DemoLogin, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				logins[i], errs[i] = db.SeedDemo(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil || len(logins[i]) != 2 {
				t.Errorf("node %d: %v, logins %v", i, err, logins[i])
			}
		}
		stores, err := db.ListStores(ctx)
		if err != nil || len(stores) != 1 {
			t.Errorf("%d stores after seeding from 4 nodes, want 1 (%v)", len(stores), err)
		}
	})
}

// Orders are committed in batches (group commit). In one batch, a change
// that is refused writes nothing, one that fails breaks the transaction but
// not its neighbours (they are retried one by one), and every good change
// is stored exactly once.
func TestOneBatchOfManyChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		f := newFixture(t, db)
		accepted, _ := f.order(t, db)
		if _, _, err := db.AcceptOrder(ctx, f.owner, accepted.ID); err != nil {
			t.Fatal(err)
		}
		other := fixture{owner: f.owner, client: f.client}
		store, err := db.CreateStore(ctx, f.owner, "다른 가게")
		if err != nil {
			t.Fatal(err)
		}
		other.storeID = store.ID
		before, err := db.NotificationsAfter(ctx, f.owner, 0)
		if err != nil {
			t.Fatal(err)
		}

		flush := models.HoldBatch(db)
		var wg sync.WaitGroup
		good := make([]models.Order, 3)
		goodErrs := make([]error, 3)
		for i := range good {
			wg.Go(func() {
				good[i], _, goodErrs[i] = db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: int64(i + 1)}})
			})
		}
		var wrongMenu, again, broken error
		wg.Go(func() {
			_, _, wrongMenu = db.PlaceOrder(ctx, f.client, other.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
		})
		wg.Go(func() { _, _, again = db.AcceptOrder(ctx, f.owner, accepted.ID) })
		wg.Go(func() { broken = models.FailAfterWrite(ctx, db, f.owner) })
		flush(6)
		wg.Wait()

		ids := map[int64]bool{}
		for i, err := range goodErrs {
			if err != nil {
				t.Fatalf("order %d in the batch: %v", i, err)
			}
			if ids[good[i].ID] || good[i].TotalPrice != 1200*int64(i+1) || len(good[i].Items) != 1 {
				t.Errorf("order %d = %+v", i, good[i])
			}
			ids[good[i].ID] = true
		}
		if !errors.Is(wrongMenu, models.ErrInvalid) {
			t.Errorf("a menu of another store: %v, want invalid", wrongMenu)
		}
		if !errors.Is(again, models.ErrConflict) {
			t.Errorf("accepting an accepted order: %v, want conflict", again)
		}
		var refusal *models.Error
		if broken == nil || errors.As(broken, &refusal) {
			t.Errorf("the broken change: %v, want its own failure", broken)
		}

		after, err := db.NotificationsAfter(ctx, f.owner, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(after) - len(before); got != 3 {
			t.Fatalf("%d new SUBMIT_ORDER alerts, want 3 (one per good order, none from the broken change)", got)
		}
		for _, n := range after[len(before):] {
			if !ids[n.OrderID] {
				t.Errorf("alert %+v is for no order of the batch", n)
			}
			delete(ids, n.OrderID)
		}
		orders, err := db.ListOrders(ctx, f.client)
		if err != nil || len(orders) != 4 {
			t.Fatalf("the customer has %d orders (%v), want 4", len(orders), err)
		}
	})
}

// A transaction that fails at its COMMIT (on SQLite, which the writer
// begins and ends by statements of its own) is rolled back: its write is
// not stored, the caller gets the failure, and the connection is not left
// inside it for the next batch to trip over.
func TestFailedCommitLeavesNoTransaction(t *testing.T) {
	db := dbtest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "db"))
	f := newFixture(t, db)
	err := models.FailAtCommit(ctx, db, f.owner)
	var refusal *models.Error
	if err == nil || errors.As(err, &refusal) {
		t.Fatalf("a change whose COMMIT fails: %v, want the commit's failure", err)
	}
	var ghosts int64
	if err := models.SQL(t, db).QueryRow("SELECT COUNT(*) FROM order_items WHERE name = 'ghost'").Scan(&ghosts); err != nil {
		t.Fatal(err)
	}
	if ghosts != 0 {
		t.Fatalf("%d items of the failed transaction stored", ghosts)
	}
	for i := range 3 { // a batch each, on the same connection
		if _, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}}); err != nil {
			t.Fatalf("order %d after the failed commit: %v", i, err)
		}
	}
	if orders, err := db.ListOrders(ctx, f.client); err != nil || len(orders) != 3 {
		t.Fatalf("the customer has %d orders (%v), want 3", len(orders), err)
	}
}
