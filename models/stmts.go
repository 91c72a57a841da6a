package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// The writer runs the order hot path's statements on the driver connection
// itself (sql.Conn.Raw), prepared once per connection. Through database/sql
// every statement of a transaction cost a Tx.Stmt with its bookkeeping,
// argument conversion and a Rows with a context watcher: a quarter of all
// the bytes an order allocated. The arguments here are already the driver's
// own types (int64, string, time.Time), which both drivers take as they are.

// stmtID names one of the writer's statements.
type stmtID uint8

const (
	stStoreOwner stmtID = iota
	stMenu
	stInsertOrder
	stInsertItem
	stInsertAlert
	stOrderByID
	stAcceptOrder
	// A SQLite transaction's own statements (writer.txStmts).
	stBegin
	stCommit
	stRollback
	numStmts
)

var stmtQueries = [numStmts]string{
	stStoreOwner:  "SELECT owner_id FROM stores WHERE id = ?",
	stMenu:        "SELECT m.name, m.price, s.owner_id FROM menus m JOIN stores s ON s.id = m.store_id WHERE m.id = ? AND m.store_id = ?",
	stInsertOrder: "INSERT INTO orders (client_id, owner_id, store_id, status, total_price, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	stInsertItem:  "INSERT INTO order_items (order_id, menu_id, name, price, `count`) VALUES (?, ?, ?, ?, ?)",
	stInsertAlert: "INSERT INTO notifications (recipient_role, recipient_id, event, order_id, store_id, total_price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	stOrderByID:   "SELECT client_id, owner_id, store_id, status, total_price, created_at FROM orders WHERE id = ?",
	stAcceptOrder: "UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
	stBegin:       "BEGIN",
	stCommit:      "COMMIT",
	stRollback:    "ROLLBACK",
}

// ctxConn and ctxStmt are what the writer needs of a driver connection and
// of its prepared statements: contexts throughout, as both of orderbell's
// drivers give. A driver that does not is refused once, where its
// connection or statement is first met.
type ctxConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

type ctxStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// statements are the writer's statements on each driver connection it has
// used, prepared on first use, and the two lookups that pick a lane (on
// MySQL), which run outside the writer through database/sql.
type statements struct {
	storeOwner  *sql.Stmt
	orderClient *sql.Stmt

	mu    sync.Mutex
	conns map[ctxConn]*[numStmts]ctxStmt
}

func prepareStatements(ctx context.Context, db *sql.DB) (*statements, error) {
	s := &statements{conns: make(map[ctxConn]*[numStmts]ctxStmt)}
	var err error
	if s.storeOwner, err = db.PrepareContext(ctx, stmtQueries[stStoreOwner]); err != nil {
		return nil, fmt.Errorf("prepare %q: %w", stmtQueries[stStoreOwner], err)
	}
	if s.orderClient, err = db.PrepareContext(ctx, "SELECT client_id FROM orders WHERE id = ?"); err != nil {
		_ = s.storeOwner.Close()
		return nil, fmt.Errorf("prepare order lookup: %w", err)
	}
	return s, nil
}

// on returns conn's statements (prepared as they are first used). It drops
// those of connections the pool has closed since, untouched (a driver
// statement of a closed connection must not be used, not even closed):
// MySQL's went with their connection; SQLite's pool closes its one
// connection only when it is broken, or at Close, before which the writer
// closes its statements (closeOn).
func (s *statements) on(conn ctxConn) *[numStmts]ctxStmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.conns[conn]; ok {
		return p
	}
	for c := range s.conns {
		if v, ok := c.(driver.Validator); ok && !v.IsValid() {
			delete(s.conns, c)
		}
	}
	p := new([numStmts]ctxStmt)
	s.conns[conn] = p
	return p
}

// closeOn closes conn's statements; the caller holds conn (in Raw).
func (s *statements) closeOn(conn ctxConn) {
	s.mu.Lock()
	p := s.conns[conn]
	delete(s.conns, conn)
	s.mu.Unlock()
	if p == nil {
		return
	}
	for _, st := range p {
		if st != nil {
			_ = st.Close()
		}
	}
}

// closeLookups closes the statements prepared through database/sql.
func (s *statements) closeLookups() {
	_ = s.storeOwner.Close()
	_ = s.orderClient.Close()
}

// batchTx is one batch's transaction on a driver connection.
type batchTx struct {
	ctx      context.Context
	conn     ctxConn
	prepared *[numStmts]ctxStmt
	args     [7]driver.NamedValue // the widest statement's (the inserts of an order and an alert)
	row      [6]driver.Value      // the widest row (stOrderByID)
}

func (t *batchTx) stmt(id stmtID) (ctxStmt, error) {
	if st := t.prepared[id]; st != nil {
		return st, nil
	}
	ds, err := t.conn.PrepareContext(t.ctx, stmtQueries[id])
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", stmtQueries[id], err)
	}
	st, ok := ds.(ctxStmt)
	if !ok {
		_ = ds.Close()
		return nil, fmt.Errorf("database driver statement %T cannot execute and query with a context", ds)
	}
	t.prepared[id] = st
	return st, nil
}

func (t *batchTx) named(args []driver.Value) []driver.NamedValue {
	nv := t.args[:len(args)]
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// exec runs statement id with args (int64, string or time.Time).
func (t *batchTx) exec(id stmtID, args ...driver.Value) (driver.Result, error) {
	st, err := t.stmt(id)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, t.named(args))
}

// queryRow runs query id with args and scans its first row into dest
// (*int64, *int, *string or *time.Time); sql.ErrNoRows if there is none.
func (t *batchTx) queryRow(id stmtID, args []driver.Value, dest ...any) error {
	st, err := t.stmt(id)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(t.ctx, t.named(args))
	if err != nil {
		return err
	}
	row := t.row[:len(dest)]
	err = rows.Next(row)
	if cerr := rows.Close(); err == nil && cerr != nil {
		return cerr
	}
	if errors.Is(err, io.EOF) {
		return sql.ErrNoRows
	}
	if err != nil {
		return err
	}
	for i, d := range dest {
		if err := scanValue(d, row[i]); err != nil {
			return fmt.Errorf("%s: column %d: %w", stmtQueries[id], i+1, err)
		}
	}
	return nil
}

// scanValue stores a driver value in dest: what database/sql's Scan does
// for the types the writer reads (SQLite gives int64, string and
// time.Time; MySQL with parseTime int64, []byte and time.Time).
func scanValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		n, err := asInt64(v)
		*d = n
		return err
	case *int:
		n, err := asInt64(v)
		*d = int(n)
		return err
	case *string:
		switch s := v.(type) {
		case string:
			*d = s
		case []byte:
			*d = string(s)
		default:
			return fmt.Errorf("cannot read %T as text", v)
		}
	case *time.Time:
		tv, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("cannot read %T as a time", v)
		}
		*d = tv
	default:
		// (not naming dest's type: handing dest to fmt would move every
		// caller's variables to the heap)
		return errors.New("cannot scan into this type")
	}
	return nil
}

func asInt64(v driver.Value) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case []byte:
		return strconv.ParseInt(string(n), 10, 64)
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("cannot read %T as a whole number", v)
}
