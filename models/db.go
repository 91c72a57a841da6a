package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DefaultURL is the zero-setup database: an embedded SQLite file.
const DefaultURL = "sqlite:orderbell.db"

// DB is orderbell's storage. Its methods take the caller's context first
// and return errors that wrap one of the kinds in errors.go.
type DB struct {
	gorm *gorm.DB
	w    *writer       // the order hot path: see writer.go
	ckpt *checkpointer // SQLite's WAL, copied back off the writer: see checkpoint.go
	// hints remember what picks a change's writer lane; nil with one
	// lane (SQLite). See lanes.go.
	hints *laneHints
}

// Open connects to the database named by rawURL ("sqlite:<path>",
// "mysql://user:pass@host:port/db", or a go-sql-driver DSN) and brings the
// schema up to date.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dialector, dsn, sqlite, err := dialectorFor(rawURL)
	if err != nil {
		return nil, err
	}
	g, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                now,
		TranslateError:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if sqlite {
		// One connection serialises writers, so SQLite never answers
		// "database is locked"; WAL keeps that one connection fast.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxLifetime(time.Hour)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	db := &DB{gorm: g}
	if err := db.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	stmts, err := prepareStatements(ctx, sqlDB)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if sqlite {
		var mode string
		if err := sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("read journal mode: %w", err)
		}
		if mode == "wal" { // not for an in-memory database
			var run checkpoints
			if o.checkpointProcess {
				run, err = startCheckpointProcess(thisProgram(), dsn)
			} else {
				run, err = newConnCheckpoints(ctx, dsn, sqlDB)
			}
			if err != nil {
				_ = sqlDB.Close()
				return nil, fmt.Errorf("open checkpointer: %w", err)
			}
			db.ckpt = startCheckpointer(run)
		}
		db.w = newWriter(sqlDB, stmts, 1, 0, true, db.ckpt)
	} else {
		db.w = newWriter(sqlDB, stmts, 4, writeTimeout, false, nil) // overlap round trips
		db.hints = new(laneHints)
	}
	return db, nil
}

// pragmaName is the name of a driver _pragma setting, "name(value)".
func pragmaName(setting string) string {
	name, _, _ := strings.Cut(setting, "(")
	return strings.TrimSpace(name)
}

// dialectorFor returns the gorm dialector for rawURL and, for SQLite, the
// driver's DSN.
func dialectorFor(rawURL string) (d gorm.Dialector, sqliteDSN string, isSQLite bool, err error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		path, params, _ := strings.Cut(path, "?")
		if path == "" {
			return nil, "", false, errors.New("DATABASE_URL: sqlite: needs a file path")
		}
		query, err := url.ParseQuery(params)
		if err != nil {
			return nil, "", false, fmt.Errorf("DATABASE_URL: %w", err)
		}
		// orderbell's settings, but for those the URL sets itself (the
		// driver runs pragmas sorted by their text, not in order).
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)",
			fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages), fmt.Sprintf("journal_size_limit(%d)", walFileLimit)} {
			if !slices.ContainsFunc(query["_pragma"], func(set string) bool { return strings.EqualFold(pragmaName(set), pragmaName(p)) }) {
				query.Add("_pragma", p)
			}
		}
		dsn := path + "?" + query.Encode()
		return sqlite.Open(dsn), dsn, true, nil
	case strings.HasPrefix(rawURL, "mysql://"):
		cfg, err := mysqlConfigFromURL(rawURL)
		if err != nil {
			return nil, "", false, err
		}
		return mysql.Open(cfg.FormatDSN()), "", false, nil
	default:
		cfg, err := mysqldriver.ParseDSN(rawURL)
		if err != nil {
			return nil, "", false, fmt.Errorf("DATABASE_URL: want sqlite:<path>, mysql://user:pass@host:port/db or a MySQL DSN: %w", err)
		}
		normalizeMySQL(cfg)
		return mysql.Open(cfg.FormatDSN()), "", false, nil
	}
}

func mysqlConfigFromURL(rawURL string) (*mysqldriver.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg := mysqldriver.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return nil, errors.New("DATABASE_URL: mysql:// needs a database name")
	}
	params := map[string]string{}
	for k, v := range u.Query() {
		params[k] = v[len(v)-1]
	}
	if len(params) > 0 {
		// Let the driver interpret the query exactly as it would in a DSN.
		withParams, err := mysqldriver.ParseDSN("/?" + u.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		withParams.User, withParams.Passwd, withParams.Net, withParams.Addr, withParams.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
		cfg = withParams
	}
	normalizeMySQL(cfg)
	return cfg, nil
}

// normalizeMySQL sets what orderbell relies on whatever the URL says: times
// as time.Time in UTC, full UTF-8 for Korean text and bounded timeouts so a
// database outage is answered with 503 rather than a hung request.
func normalizeMySQL(cfg *mysqldriver.Config) {
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["charset"]; !ok {
		cfg.Params["charset"] = "utf8mb4"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
}

func (db *DB) migrate(ctx context.Context) error {
	err := db.gorm.WithContext(ctx).AutoMigrate(
		&Client{}, &Owner{}, &Store{}, &Menu{}, &Order{}, &OrderItem{}, &Notification{},
	)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	// Earlier versions indexed notifications.created_at. No query looks
	// alerts up by it (each goes by recipient and id, and filters on
	// created_at among those), and it cost every alert a page written:
	// about 8% of the server's write calls per order on SQLite.
	m := db.gorm.WithContext(ctx).Migrator()
	if m.HasIndex(&Notification{}, unusedAlertIndex) {
		if err := m.DropIndex(&Notification{}, unusedAlertIndex); err != nil {
			return fmt.Errorf("migrate schema: drop %s: %w", unusedAlertIndex, err)
		}
	}
	return nil
}

// unusedAlertIndex is the index earlier versions kept on
// notifications.created_at; migrate drops it.
const unusedAlertIndex = "idx_notifications_created_at"

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// OnCommit sets f to be called with the order PlaceOrder or AcceptOrder
// changed, the alert it stored and the socket the change came from (the
// ctx's WithOrigin, or ""), once its transaction has committed, before
// PlaceOrder or AcceptOrder returns. It is called from the writer
// goroutine that committed the change; one account's alerts are all
// committed by the same writer goroutine, so f gets each account's alerts in
// the order of their ids. f must not block: it holds up the writer. A later
// call replaces f; nil removes it.
func (db *DB) OnCommit(f func(o Order, n Notification, origin string)) {
	if f == nil {
		db.w.committed.Store(nil)
		return
	}
	db.w.committed.Store(&f)
}

// Close lets changes already queued commit, then releases the connections.
func (db *DB) Close() error {
	db.w.close()
	if db.ckpt != nil {
		db.ckpt.close() // before the last connection, which checkpoints as it closes
	}
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// dbErr classifies an error from gorm: a lost or refused connection becomes
// ErrUnavailable; anything else is returned as it is.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var modelErr *Error
	if errors.As(err, &modelErr) {
		return err
	}
	var netErr net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldriver.ErrInvalidConn) ||
		errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}
