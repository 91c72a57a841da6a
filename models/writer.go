package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The order hot path (PlaceOrder, AcceptOrder) does not go through gorm: a
// few writer goroutines take every change waiting and commit them together
// in one transaction (group commit), with statements prepared once per
// connection and run on the driver connection itself (stmts.go). On
// SQLite this is the difference between one commit per order and one per
// burst: its single connection would otherwise parse and commit every
// statement of every order on its own. Everything else stays on gorm.
const (
	// maxBatch bounds how many changes share one transaction.
	maxBatch = 128
	// writeTimeout bounds one batch's transaction on MySQL; a change waits
	// at most for the batch before it and its own.
	writeTimeout = 10 * time.Second

	// Group commit. A batch is what has queued by the time the writer
	// turns to it: under a steady stream one or two changes, and every
	// commit writes each page it touched (on SQLite a frame of the log
	// each). A writer goroutine that batched busyPerSlot changes or more
	// in the last paceSlot (1,000 a second) waits up to commitWait for its
	// batch to reach groupSize: fewer, larger commits for at most
	// commitWait more latency. A quieter writer never waits. commitWait is a millisecond
	// because a Go timer cannot fire sooner in a process with nothing
	// else to run (the runtime's poller sleeps in whole milliseconds): a
	// smaller value would only pretend. Measured on SQLite at 1,000
	// orders/s (bench/README.md, "Eleventh round"): 1.9 → 3.3 changes a
	// commit, 28 → 16–18 write calls and ~15% less CPU per order, for ~1 ms
	// more latency at the median.
	commitWait  = time.Millisecond
	groupSize   = 3
	paceSlot    = 100 * time.Millisecond // how long pace counts changes for
	busyPerSlot = 100
)

// pace estimates how often changes come to one writer goroutine, from the
// changes it batched in the last whole paceSlot.
type pace struct {
	slotStart   time.Time
	count, last int // changes batched in the current slot and the one before
}

// add counts n changes batched at now.
func (p *pace) add(now time.Time, n int) {
	if since := now.Sub(p.slotStart); since >= paceSlot {
		p.last = p.count
		if since >= 2*paceSlot {
			p.last = 0 // a whole slot went by with nothing
		}
		p.count, p.slotStart = 0, now
	}
	p.count += n
}

// busy reports whether the last slot held busyPerSlot changes or more,
// and the writer has not since been quiet for a slot.
func (p *pace) busy(now time.Time) bool {
	return p.last >= busyPerSlot && now.Sub(p.slotStart) < 2*paceSlot
}

// change is one unit of work for the writer: run does every check before
// its first write, so a change refused with an *Error has written nothing
// and the batch goes on without it.
type change struct {
	ctx  context.Context
	run  func(tx *batchTx) error
	done chan error
	// order and alert, if not nil, are the order run changes and the alert
	// it stores (their IDs set once stored), handed to the writer's
	// committed hook once the change commits.
	order *Order
	alert *Notification
}

type writer struct {
	db    *sql.DB
	stmts *statements
	// lanes are the writer goroutines' queues, one each. A change goes to
	// the lane of the account its alert is for (lane), so one account's
	// changes are committed, and handed to the committed hook, one after
	// another by one goroutine: in the order of their alerts' ids.
	lanes []chan *change
	// timeout bounds a batch's transaction on a database across the
	// network. Zero (SQLite) gives its statements a context that never
	// ends: the driver then skips a watcher goroutine per statement, and
	// a local file has no connection to lose.
	timeout time.Duration
	// txStmts (SQLite) has each batch's transaction begun and ended by
	// statements prepared once on the connection, as its others are. The
	// driver's BeginTx and Commit prepare and free their BEGIN and COMMIT
	// every time: 1.7% of the CPU at 1,000 orders/s. MySQL keeps BeginTx:
	// its driver sends START TRANSACTION and COMMIT as text, nothing to
	// prepare.
	txStmts bool

	mu     sync.RWMutex // held shared while submitting; Close takes it to stop submissions
	closed bool
	wg     sync.WaitGroup

	// committed, if set (DB.OnCommit), gets the order and alert of every
	// change a writer goroutine committed, in the order of its commits,
	// before the change's caller learns its outcome.
	committed atomic.Pointer[func(Order, Notification, string)]
	// ckpt, if not nil (SQLite), is told of each batch committed.
	ckpt *checkpointer
}

