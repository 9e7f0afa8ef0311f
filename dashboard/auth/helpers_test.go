package auth_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest"
)

// cheap keeps tests quick; TestPasswordHashing checks the default parameters.
var cheap = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// clock is a settable clock for expiry and back-off tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustDB opens a migrated DuckDB file in a temporary directory.
func mustDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// mustStore returns a store over a fresh database with a settable clock.
func mustStore(t *testing.T) (*auth.Store, *clock, *sql.DB) {
	t.Helper()
	db := mustDB(t)
	c := newClock()
	return auth.New(auth.Options{DB: db, Now: c.Now, Argon2: cheap}), c, db
}

// cli is the context of the collate command line.
func cli() context.Context { return auth.WithPrincipal(context.Background(), auth.CLI("tester")) }

const pw = "correct horse battery staple"

func mustUser(t *testing.T, s *auth.Store, name string, scope auth.Scope) auth.User {
	t.Helper()
	u, err := s.AddUser(cli(), auth.NewUser{Username: name, Password: pw, Scope: scope})
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	return u
}

func mustLogin(t *testing.T, s *auth.Store, name string) auth.NewSession {
	t.Helper()
	ns, err := s.Login(context.Background(), name, pw, "127.0.0.1")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return ns
}

// auditActions lists the actions and outcomes in the audit log, oldest first.
func auditLog(t *testing.T, s *auth.Store, f auth.AuditFilter) []auth.Entry {
	t.Helper()
	es, err := s.AuditLog(cli(), f)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}
