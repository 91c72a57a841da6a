package models_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/libtnb/sqlite"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// SQLite's log is copied back and rewound off the order writer, often
// enough that it stays short under a steady stream of orders (a few MB
// here); without that the file grows to the writer's own auto-checkpoint,
// 4,096 pages (16.9 MB), and past it (19 MB was seen) before anything is
// copied. A disk that stalls the checkpointer's fsync lets it grow for the
// stall's length, hence the margin.
func TestWALStaysShortUnderSteadyOrders(t *testing.T) {
	eachCheckpointer(t, testWALStaysShort)
}

func testWALStaysShort(t *testing.T, open func(t *testing.T, url string) *models.DB) {
	path := filepath.Join(t.TempDir(), "db")
	db := open(t, "sqlite:"+path)
	f := newFixture(t, db)
	var mu sync.Mutex
	largest := int64(0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 1500 {
				o, _, err := db.PlaceOrder(ctx, f.client, f.storeID, []models.OrderLine{{MenuID: f.menuID, Count: 1}})
				if err == nil && i%2 == w%2 {
					_, _, err = db.AcceptOrder(ctx, f.owner, o.ID)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if fi, err := os.Stat(path + "-wal"); err == nil {
					mu.Lock()
					largest = max(largest, fi.Size())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("largest WAL: %d KB", largest/1024)
	if largest == 0 || largest > 15<<20 {
		t.Fatalf("the WAL file reached %d KB over 6,000 orders; want it kept under 15 MB, below the writer's own 16.9 MB auto-checkpoint (and seen at all)", largest/1024)
	}
}

// Closing the database checkpoints everything and removes the log: the
// checkpointer's connection (or process) is closed before the last one,
// which does that.
func TestCloseLeavesNoWAL(t *testing.T) {
	eachCheckpointer(t, testCloseLeavesNoWAL)
}

func testCloseLeavesNoWAL(t *testing.T, open func(t *testing.T, url string) *models.DB) {
	path := filepath.Join(t.TempDir(), "db")
	db := open(t, "sqlite:"+path)
	f := newFixture(t, db)
	f.order(t, db)
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("the WAL is still there after Close (%v)", err)
	}
	reopened := dbtest.Open(t, "sqlite:"+path)
	if orders, err := reopened.ListOrders(ctx, f.client); err != nil || len(orders) != 1 {
		t.Fatalf("after reopening: %d orders, %v; want the 1 placed", len(orders), err)
	}
}

// An in-memory database has no log to checkpoint, so no checkpointer, and
// works as a file does; a file has one.
func TestInMemorySQLite(t *testing.T) {
	if file := dbtest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "db")); !models.Checkpointing(file) {
		t.Error("a SQLite file has no checkpointer")
	}
	db := dbtest.Open(t, "sqlite::memory:")
	if models.Checkpointing(db) {
		t.Error("an in-memory database has a checkpointer")
	}
	f := newFixture(t, db)
	o, _ := f.order(t, db)
	if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
		t.Fatal(err)
	}
}

// orderbell's SQLite settings apply, except where the URL sets the same
// pragma itself: the URL's wins (bench/run.sh's SQLITE_PARAMS relies on
// that). The driver runs pragmas sorted by their text, so leaving
// orderbell's out is the only way: FULL sorts before NORMAL.
func TestSQLiteURLPragmasWin(t *testing.T) {
	dir := t.TempDir()
	db := dbtest.Open(t, "sqlite:"+filepath.Join(dir, "a"))
	if got := models.Pragma(t, db, "wal_autocheckpoint"); got != "4096" {
		t.Errorf("wal_autocheckpoint = %s; want orderbell's backstop, 4096", got)
	}
	if got := models.Pragma(t, db, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s; want wal", got)
	}
	db = dbtest.Open(t, "sqlite:"+filepath.Join(dir, "b")+"?_pragma=wal_autocheckpoint(0)&_pragma=synchronous(FULL)")
	if got := models.Pragma(t, db, "wal_autocheckpoint"); got != "0" {
		t.Errorf("wal_autocheckpoint = %s; want the URL's 0", got)
	}
	if got := models.Pragma(t, db, "synchronous"); got != "2" { // FULL
		t.Errorf("synchronous = %s; want the URL's FULL (2)", got)
	}
}

// A log that grew long while something held it (here a reader's open
// transaction, as a stalled checkpoint would) is cut back once it is
// rewound, instead of keeping its largest size on disk until the server
// stops.
func TestLongWALIsCutBackOnceReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := dbtest.Open(t, "sqlite:"+path)
	f := newFixture(t, db)
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	reader, err := sql.Open(sqlite.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	held, err := reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := held.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for range 800 {
		f.order(t, db)
	}
	grown := walSize()
	if grown <= 20<<20 {
		t.Fatalf("with a reader holding it, the log grew to only %d KB; the test needs it past 20 MB", grown>>10)
	}
	_ = held.Rollback()

	for range 1000 {
		f.order(t, db)
	}
	if got := walSize(); got > 16<<20+1<<20 {
		t.Fatalf("1,000 orders after the reader let go, the log file is still %d KB (it had grown to %d KB); want it cut back to about 16 MB", got>>10, grown>>10)
	}
}
