package analytics

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// Disclosure-control defaults.
const (
	DefaultK = 6 // minimum distinct reviews behind a published figure
	MinK     = 3 // the policy may raise k but never set it below this
)

// SuppressionPolicy is the disclosure control applied to every figure a
// viewer is not entitled to see in full.
type SuppressionPolicy struct {
	// K is the minimum number of distinct reviews behind a published figure
	// in any view wider than the viewer's own scope. 0 means DefaultK; values
	// below MinK are refused.
	K int `json:"k"`
	// RoundTotals, when above 1, rounds the published totals of regional,
	// national and UK collections (reviews received, reviews coded, episodes)
	// to the nearest multiple of it. Shares are still computed exactly.
	RoundTotals int `json:"round_totals,omitempty"`
}

// Options configures a Store.
type Options struct {
	DB        *sql.DB
	Logger    *slog.Logger
	Policy    SuppressionPolicy
	Now       func() time.Time   // defaults to time.Now
	Geography *schemas.Geography // defaults to the embedded geography
	// WritesAnnounced promises that every write to the store is followed by
	// a call to Changed, as the dashboard's uploads are. The data version is
	// then read from the store only after a change, or once it is a second
	// old, rather than for every view.
	WritesAnnounced bool
	// NoReadMemo turns off the memo of aggregate reads (readMemo), so that
	// every view reads DuckDB: for benchmarks of a view's own cost.
	NoReadMemo bool
}

// Store answers analytics queries over one DuckDB store. It is safe for
// concurrent use; every query runs on the shared *sql.DB with the caller's
// context, so cancelling the context interrupts the query.
type Store struct {
	db    *stmtDB
	reads *readMemo
	// version keeps the data version when writes are announced.
	version *versionMemo
	log     *slog.Logger
	policy  SuppressionPolicy
	now     func() time.Time
	geo     *geoIndex
	frames  *frameCache
}

