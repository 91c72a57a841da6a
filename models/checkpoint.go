package models

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libtnb/sqlite"
)

// SQLite keeps committed pages in its write-ahead log until a checkpoint
// copies them back into the database file. Left to itself it does that
// inside the commit that takes the log past wal_autocheckpoint pages: on
// orderbell's one connection that is the order writer, so every order queued
// behind that commit waited for a thousand page copies and two fsyncs.
//
// The checkpointer does the copying instead, from a connection of its own
// (in the server, from a process of its own: checkpointproc.go), while the
// writer goes on committing (a WAL checkpoint and a write transaction do
// not block each other). But the log is rewound, and its file reused from
// the start, only by a write transaction that begins while everything in it
// has been copied, and under load the writer begins its next transaction as
// soon as it commits one: the checkpointer's copy is never complete at that
// moment. So after some of its checkpoints (restAfterRound) the
// checkpointer asks the writer for the rest, and the writer, right after
// its next commit, has what was committed since checkpointed (a few
// batches' pages and two fsyncs, from a fraction of a millisecond to 10 ms
// on a slow virtual disk) on its own connection, or by the checkpoint
// process while it waits; its next transaction then rewinds the log. The
// writer's own auto-checkpoint stays, much higher (walBackstopPages), for
// when the checkpointer cannot keep up.
const (
	// A round of checkpoints starts after checkpointBatches commits of the
	// writer, or after a commit checkpointEvery or more after the last
	// round began: at 1,000 orders/s, about 600 pages to copy. Rounds twice
	// as often cost the server 3–6% more CPU at 1,000 orders/s for a longer
	// p95 (each round has fixed costs: two fsyncs, the hot pages again).
	checkpointBatches = 128
	checkpointEvery   = 50 * time.Millisecond
	// The writer takes the rest after every restRounds-th round, and after
	// every round started by checkpointBatches commits rather than by the
	// clock: at 1,000 orders/s after every fourth (the log rewound five
	// times a second), and under a heavier stream, whose rounds come every
	// checkpointBatches commits, after each, as the log then grows
	// fastest. Each rest holds the writer for its fsyncs (about 5 ms)
	// while changes queue; a rest after every round cost 7% more CPU (the
	// server's and the checkpoint process's) at 1,000 orders/s and 7% more
	// latency at the median (bench/README.md, "Twenty-first round").
	restRounds = 4
	// walBackstopPages is the writer connection's wal_autocheckpoint: 16 MB
	// of log, which the checkpointer never lets it reach while it keeps up.
	walBackstopPages = 4096
	// walFileLimit is the journal_size_limit: when the log is rewound, a
	// file grown past it (while a disk stall held the checkpointer up, or a
	// reader held the log) is cut back to it. A log kept short never
	// reaches it, so it costs nothing then.
	walFileLimit = 16 << 20
)

// checkpoints is where a checkpointer's checkpoints run: connections of
// the server's own (connCheckpoints) or a process of their own
// (*checkpointProcess, checkpointproc.go).
type checkpoints interface {
	round() error // a round of the checkpointer's
	rest() error  // what the writer committed since, while it waits
	close()       // after the last of either
}

type checkpointer struct {
	run checkpoints
	// wake (1 slot) starts a round: true when the writer's
	// checkpointBatches commits called for it, false when the clock did.
	wake    chan bool
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once // close
	// restDue is set after the rounds restAfterRound picks, for the writer
	// to checkpoint what was committed since (committed).
	restDue atomic.Bool
	// roundsSinceRest is the loop's alone.
	roundsSinceRest int

	// The writer's alone (SQLite has one): its commits since the last
	// round, and when that round began.
	batches   int
	lastRound time.Time
}

// connCheckpoints runs the rounds on a connection of their own and the
// rest on the writer's.
type connCheckpoints struct{ own, writer *sql.DB }

func (c connCheckpoints) round() error { return checkpoint(c.own) }
func (c connCheckpoints) rest() error  { return checkpoint(c.writer) }
func (c connCheckpoints) close()       { _ = c.own.Close() }

// newConnCheckpoints opens dsn's database on a connection of its own for
// the rounds; the rest runs on writer's.
func newConnCheckpoints(ctx context.Context, dsn string, writer *sql.DB) (checkpoints, error) {
	own, err := openCheckpointConn(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return connCheckpoints{own: own, writer: writer}, nil
}

// openCheckpointConn opens dsn's database on one connection of its own.
func openCheckpointConn(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open(sqlite.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// startCheckpointer starts checkpointing, with run, as the writer's
// commits call for (committed).
func startCheckpointer(run checkpoints) *checkpointer {
	c := &checkpointer{run: run, wake: make(chan bool, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// committed is called by the writer after each batch: if the checkpointer
// has copied most of the log, it checkpoints the rest (an error leaves
// that to the next round), and it starts a round when one is due. Only the
// one writer goroutine calls it.
func (c *checkpointer) committed() {
	c.batches++
	if c.restDue.Swap(false) {
		// And no round starts now: one copying while the writer begins
		// its next transaction would keep that transaction from rewinding
		// the log (a checkpoint holds the log's first read lock while it
		// copies).
		_ = c.run.rest()
		return
	}
	if now := time.Now(); c.batches >= checkpointBatches || now.Sub(c.lastRound) >= checkpointEvery {
		byBatches := c.batches >= checkpointBatches
		c.batches, c.lastRound = 0, now
		select {
		case c.wake <- byBatches:
		default: // a round is running; the next commit asks again
		}
	}
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	for {
		var byBatches bool
		select {
		case byBatches = <-c.wake:
		case <-c.stop:
			return
		}
		// A failed checkpoint (the file is gone, the disk is full…) leaves
		// the log to the writer's own auto-checkpoint until a later round
		// succeeds.
		if err := c.run.round(); err == nil {
			if !c.restAfterRound(byBatches) {
				continue // the writer goes on; a later round's rest takes this one's too
			}
			c.restDue.Store(true)
			// A wake that came while the round ran is for it: the next
			// round starts after the writer has taken the rest, since one
			// copying as it does would keep the log from being rewound
			// (see committed).
			select {
			case <-c.wake:
			default:
			}
		}
	}
}

// restAfterRound reports whether the writer is to take the rest after
// the round that just ended: after every restRounds-th, and after every
// round the writer's commits started (byBatches). Only the loop calls it.
func (c *checkpointer) restAfterRound(byBatches bool) bool {
	if c.roundsSinceRest++; c.roundsSinceRest < restRounds && !byBatches {
		return false
	}
	c.roundsSinceRest = 0
	return true
}

// checkpoint runs a PASSIVE checkpoint on db: it copies what it can without
// waiting for anyone (another checkpoint running makes it a no-op).
func checkpoint(db *sql.DB) error {
	var busy, logFrames, copied int
	return db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() {
	c.once.Do(func() {
		close(c.stop)
		<-c.stopped
		c.run.close()
	})
}