// newWriter starts n writer goroutines: 1 for SQLite (one connection
// anyway), a few for MySQL so round trips overlap. ckpt, if not nil, is
// told of each batch committed.
func newWriter(db *sql.DB, stmts *statements, n int, timeout time.Duration, txStmts bool, ckpt *checkpointer) *writer {
	w := &writer{db: db, stmts: stmts, lanes: make([]chan *change, n), timeout: timeout, txStmts: txStmts, ckpt: ckpt}
	w.wg.Add(n)
	for i := range w.lanes {
		w.lanes[i] = make(chan *change, 4*maxBatch)
		go w.loop(w.lanes[i])
	}
	return w
}

// do runs one change in the next batch and returns its outcome. Once
// queued, it waits for the outcome even if ctx ends, so the caller never
// reports a failure for a change that was committed. lane picks the writer
// goroutine (the Shard of the alert's recipient); order and alert (or nil) are
// what run changes and stores, for the committed hook.
func (w *writer) do(ctx context.Context, lane uint64, order *Order, alert *Notification, run func(tx *batchTx) error) error {
	c := &change{ctx: ctx, run: run, done: make(chan error, 1), order: order, alert: alert}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
	queue := w.lanes[lane%uint64(len(w.lanes))]
	// A lane with room takes the change at once. Only a full one waits on
	// ctx: a request's context makes its Done channel when first asked
	// for it (bench/alloc.sh: 16,779 → 16,594 bytes an order).
	select {
	case queue <- c:
	default:
		select {
		case queue <- c:
		case <-ctx.Done():
			w.mu.RUnlock()
			return dbErr(ctx.Err())
		}
	}
	w.mu.RUnlock()
	return <-c.done
}

// close lets queued changes finish and stops the writers.
func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	for _, lane := range w.lanes {
		close(lane)
	}
	w.mu.Unlock()
	w.wg.Wait()
	w.closeStatements()
}

func (w *writer) loop(queue chan *change) {
	defer w.wg.Done()
	batch := make([]*change, 0, maxBatch)
	var recent pace
	for c := range queue {
		batch = append(batch[:0], c)
		// Let the goroutines that are ready run first: on a busy server
		// they are mostly requests about to queue a change, which then
		// share this batch and its commit.
		runtime.Gosched()
	more:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-queue:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		now := time.Now()
		if len(batch) < groupSize && recent.busy(now) {
			// (A closed queue ends the wait at once.) A new timer for each
			// wait, not one timer Reset: a timer stopped after an earlier
			// wait stays in the runtime's heap, and its Reset has the
			// runtime walk that whole heap (a ping timer for every
			// connection) a millisecond later (timers.adjust). The timer
			// checks took 2.5–2.9% of the CPU at 1,000 orders/s and
			// N = 10,000; with a new timer, pushed on the heap and dropped
			// from its top once stopped and due, 0.2–0.4% (bench/README.md,
			// "Fourteenth round").
			wait := time.NewTimer(commitWait)
		group:
			for len(batch) < groupSize {
				select {
				case c, ok := <-queue:
					if !ok {
						break group
					}
					batch = append(batch, c)
				case <-wait.C:
					break group
				}
			}
			wait.Stop()
		}
		recent.add(now, len(batch))
		w.commit(batch)
		if w.ckpt != nil {
			w.ckpt.committed()
		}
	}
}