// New returns a Store over a migrated database.
func New(opts Options) (*Store, error) {
	if opts.DB == nil {
		return nil, errors.New("analytics: no database")
	}
	p := opts.Policy
	if p.K == 0 {
		p.K = DefaultK
	}
	if p.K < MinK {
		return nil, fmt.Errorf("analytics: suppression k = %d; k may be raised but never set below %d", p.K, MinK)
	}
	if p.RoundTotals < 0 {
		return nil, fmt.Errorf("analytics: rounding base %d; give 0 (off) or a positive base", p.RoundTotals)
	}
	s := &Store{db: newStmtDB(opts.DB), reads: newReadMemo(maxMemoValues), log: opts.Logger, policy: p, now: opts.Now}
	if opts.NoReadMemo {
		s.reads = newReadMemo(0)
	}
	if opts.WritesAnnounced {
		s.version = &versionMemo{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	g := opts.Geography
	if g == nil {
		g = schemas.LoadGeography()
	}
	s.geo = newGeoIndex(g)
	s.frames = newFrameCache()
	return s, nil
}

// Policy returns the suppression policy in force.
func (s *Store) Policy() SuppressionPolicy { return s.policy }

// dataVersion identifies the state of the reviews: it changes whenever a
// review is added, superseded or withdrawn.
func (s *Store) dataVersion(ctx context.Context) (string, int, error) {
	if s.version == nil {
		return s.readDataVersion(ctx)
	}
	now := time.Now()
	gen, dv, n, ok := s.version.get(now)
	if ok {
		return dv, n, nil
	}
	dv, n, err := s.readDataVersion(ctx)
	if err == nil {
		s.version.put(gen, dv, n, now)
	}
	return dv, n, err
}

// Changed tells the store that its data may have changed: the next view
// reads the data version afresh. With Options.WritesAnnounced it must be
// called after every write; otherwise it does nothing.
func (s *Store) Changed() {
	if s.version != nil {
		s.version.forget()
	}
}

// maxVersionAge bounds how long an announced data version is kept.
const maxVersionAge = time.Second

// versionMemo keeps the data version between announced writes.
type versionMemo struct {
	mu      sync.Mutex
	gen     uint64 // bumped by forget
	version string
	n       int
	at      time.Time
}

// get returns the memo's generation, and the version kept if it is fresh.
func (m *versionMemo) get(now time.Time) (uint64, string, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fresh := m.version != "" && now.Sub(m.at) < maxVersionAge && !now.Before(m.at)
	return m.gen, m.version, m.n, fresh
}

// put keeps a version read at generation gen, unless a change was
// announced meanwhile.
func (m *versionMemo) put(gen uint64, version string, n int, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen == m.gen {
		m.version, m.n, m.at = version, n, at
	}
}

func (m *versionMemo) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.version = ""
}

// readDataVersion reads the data version from the store.
func (s *Store) readDataVersion(ctx context.Context) (string, int, error) {
	var n, current, withdrawn int64
	var maxKey sql.NullInt64
	var maxAt, maxW sql.NullTime
	err := s.db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM reviews),
		       (SELECT count(*) FROM reviews WHERE status = 'current'),
		       (SELECT max(review_key) FROM reviews),
		       (SELECT max(ingested_at) FROM reviews),
		       (SELECT count(*) FROM withdrawals),
		       (SELECT max(withdrawn_at) FROM withdrawals)`).Scan(&n, &current, &maxKey, &maxAt, &withdrawn, &maxW)
	if err != nil {
		return "", 0, wrapDB(ctx, err, "read data version")
	}
	at := int64(0)
	if maxAt.Valid {
		at = maxAt.Time.UnixMicro()
	}
	w := int64(0)
	if maxW.Valid {
		w = maxW.Time.UnixMicro()
	}
	s.db.replan(int(current))
	return fmt.Sprintf("r%d-c%d-k%d-t%x-w%d-%x", n, current, maxKey.Int64, at, withdrawn, w), int(current), nil
}

// wrapDB classifies a database error: a cancelled context is Unavailable,
// anything else Internal with the detail kept for logs.
func wrapDB(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return errs.Wrap(errs.Unavailable, err, "%s: the request was cancelled", what)
	}
	return errs.Wrap(errs.Internal, err, "%s", what)
}

// stmtDB is the store's database handle with its read statements kept
// prepared. DuckDB spends longer planning an aggregate read than running it
// on a small store (a data-version read: 1.8 ms planned afresh, 0.25 ms
// prepared), so statements are prepared once per text and reused; the
// arguments are bound as before, so plans and results are those of a
// one-off query with the same text. Plans are made for the data at the time:
// they are dropped and made again whenever the number of reviews has doubled
// (see replan).
type stmtDB struct {
	*sql.DB
	max int

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // of *stmtEntry, front is most recent
	planned int        // reviews when the statements were prepared
}

type stmtEntry struct {
	text    string
	st      *sql.Stmt
	users   int  // callers between acquire and release; under stmtDB.mu
	dropped bool // out of the cache: closed when the last user releases it
}

// maxStmts bounds the prepared statements kept (each is prepared again on
// every connection that runs it).
const maxStmts = 512

func newStmtDB(db *sql.DB) *stmtDB {
	return &stmtDB{DB: db, max: maxStmts, entries: map[string]*list.Element{}, lru: list.New(), planned: -1}
}

// acquire returns the statement for text, preparing it on first use, and
// holds it open until release; nil when it cannot be prepared (the caller
// runs the text as a one-off query, which reports the same error).
func (d *stmtDB) acquire(ctx context.Context, text string) *stmtEntry {
	d.mu.Lock()
	if el, ok := d.entries[text]; ok {
		d.lru.MoveToFront(el)
		e := el.Value.(*stmtEntry)
		e.users++
		d.mu.Unlock()
		return e
	}
	d.mu.Unlock()
	st, err := d.DB.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[text]; ok { // prepared meanwhile by another caller
		st.Close()
		d.lru.MoveToFront(el)
		e := el.Value.(*stmtEntry)
		e.users++
		return e
	}
	e := &stmtEntry{text: text, st: st, users: 1}
	d.entries[text] = d.lru.PushFront(e)
	for d.lru.Len() > d.max {
		d.drop(d.lru.Back())
	}
	return e
}

// release ends a use of e; rows already returned by it stay readable.
func (d *stmtDB) release(e *stmtEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e.users--
	if e.dropped && e.users == 0 {
		e.st.Close()
	}
}

// drop takes a statement out of the cache, closing it unless in use; d.mu
// is held.
func (d *stmtDB) drop(el *list.Element) {
	e := el.Value.(*stmtEntry)
	d.lru.Remove(el)
	delete(d.entries, e.text)
	e.dropped = true
	if e.users == 0 {
		e.st.Close()
	}
}

// QueryContext runs a read through its prepared statement.
func (d *stmtDB) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	e := d.acquire(ctx, text)
	if e == nil {
		return d.DB.QueryContext(ctx, text, args...)
	}
	defer d.release(e)
	return e.st.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row read through its prepared statement.
func (d *stmtDB) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	e := d.acquire(ctx, text)
	if e == nil {
		return d.DB.QueryRowContext(ctx, text, args...)
	}
	defer d.release(e)
	return e.st.QueryRowContext(ctx, args...)
}

// replan drops every prepared statement when the store holds twice as many
// reviews as when they were prepared (or half as many), so plans follow the
// size of the data.
func (d *stmtDB) replan(reviews int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.planned >= 0 && reviews <= 2*d.planned+100 && 2*reviews+100 >= d.planned {
		return
	}
	d.planned = reviews
	for d.lru.Len() > 0 {
		d.drop(d.lru.Back())
	}
}

// readMemo keeps the rows of recent aggregate reads for the data version
// they were read at. The views of one collection read the same totals and
// node aggregates again for every view, page and viewer; with the memo only
// the first reads DuckDB until the data changes. A read is looked up under
// the data version its view resolved before reading, and any statement run
// after that sees at least that version, so the memo never answers with
// data older than the version a result carries (a view whose reads straddle
// a commit may, as without the memo, mix two versions).
type readMemo struct {
	max int // values kept in all, before the memo starts afresh

	mu      sync.Mutex
	version string
	rows    map[string][]readRow
	values  int
}

// readRow is one row of an aggregate read: a place, a key (the key columns
// joined by '|'), a year when read by year, and the values.
type readRow struct {
	place, key string
	year       int
	vals       []int64
}

// maxMemoValues bounds the memo at about 64 MiB of values.
const maxMemoValues = 8 << 20

func newReadMemo(max int) *readMemo {
	return &readMemo{max: max, rows: map[string][]readRow{}}
}

// memoKey joins a statement and its arguments, each written out so that no two
// argument lists give the same key (Go syntax, as %#v writes it).
func memoKey(stmt string, args []any) string { return stmt + "\x00" + fmt.Sprintf("%#v", args) }

func (m *readMemo) get(version, stmt string, args []any) ([]readRow, bool) {
	if version == "" || m.max == 0 {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if version != m.version {
		return nil, false
	}
	r, ok := m.rows[memoKey(stmt, args)]
	return r, ok
}

func (m *readMemo) put(version, stmt string, args []any, rows []readRow) {
	if version == "" || m.max == 0 {
		return
	}
	n := 0
	for _, r := range rows {
		n += len(r.vals)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if version != m.version || m.values+n > m.max {
		m.version, m.rows, m.values = version, map[string][]readRow{}, 0
	}
	if n > m.max {
		return
	}
	m.rows[memoKey(stmt, args)] = rows
	m.values += n
}
