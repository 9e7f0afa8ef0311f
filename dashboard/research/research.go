// Package research runs researchers' own SQL over a locked-down copy of the
// store, for issue 5's research query.
//
// Design. A query never touches the live store. The Sandbox keeps, per tier,
// a snapshot: a DuckDB file of curated tables written from the store, rebuilt
// when the store's data version changes. Each query runs in a child process
// (the worker: `collate research-worker`) that opens the snapshot read-only
// with external access disabled, the configuration locked, and caps on
// DuckDB's memory and threads; the child also has an operating-system limit
// on its data segment, because some DuckDB functions (range, repeat, list
// builders) allocate outside memory_limit, and the parent kills it when the
// time limit has passed, because DuckDB only checks for interruption between
// pieces of work. A result stops at a row cap and a byte cap and says it was
// truncated. Only one statement, starting with SELECT or WITH and accepted by
// DuckDB's own serialiser of SELECT statements, is run; everything else is
// refused before a worker starts, and the engine refuses it again if it got
// through.
//
// Suppression. The tier decides what a query can see, so the results need no
// filtering afterwards: a researcher without the unsuppressed grant queries
// the published tier, which holds only reference tables (geography and the
// frames) and the already-suppressed aggregate tables that analytics
// publishes (Options.Published), so every input figure is already safe,
// secondary suppression included; a researcher with the grant queries the
// row-level tier of current reviews (without their bodies, file names or
// uploaders), episodes, factors, patterns and recommendations.
//
// The package must not import gin: the dashboard and the command line use it.
package research

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

// Tier is which snapshot a principal's queries run on.
type Tier string

// The tiers.
const (
	TierPublished Tier = "published" // reference tables and suppressed aggregates only
	TierRowLevel  Tier = "row_level" // current reviews and their coded rows
)

// TierFor returns the tier of p, or false when p may not run research SQL.
// National researchers and admins may; the unsuppressed grant opens the
// row-level tier.
func TierFor(p auth.Principal) (Tier, bool) {
	if !p.CanResearchQuery() {
		return "", false
	}
	if p.Unsuppressed {
		return TierRowLevel, true
	}
	return TierPublished, true
}

// Limits bound one query. Zero fields take the defaults.
type Limits struct {
	Timeout       time.Duration // statement time limit; default 10s
	MaxRows       int           // rows returned before truncation; default 10000
	MaxBytes      int           // result bytes (as JSON) before truncation; default 8 MiB
	MaxSQL        int           // longest accepted query text in bytes; default 20000
	MemoryLimit   string        // DuckDB memory_limit in the worker; default "256MB"
	Threads       int           // DuckDB threads in the worker; default 1
	ProcessMemory uint64        // the worker's data-segment limit in bytes; default 1 GiB
	Concurrent    int           // queries running at once; default 1
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MaxRows <= 0 {
		l.MaxRows = 10000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 8 << 20
	}
	if l.MaxSQL <= 0 {
		l.MaxSQL = 20000
	}
	if l.MemoryLimit == "" {
		l.MemoryLimit = "256MB"
	}
	if l.Threads <= 0 {
		l.Threads = 1
	}
	if l.ProcessMemory == 0 {
		l.ProcessMemory = 1 << 30
	}
	if l.Concurrent <= 0 {
		l.Concurrent = 1
	}
	return l
}

// Auditor records research queries; *auth.Store is one.
type Auditor interface {
	Audit(ctx context.Context, e auth.Entry) error
}

// Options configures a Sandbox.
type Options struct {
	Source *sql.DB // the migrated store
	Audit  Auditor // required: no query runs unaudited
	Logger *slog.Logger
	Limits Limits
	// Worker is the command line that starts a worker, which must call
	// ServeWorker: for collate, {os.Executable(), "research-worker"}.
	Worker []string
	// TempDir holds the snapshots; default os.TempDir(). Each snapshot gets
	// a private directory removed when it is replaced or the Sandbox closes.
	TempDir string
	// Published returns the suppressed aggregate tables for the published
	// tier. Nil means the tier holds the reference tables only.
	Published func(ctx context.Context) ([]Table, error)
	// Version identifies the store's data; a snapshot is rebuilt when it
	// changes. Nil means DataVersion.
	Version func(ctx context.Context) (string, error)
}

