package models

import (
	"context"
	"database/sql"
	"errors"
	"os/exec"
	"testing"
	"time"
)

// AgeNotification makes a stored alert look older than it is.
func AgeNotification(t *testing.T, db *DB, id int64, age time.Duration) {
	t.Helper()
	if err := db.gorm.Model(&Notification{}).Where("id = ?", id).Update("created_at", now().Add(-age)).Error; err != nil {
		t.Fatal(err)
	}
}

// HoldBatch makes db's order changes queue instead of running, until
// flush(n) takes the first n of them and commits them as one batch (and
// puts the real writers back). It shows what one transaction of many
// changes does when some of them are refused or fail.
func HoldBatch(db *DB) (flush func(n int)) {
	running := db.w
	held := &writer{db: running.db, stmts: running.stmts, lanes: []chan *change{make(chan *change, maxBatch)}, timeout: running.timeout, txStmts: running.txStmts}
	held.committed.Store(running.committed.Load())
	db.w = held
	return func(n int) {
		batch := make([]*change, n)
		for i := range batch {
			batch[i] = <-held.lanes[0]
		}
		db.w = running
		held.commit(batch)
	}
}

// FailAfterWrite queues a change that stores an alert for p and then fails
// as a broken statement would: not with a refusal (*Error).
func FailAfterWrite(ctx context.Context, db *DB, p Principal) error {
	return db.w.do(ctx, p.Shard(), nil, nil, func(tx *batchTx) error {
		n := Notification{RecipientRole: p.Role, RecipientID: p.ID, Event: EventSubmitOrder, CreatedAt: now()}
		if err := insertAlert(tx, &n); err != nil {
			return err
		}
		return errors.New("broken statement")
	})
}

// FailAtCommit queues a change that writes an item of an order that does
// not exist with SQLite's foreign keys checked only at the COMMIT
// (defer_foreign_keys): the change runs, and its transaction fails at its
// COMMIT, which leaves it open. SQLite only.
func FailAtCommit(ctx context.Context, db *DB, p Principal) error {
	return db.w.do(ctx, p.Shard(), nil, nil, func(tx *batchTx) error {
		st, err := tx.conn.PrepareContext(tx.ctx, "PRAGMA defer_foreign_keys = ON")
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.(ctxStmt).ExecContext(tx.ctx, nil); err != nil {
			return err
		}
		_, err = tx.exec(stInsertItem, int64(1)<<40, int64(1), "ghost", int64(1), int64(1))
		return err
	})
}

// Pragma reads an SQLite pragma on db's connection.
func Pragma(t *testing.T, db *DB, name string) string {
	t.Helper()
	var v string
	if err := SQL(t, db).QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Checkpointing reports whether db copies SQLite's log back off the order
// writer (checkpoint.go).
func Checkpointing(db *DB) bool { return db.ckpt != nil }

// CheckpointProcess is db's checkpoint process (WithCheckpointProcess);
// nil when it checkpoints on a connection of its own.
func CheckpointProcess(db *DB) *exec.Cmd {
	if db.ckpt == nil {
		return nil
	}
	if p, ok := db.ckpt.run.(*checkpointProcess); ok {
		return p.cmd
	}
	return nil
}

// SQL is db's database/sql pool.
func SQL(t *testing.T, db *DB) *sql.DB {
	t.Helper()
	sqlDB, err := db.gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	return sqlDB
}

// PreparedConnections counts the driver connections the order writer
// holds prepared statements for.
func PreparedConnections(db *DB) int {
	db.w.stmts.mu.Lock()
	defer db.w.stmts.mu.Unlock()
	return len(db.w.stmts.conns)
}

// Lanes are the writer lanes PlaceOrder and AcceptOrder pick for storeID's
// and orderID's alerts, and whether each was remembered (lanes.go) rather
// than looked up.
func Lanes(ctx context.Context, db *DB, storeID, orderID int64) (store, order uint64, storeHinted, orderHinted bool) {
	if db.hints != nil {
		_, storeHinted = db.hints.get(db.hints.stores[:], storeID)
		_, orderHinted = db.hints.get(db.hints.orders[:], orderID)
	}
	return db.storeLane(ctx, storeID), db.orderLane(ctx, orderID), storeHinted, orderHinted
}

// ForgetLanes empties the lane hints, as a node that did not place the
// orders has them.
func ForgetLanes(db *DB) {
	if db.hints != nil {
		db.hints.mu.Lock()
		defer db.hints.mu.Unlock()
		clear(db.hints.stores[:])
		clear(db.hints.orders[:])
	}
}

// UnusedAlertIndex is the index on notifications.created_at that earlier
// versions made.
const UnusedAlertIndex = unusedAlertIndex

// HasAlertIndex reports whether db's notifications table has index name.
func HasAlertIndex(db *DB, name string) bool {
	return db.gorm.Migrator().HasIndex(&Notification{}, name)
}

// MakeOldAlertIndex indexes notifications.created_at as earlier versions did.
func MakeOldAlertIndex(t *testing.T, db *DB) {
	t.Helper()
	if err := db.gorm.Exec("CREATE INDEX " + unusedAlertIndex + " ON notifications (created_at)").Error; err != nil {
		t.Fatal(err)
	}
}
