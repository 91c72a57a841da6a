// Package dbtest gives tests a fresh, migrated orderbell database on each
// engine orderbell supports: an SQLite file always, and a new MariaDB /
// MySQL database when ORDERBELL_TEST_MYSQL names a server
// (mysql://root@127.0.0.1:3306/test). Each database is dropped afterwards.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/go-sql-driver/mysql" // for CREATE / DROP DATABASE

	"github.com/orderbell/orderbell/models"
)

// MySQLEnv names the server the MariaDB variant of each test uses.
const MySQLEnv = "ORDERBELL_TEST_MYSQL"

// Engine is one database engine a test runs on.
type Engine struct {
	Name string
	// URL opens a new, empty database on this engine and returns its
	// DATABASE_URL; the database is removed when the test ends.
	URL func(t testing.TB) string
}

// Engines lists SQLite, and MariaDB when configured.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", URL: sqliteURL}}
	if base := os.Getenv(MySQLEnv); base != "" {
		engines = append(engines, Engine{Name: "mysql", URL: func(t testing.TB) string { return mysqlURL(t, base) }})
	} else {
		t.Logf("%s is not set: MariaDB variants are skipped", MySQLEnv)
	}
	return engines
}

// Each runs fn as a subtest on a fresh database of every engine.
func Each(t *testing.T, fn func(t *testing.T, db *models.DB)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, Open(t, e.URL(t))) })
	}
}

// Open opens and migrates the database at url, closing it at the end.
func Open(t testing.TB, url string) *models.DB {
	t.Helper()
	db, err := models.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func sqliteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "orderbell.db")
}

func mysqlURL(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	password, _ := u.User.Password()
	admin, err := sql.Open("mysql", u.User.Username()+":"+password+"@tcp("+u.Host+")/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "orderbell_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database on %s (is MariaDB running?): %v", u.Host, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
