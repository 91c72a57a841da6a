package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
)

// TestMain lets this test binary be a checkpoint process, as the orderbell
// binary is (main.go): openWithProcess starts it again with
// models.CheckpointProcessEnv set.
func TestMain(m *testing.M) {
	if models.ServeCheckpointsIfAsked() {
		return
	}
	os.Exit(m.Run())
}

// openWithProcess opens url as the server does: checkpoints in a process of
// their own, this test binary run again.
func openWithProcess(t *testing.T, url string) *models.DB {
	t.Helper()
	db, err := models.Open(ctx, url, models.WithCheckpointProcess())
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// eachCheckpointer runs test with SQLite's checkpoints on a connection of
// the server's own (dbtest.Open) and in a process of their own.
func eachCheckpointer(t *testing.T, test func(t *testing.T, open func(t *testing.T, url string) *models.DB)) {
	t.Run("connection", func(t *testing.T) {
		test(t, func(t *testing.T, url string) *models.DB { return dbtest.Open(t, url) })
	})
	t.Run("process", func(t *testing.T) { test(t, openWithProcess) })
}

// A checkpoint process answers each byte it reads with the outcome of one
// checkpoint, and ends when its input does.
func TestServeCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := dbtest.Open(t, "sqlite:"+path)
	f := newFixture(t, db)
	f.order(t, db)
	var out strings.Builder
	if err := models.ServeCheckpoints(path, strings.NewReader("ccc"), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "ok\nok\nok\n" {
		t.Errorf("answered %q to three requests; want three ok lines", got)
	}
	err := models.ServeCheckpoints(filepath.Join(t.TempDir(), "no", "such", "dir", "db"), strings.NewReader("c"), &out)
	if err == nil {
		t.Error("a database that cannot be opened: no error")
	}
}

// The server's SQLite file is checkpointed by a process of its own, which
// ends when the database is closed.
func TestCheckpointProcessEndsWithTheDatabase(t *testing.T) {
	db := openWithProcess(t, "sqlite:"+filepath.Join(t.TempDir(), "db"))
	cmd := models.CheckpointProcess(db)
	if cmd == nil || cmd.Process == nil {
		t.Fatal("no checkpoint process")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
		t.Errorf("after Close the checkpoint process: %v; want it exited, successfully", cmd.ProcessState)
	}
	if mem := openWithProcess(t, "sqlite::memory:"); models.CheckpointProcess(mem) != nil {
		t.Error("an in-memory database, which has no log, has a checkpoint process")
	}
}

// Orders go on being taken when the checkpoint process is gone (its
// checkpoints fail; the writer's own auto-checkpoint keeps the log
// bounded), and the database still closes.
func TestOrdersOutliveTheCheckpointProcess(t *testing.T) {
	db := openWithProcess(t, "sqlite:"+filepath.Join(t.TempDir(), "db"))
	f := newFixture(t, db)
	cmd := models.CheckpointProcess(db)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for range 150 { // 300 commits: rounds of checkpoints fail
		o, _ := f.order(t, db)
		if _, _, err := db.AcceptOrder(ctx, f.owner, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	if orders, err := db.ListOrders(ctx, f.client); err != nil || len(orders) != 150 {
		t.Fatalf("%d orders listed, %v; want the 150 placed", len(orders), err)
	}
	// The dead process was waited for when a checkpoint found it gone, not
	// left a zombie until Close: its pid is free (kill -0 finds nothing).
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(cmd.Process.Pid, 0) != syscall.ESRCH; {
		if time.Now().After(deadline) {
			t.Fatal("the killed checkpoint process was not waited for before Close")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
