package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// The order writer's statements live on driver connections; closing the
// database finalizes them, so SQLite really closes its files.
func TestCloseLeavesNoFileOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := models.Open(ctx, "sqlite:"+filepath.Join(dir, "orderbell.db"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, db)
	o, _ := f.order(t, db)
	if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
		t.Fatal(err)
	}
	if open := filesOpenUnder(t, dir); len(open) == 0 {
		t.Fatal("no file of the database is open while it is: the check below would prove nothing")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if open := filesOpenUnder(t, dir); len(open) > 0 {
		t.Errorf("after Close, still open: %v", open)
	}
}

func filesOpenUnder(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var open []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			open = append(open, target)
		}
	}
	return open
}

// The writer follows the pool: connections it retires (here after a
// millisecond) take the statements prepared on them along, and the orders
// go on on new ones.
func TestWriterFollowsPoolConnections(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := dbtest.Open(t, e.URL(t))
			f := newFixture(t, db)
			models.SQL(t, db).SetConnMaxLifetime(time.Millisecond)
			for i := range 12 {
				o, _ := f.order(t, db)
				if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
					t.Fatalf("accept %d: %v", i, err)
				}
				time.Sleep(2 * time.Millisecond) // let the connection expire
			}
			notes, err := db.NotificationsAfter(ctx, f.owner, 0)
			if err != nil || len(notes) != 12 {
				t.Fatalf("owner's alerts: %d, %v; want 12", len(notes), err)
			}
			// 4 writer lanes on MySQL may each hold one; SQLite's one
			// connection is replaced too.
			if n := models.PreparedConnections(db); n > 5 {
				t.Errorf("statements kept for %d connections after 24 changes on expiring ones", n)
			}
		})
	}
}