// Sandbox runs research queries. It is safe for concurrent use.
type Sandbox struct {
	opts    Options
	limits  Limits
	log     *slog.Logger
	running chan struct{}

	buildMu sync.Mutex // one snapshot build at a time
	mu      sync.Mutex // guards snaps and their reference counts
	snaps   map[Tier]*snapshot
	closed  bool
}

// New returns a Sandbox. It builds nothing until the first query.
func New(opts Options) (*Sandbox, error) {
	if opts.Source == nil {
		return nil, fmt.Errorf("research: no store")
	}
	if opts.Audit == nil {
		return nil, fmt.Errorf("research: no audit log; every research query must be audited")
	}
	if len(opts.Worker) == 0 {
		return nil, fmt.Errorf("research: no worker command")
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.Version == nil {
		src := opts.Source
		opts.Version = func(ctx context.Context) (string, error) { return DataVersion(ctx, src) }
	}
	s := &Sandbox{opts: opts, limits: opts.Limits.withDefaults(), log: opts.Logger, snaps: map[Tier]*snapshot{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.running = make(chan struct{}, s.limits.Concurrent)
	return s, nil
}

// Close removes the snapshots once the queries using them have finished.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for t, snap := range s.snaps {
		snap.retired = true
		if snap.refs == 0 {
			snap.remove()
		}
		delete(s.snaps, t)
	}
	return nil
}

// Column is one column of a result.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // DuckDB's type name
}

// Result is the answer to a query. Values are JSON-ready: numbers (as
// json.Number), strings, booleans, nil, lists and objects; times are RFC 3339
// strings.
type Result struct {
	Columns     []Column `json:"columns"`
	Rows        [][]any  `json:"rows"`
	Truncated   bool     `json:"truncated"` // stopped at MaxRows or MaxBytes
	RowCap      int      `json:"row_cap"`
	Tier        Tier     `json:"tier"`
	DataVersion string   `json:"data_version"`
}

// Query runs one research query as p and audits it, whatever the outcome.
func (s *Sandbox) Query(ctx context.Context, p auth.Principal, query string) (*Result, error) {
	ctx = auth.WithPrincipal(ctx, p)
	tier, ok := TierFor(p)
	entry := auth.Entry{Action: auth.ActionResearchQuery, Target: string(tier), Detail: map[string]any{"sql": clip(query, 4000)}}
	if !ok {
		entry.Outcome, entry.Target = auth.OutcomeDenied, "none"
		if err := s.opts.Audit.Audit(ctx, entry); err != nil {
			return nil, err
		}
		return nil, errs.E(errs.Forbidden, "research queries are for national researchers")
	}
	res, err := s.query(ctx, tier, query)
	switch {
	case err == nil:
		entry.Detail["rows"], entry.Detail["truncated"], entry.Detail["data_version"] = len(res.Rows), res.Truncated, res.DataVersion
	case errs.KindOf(err) == errs.Invalid:
		entry.Outcome, entry.Detail["error"] = auth.OutcomeDenied, errs.Message(err)
	default:
		entry.Outcome, entry.Detail["error"] = auth.OutcomeFailed, errs.Message(err)
	}
	if aerr := s.opts.Audit.Audit(ctx, entry); aerr != nil {
		return nil, aerr
	}
	return res, err
}

func (s *Sandbox) query(ctx context.Context, tier Tier, query string) (*Result, error) {
	if err := checkText(query, s.limits.MaxSQL); err != nil {
		return nil, err
	}
	select {
	case s.running <- struct{}{}:
		defer func() { <-s.running }()
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "research queries are busy; try again")
	}
	snap, err := s.acquire(ctx, tier)
	if err != nil {
		return nil, err
	}
	defer s.release(snap)
	res, err := s.run(ctx, snap, query)
	if err != nil {
		return nil, err
	}
	res.Tier, res.DataVersion, res.RowCap = tier, snap.version, s.limits.MaxRows
	return res, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