// commit runs the batch in one transaction. A change refused with an
// *Error (not found, conflict, …) wrote nothing and is answered as such. Any
// other error fails the transaction; then each change is run again in a
// transaction of its own, so one bad change cannot fail its neighbours —
// unless the database itself is unavailable: then every change of the batch
// gets that answer at once, rather than one timeout after another.
func (w *writer) commit(batch []*change) {
	results := make([]error, len(batch))
	err := w.inTx(func(tx *batchTx) error {
		for i, c := range batch {
			if err := c.ctx.Err(); err != nil {
				results[i] = dbErr(err) // the caller gave up before its turn
				continue
			}
			err := c.run(tx)
			var refused *Error
			if err != nil && !errors.As(err, &refused) {
				return err
			}
			results[i] = err
		}
		return nil
	})
	if err == nil || len(batch) == 1 || errors.Is(dbErr(err), ErrUnavailable) {
		committed := w.committed.Load()
		for i, c := range batch {
			if err != nil {
				results[i] = dbErr(err)
			} else if results[i] == nil && c.alert != nil {
				c.alert.CommittedAt = time.Now()
				if committed != nil && c.order != nil {
					(*committed)(*c.order, *c.alert, originOf(c.ctx))
				}
			}
			c.done <- results[i]
		}
		return
	}
	for _, c := range batch {
		w.commit([]*change{c})
	}
}

// inTx runs fn in a transaction on a connection of the pool, held for
// the batch (SQLite's only one, between the other queries).
func (w *writer) inTx(fn func(tx *batchTx) error) error {
	ctx := context.Background()
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	var err error
	// A connection found broken at BEGIN, after the pool's own check at
	// checkout (MySQL's liveness check), is replaced, as database/sql's
	// BeginTx would.
	for range 3 {
		var began bool
		began, err = w.tryTx(ctx, fn)
		if began || !errors.Is(err, driver.ErrBadConn) {
			break
		}
	}
	return err
}

func (w *writer) tryTx(ctx context.Context, fn func(tx *batchTx) error) (began bool, err error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(ctxConn)
		if !ok {
			return fmt.Errorf("database driver connection %T cannot begin and prepare with a context", dc)
		}
		tx := batchTxs.Get().(*batchTx)
		defer func() {
			*tx = batchTx{} // holding on to nothing of this batch
			batchTxs.Put(tx)
		}()
		tx.ctx, tx.conn, tx.prepared = ctx, c, w.stmts.on(c)
		var dtx driver.Tx
		if w.txStmts {
			dtx = stmtTx{tx}
			if _, err := tx.exec(stBegin); err != nil {
				return err
			}
		} else if dtx, err = c.BeginTx(ctx, driver.TxOptions{}); err != nil {
			return err
		}
		began = true
		if err := fn(tx); err != nil {
			_ = dtx.Rollback()
			return err
		}
		return dtx.Commit()
	})
	return began, err
}

// stmtTx ends a transaction begun with stBegin, by statement.
type stmtTx struct{ tx *batchTx }

func (t stmtTx) Commit() error {
	if _, err := t.tx.exec(stCommit); err != nil {
		// A COMMIT that failed (SQLITE_BUSY, a full disk) can leave the
		// transaction open; the connection must not stay in it. (With
		// none open, this ROLLBACK fails harmlessly.)
		_ = t.Rollback()
		return err
	}
	return nil
}

func (t stmtTx) Rollback() error {
	_, err := t.tx.exec(stRollback)
	return err
}

// batchTxs keeps each batch from allocating its transaction's scratch
// space (arguments and a row, a few hundred bytes).
var batchTxs = sync.Pool{New: func() any { return new(batchTx) }}

// closeStatements closes the writer's statements on the connection the
// pool gives (SQLite's only one) before the database closes its
// connections; a MySQL server drops the others' with their connections.
func (w *writer) closeStatements() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := w.db.Conn(ctx); err == nil {
		_ = conn.Raw(func(dc any) error {
			if c, ok := dc.(ctxConn); ok {
				w.stmts.closeOn(c)
			}
			return nil
		})
		_ = conn.Close()
	}
	w.stmts.closeLookups()
}
