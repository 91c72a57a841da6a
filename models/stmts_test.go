package models_test

import (
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// The writer follows the pool: connections it closes (here every one, as
// soon as it is put back) take the statements prepared on them along, and
// the orders go on on new ones.
func TestWriterFollowsPoolConnections(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := dbtest.Open(t, e.URL(t))
			f := newFixture(t, db)
			models.SQL(t, db).SetMaxIdleConns(0)
			for i := range 12 {
				o, _ := f.order(t, db)
				if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
					t.Fatalf("accept %d: %v", i, err)
				}
			}
			notes, err := db.NotificationsAfter(ctx, f.owner, 0)
			if err != nil || len(notes) != 12 {
				t.Fatalf("owner's alerts: %d, %v; want 12", len(notes), err)
			}
			if n := models.PreparedConnections(db); n > 2 {
				t.Errorf("statements kept for %d connections after 24 changes, each on a new one", n)
			}
		})
	}
}

// A MariaDB server that ends every connection (a restart, wait_timeout)
// leaves the pool's idle ones dead: the next orders go through on new
// ones, and the writer keeps no statements of the dead.
func TestOrdersAfterTheServerEndsConnections(t *testing.T) {
	engines := dbtest.Engines(t)
	if len(engines) < 2 {
		t.Skipf("%s not set", dbtest.MySQLEnv)
	}
	u := engines[1].URL(t)
	db := dbtest.Open(t, u)
	f := newFixture(t, db)
	f.order(t, db) // the writer's connections now hold statements

	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", parsed.User.Username()+"@tcp("+parsed.Host+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	rows, err := admin.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?", strings.TrimPrefix(parsed.Path, "/"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		t.Fatal("no connection of the pool found on the server: the check below would prove nothing")
	}
	for _, id := range ids {
		if _, err := admin.ExecContext(ctx, "KILL ?", id); err != nil {
			t.Fatalf("KILL %d: %v", id, err)
		}
	}

	for i := range 3 {
		o, _ := f.order(t, db)
		if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
			t.Fatalf("accept %d after the server ended %d connections: %v", i, len(ids), err)
		}
	}
	if n := models.PreparedConnections(db); n > 4 {
		t.Errorf("statements kept for %d connections", n)
	}
}
