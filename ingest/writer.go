package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest/errs"
)

// Writer owns every write of reviews to the store. DuckDB has one writer at a
// time, so the Writer serialises batches; each review in a batch is stored whole
// or not at all.
type Writer struct {
	db  *sql.DB
	log *slog.Logger
	now func() time.Time
	mu  sync.Mutex // held while writing
	// queue holds the Write calls waiting for the writer; whichever takes
	// the writer next stores them all in one transaction (group commit).
	queueMu sync.Mutex
	queue   []*pendingWrite
	// compactAt is the aggregate row count past which the next write folds
	// the aggregates together; it doubles each time, so compaction costs
	// stay linear in what is stored.
	compactAt       int64
	deferCompaction bool
	bulk            bool
	// rest and rested pace the writer (WriterOptions.Rest): the next
	// transaction starts no sooner than rested.
	rest   float64
	rested time.Time
	// folded says every aggregate row is known to be folded and in order
	// (after Compact, or a bulk load counted into empty aggregates), so
	// Compact has nothing to do. Any other change to the aggregates clears it.
	folded bool
}

// minCompactRows keeps small stores from compacting on every write.
const minCompactRows = 200_000

// maybeCompact folds the aggregates when incremental additions have doubled them.
func (w *Writer) maybeCompact(ctx context.Context, conn *sql.Conn) error {
	rows, err := aggRows(ctx, conn)
	if err != nil {
		return err
	}
	if w.compactAt == 0 {
		w.compactAt = max(2*rows, minCompactRows)
	}
	if rows <= w.compactAt {
		return nil
	}
	if err := compactAggregates(ctx, conn); err != nil {
		return err
	}
	after, err := aggRows(ctx, conn)
	if err != nil {
		return err
	}
	w.compactAt = max(2*after, minCompactRows)
	return nil
}

// Compact folds the aggregates together now; the ingest command calls it at
// the end of a large load.
func (w *Writer) Compact(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.folded {
		return nil
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer conn.Close()
	if err := inTx(ctx, conn, func() error { return compactAggregates(ctx, conn) }); err != nil {
		return err
	}
	rows, err := aggRows(ctx, conn)
	if err != nil {
		return err
	}
	w.compactAt = max(2*rows, minCompactRows)
	w.folded = true
	return nil
}

// WriterOptions configures a Writer.
type WriterOptions struct {
	DB     *sql.DB
	Logger *slog.Logger
	Now    func() time.Time // defaults to time.Now
	// DeferCompaction leaves folding the aggregates to an explicit Compact,
	// for bulk loads that call it once at the end. The figures are the same
	// either way; only read speed differs until Compact runs.
	DeferCompaction bool
	// Bulk stores new reviews with status 'loading', which nothing counts
	// or shows, and leaves adding them to the aggregates to Finish, which
	// does it for the whole load in one set-based pass and marks them
	// current in the same transaction. A changed export of a review that is
	// already current still supersedes it at once. If the process stops
	// before Finish, FinishLoading (run when the store is next opened for
	// writing) completes the load, so every acknowledged review counts.
	Bulk bool
	// Rest, when above zero, rests the writer after each transaction for
	// Rest times as long as the transaction took before it starts the next.
	// Under a stream of uploads the writer then keeps at most 1/(1+Rest) of
	// a core busy, leaving the rest to readers, and the uploads that arrive
	// while it rests are stored together in the next transaction, sharing
	// its cost. Nothing waits when the writer was idle. A rest is at most
	// maxRest.
	Rest float64
}

// maxRest bounds one rest of the writer.
const maxRest = 2 * time.Second

// NewWriter returns a Writer over a migrated store.
func NewWriter(opts WriterOptions) *Writer {
	w := &Writer{db: opts.DB, log: opts.Logger, now: opts.Now, deferCompaction: opts.DeferCompaction, bulk: opts.Bulk, rest: opts.Rest}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}

// Item is one validated export ready to store.
type Item struct {
	Export *Export
	Source string // file name as given by the uploader
	Format string // json, xlsx or import
	By     string // who uploaded it
}

// Outcome says what storing an export did.
type Outcome string

// Outcomes of Write.
const (
	Added      Outcome = "added"
	Unchanged  Outcome = "unchanged"
	Superseded Outcome = "superseded"
	Rejected   Outcome = "rejected"
)

// Receipt is the answer for one stored export.
type Receipt struct {
	Source   string  `json:"source"`
	ReviewID string  `json:"review_id"`
	Version  int     `json:"version"`
	SHA256   string  `json:"content_sha256"`
	Outcome  Outcome `json:"outcome"`
	Err      error   `json:"-"`
}

// Canonical returns the export as stored: compact JSON in field order, and its
// SHA-256. Two files with the same content have the same hash whatever their
// layout or format.
func Canonical(e *Export) ([]byte, string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", fmt.Errorf("canonical json: %w", err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// pendingWrite is one Write call waiting in the queue.
type pendingWrite struct {
	ctx   context.Context
	items []Item
	done  chan writeResult // buffered: the writer never waits for the caller
}

type writeResult struct {
	receipts []Receipt
	err      error
}

// Write stores a batch of validated exports in one transaction. If the batch
// fails as a whole it is retried one review per transaction, so one bad review
// never takes good ones with it. A per-review refusal (a conflict) is reported
// in that review's receipt; the returned error is for the store failing.
//
// Calls that arrive while another is being written wait, and the next of
// them to take the writer stores all that are waiting in one transaction:
// several uploads at once then share the cost of keeping the aggregates, and
// each call still returns only when its own reviews are committed.
func (w *Writer) Write(ctx context.Context, items []Item) ([]Receipt, error) {
	p := &pendingWrite{ctx: ctx, items: items, done: make(chan writeResult, 1)}
	w.queueMu.Lock()
	w.queue = append(w.queue, p)
	w.queueMu.Unlock()

	w.mu.Lock()
	select {
	case r := <-p.done: // written by the call that held the writer before
		w.mu.Unlock()
		return r.receipts, r.err
	default:
	}
	if wait := time.Until(w.rested); wait > 0 {
		time.Sleep(wait) // the queue grows meanwhile; it is all written below
	}
	w.queueMu.Lock()
	group := w.queue
	w.queue = nil
	w.queueMu.Unlock()
	w.writeGroup(ctx, group)
	w.mu.Unlock()
	r := <-p.done
	return r.receipts, r.err
}

// writeGroup stores the queued calls together and answers each. Calls whose
// context has ended are answered with its error and not written; the rest
// are written to the end even if the caller who took the writer goes away.
func (w *Writer) writeGroup(ctx context.Context, group []*pendingWrite) {
	var items []Item
	var live []*pendingWrite
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.done <- writeResult{err: err}
			continue
		}
		live = append(live, p)
		items = append(items, p.items...)
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	receipts, err := w.write(context.WithoutCancel(ctx), items)
	if w.rest > 0 {
		w.rested = time.Now().Add(min(time.Duration(w.rest*float64(time.Since(start))), maxRest))
	}
	for _, p := range live {
		if err != nil {
			p.done <- writeResult{err: err}
			continue
		}
		p.done <- writeResult{receipts: receipts[:len(p.items):len(p.items)]}
		receipts = receipts[len(p.items):]
	}
}

// write stores items, the writer held.
func (w *Writer) write(ctx context.Context, items []Item) ([]Receipt, error) {
	start := time.Now()
	receipts, err := w.writeBatch(ctx, items)
	if err != nil && len(items) > 1 && ctx.Err() == nil {
		w.log.Warn("ingest batch failed; retrying one review at a time", "reviews", len(items), "error", err)
		receipts = make([]Receipt, 0, len(items))
		err = nil
		for _, it := range items {
			rs, ierr := w.writeBatch(ctx, []Item{it})
			if ierr != nil {
				if ctx.Err() != nil {
					return receipts, ctx.Err()
				}
				rs = []Receipt{{Source: it.Source, ReviewID: it.Export.Review.ID, Outcome: Rejected,
					Err: errs.Wrap(errs.Internal, ierr, "review %s could not be stored", it.Export.Review.ID)}}
			}
			receipts = append(receipts, rs...)
		}
	}
	if err != nil {
		return nil, err
	}
	counts := map[Outcome]int{}
	for _, r := range receipts {
		counts[r.Outcome]++
	}
	w.log.Info("ingest batch", "reviews", len(items), "added", counts[Added], "superseded", counts[Superseded],
		"unchanged", counts[Unchanged], "rejected", counts[Rejected], "elapsed_ms", time.Since(start).Milliseconds())
	return receipts, nil
}

type existing struct {
	key        int64
	version    int
	status     string
	board      string
	sha        string
	region     string
	year       int
	kind       string
	maxVersion int
	inBatch    bool // stored by the batch being written, so not yet in any aggregate
}

// Partition is a slice of the store that aggregates are kept for: every review
// has exactly one board, one year and one kind.
type Partition struct {
	Board string
	Year  int
	Kind  string
}

func (w *Writer) writeBatch(ctx context.Context, items []Item) ([]Receipt, error) {
	canon, err := canonicalAll(items)
	if err != nil {
		return nil, err
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("ingest: connect: %w", err)
	}
	defer conn.Close()
	var receipts []Receipt
	err = inTx(ctx, conn, func() error {
		receipts = nil
		ids := make([]string, 0, len(items))
		for _, it := range items {
			ids = append(ids, it.Export.Review.ID)
		}
		state, err := latestVersions(ctx, conn, ids)
		if err != nil {
			return err
		}
		var nextKey int64
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(review_key), 0) + 1 FROM reviews`).Scan(&nextKey); err != nil {
			return fmt.Errorf("ingest: next key: %w", err)
		}
		var toStore []stored
		var supersede []int64
		removedParts := map[Partition]bool{}
		now := w.now().UTC()
		for i, it := range items {
			body, sha := canon[i].body, canon[i].sha
			rv := it.Export.Review
			r := Receipt{Source: it.Source, ReviewID: rv.ID, SHA256: sha}
			prev, seen := state[rv.ID]
			switch {
			case seen && prev.status == "withdrawn":
				r.Outcome = Rejected
				r.Version = prev.version
				r.Err = errs.E(errs.Conflict, "review %s was withdrawn; a withdrawn review cannot be uploaded again under the same ID", rv.ID)
			case seen && prev.board != rv.Board:
				r.Outcome = Rejected
				r.Err = errs.E(errs.Conflict, "review ID %s is already used by board %s; review IDs are unique across Collate", rv.ID, prev.board)
			case seen && prev.sha == sha:
				r.Outcome = Unchanged
				r.Version = prev.version
			default:
				r.Outcome = Added
				version := 1
				if seen {
					r.Outcome = Superseded
					version = prev.maxVersion + 1
					if prev.key > 0 {
						supersede = append(supersede, prev.key)
						if !prev.inBatch && prev.status != statusLoading {
							removedParts[Partition{prev.board, prev.year, prev.kind}] = true
						}
					}
				}
				r.Version = version
				// In a bulk load a review that nothing counts yet is stored
				// as loading; one that replaces a counted version is stored
				// as current at once, so the figures never lose it.
				status := "current"
				if w.bulk && (!seen || prev.key == 0 || prev.status == statusLoading) {
					status = statusLoading
				}
				toStore = append(toStore, stored{key: nextKey, version: version, status: status, item: it, body: body, sha: sha, at: now})
				state[rv.ID] = existing{key: nextKey, version: version, status: status, board: rv.Board, sha: sha,
					year: rv.Completed.Year, kind: rv.Kind, maxVersion: version, inBatch: true}
				nextKey++
			}
			receipts = append(receipts, r)
		}
		// A review superseded inside this same batch never reached the table as current.
		within := supersededWithin(toStore, supersede)
		if err := appendAll(conn, toStore, within); err != nil {
			return fmt.Errorf("ingest: append: %w", err)
		}
		for _, key := range supersede {
			if _, err := conn.ExecContext(ctx, `UPDATE reviews SET status = 'superseded' WHERE review_key = ?`, key); err != nil {
				return fmt.Errorf("ingest: supersede: %w", err)
			}
		}
		// Partitions that lose a review are recomputed whole; new reviews
		// elsewhere only add their own contribution.
		var added []int64
		for _, st := range toStore {
			rv := st.item.Export.Review
			if st.status == "current" && !within[st.key] && !removedParts[Partition{rv.Board, rv.Completed.Year, rv.Kind}] {
				added = append(added, st.key)
			}
		}
		if len(removedParts) > 0 || len(added) > 0 {
			w.folded = false
		}
		if err := refreshAggregates(ctx, conn, partitionList(removedParts)); err != nil {
			return err
		}
		if err := addAggregates(ctx, conn, added); err != nil {
			return err
		}
		if w.deferCompaction {
			return nil
		}
		return w.maybeCompact(ctx, conn)
	})
	if err != nil {
		return nil, err
	}
	return receipts, nil
}

// canonicalForm is an item's canonical JSON and its SHA-256.
type canonicalForm struct {
	body []byte
	sha  string
}

// canonicalAll computes every item's canonical form on every CPU before the
// writer opens its transaction: the writer is the one serial step of a bulk
// load, so work that needs no store is kept off it.
func canonicalAll(items []Item) ([]canonicalForm, error) {
	out := make([]canonicalForm, len(items))
	failed := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), len(items))
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := k; i < len(items); i += workers {
				out[i].body, out[i].sha, failed[i] = Canonical(items[i].Export)
			}
		})
	}
	wg.Wait()
	for _, err := range failed {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// supersededWithin lists keys stored by this batch that a later item of the
// same batch supersedes, so they are appended as superseded straight away.
func supersededWithin(toStore []stored, supersede []int64) map[int64]bool {
	inBatch := map[int64]bool{}
	for _, s := range toStore {
		inBatch[s.key] = true
	}
	out := map[int64]bool{}
	for _, k := range supersede {
		if inBatch[k] {
			out[k] = true
		}
	}
	return out
}

func partitionList(m map[Partition]bool) []Partition {
	out := make([]Partition, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	return out
}

func latestVersions(ctx context.Context, conn *sql.Conn, ids []string) (map[string]existing, error) {
	out := map[string]existing{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := conn.QueryContext(ctx, `
		SELECT review_id, review_key, version, status, board, content_sha256, year, kind,
		       max(version) OVER (PARTITION BY review_id) AS max_version
		FROM reviews
		WHERE review_id IN (SELECT unnest(?::VARCHAR[]))
		QUALIFY row_number() OVER (PARTITION BY review_id
		        ORDER BY (status <> 'superseded') DESC, version DESC) = 1`, ids)
	if err != nil {
		return nil, fmt.Errorf("ingest: look up reviews: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e existing
		if err := rows.Scan(&id, &e.key, &e.version, &e.status, &e.board, &e.sha, &e.year, &e.kind, &e.maxVersion); err != nil {
			return nil, err
		}
		if e.status == "superseded" {
			// Every version superseded: nothing counts, but versions go on.
			e.key = 0
		}
		out[id] = e
	}
	return out, rows.Err()
}

type stored struct {
	key     int64
	version int
	status  string // current or loading
	item    Item
	body    []byte
	sha     string
	at      time.Time
}

// appendAll writes the rows of every stored review with one appender per
// table. Appenders are closed before the caller commits.
func appendAll(conn *sql.Conn, batch []stored, alreadySuperseded map[int64]bool) error {
	if len(batch) == 0 {
		return nil
	}
	return conn.Raw(func(dc any) (err error) {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("not a duckdb connection")
		}
		tables := []string{"reviews", "episodes", "episode_factors", "patterns", "recommendations"}
		apps := map[string]*duckdb.Appender{}
		defer func() {
			for _, t := range tables {
				if a := apps[t]; a != nil {
					if cerr := a.Close(); cerr != nil && err == nil {
						err = fmt.Errorf("close appender %s: %w", t, cerr)
					}
				}
			}
		}()
		for _, t := range tables {
			a, err := duckdb.NewAppenderFromConn(c, "", t)
			if err != nil {
				return fmt.Errorf("appender %s: %w", t, err)
			}
			apps[t] = a
		}
		for _, s := range batch {
			status := s.status
			if alreadySuperseded[s.key] {
				status = "superseded"
			}
			if err := appendReview(apps, s, status); err != nil {
				return fmt.Errorf("review %s: %w", s.item.Export.Review.ID, err)
			}
		}
		return nil
	})
}

func appendReview(apps map[string]*duckdb.Appender, s stored, status string) error {
	e := s.item.Export
	rv := e.Review
	stages := rv.DialogueStages
	if stages == nil {
		stages = &DialogueStage{}
	}
	participants := make([]map[string]any, 0, len(rv.Participants))
	for _, p := range rv.Participants {
		participants = append(participants, map[string]any{"role": p.Role, "agency": p.Agency})
	}
	var month, agreeMeasure, agreeValue any
	if rv.Completed.Month != nil {
		month = int32(*rv.Completed.Month)
	}
	if a := rv.Coding.SecondCoderAgreement; a != nil {
		agreeMeasure, agreeValue = a.Measure, a.Value
	}
	by := s.item.By
	if by == "" {
		by = "cli"
	}
	format := s.item.Format
	if format == "" {
		format = "json"
	}
	if err := apps["reviews"].AppendRow(
		s.key, rv.ID, int32(s.version), status, rv.Board, rv.Region, rv.Nation, rv.Kind,
		int32(rv.Completed.Year), month, nonNil(rv.Questions), nonNil(rv.Agencies), participants,
		orNotRecorded(rv.FamilyParticipation),
		orNotRecorded(stages.Preliminary), orNotRecorded(stages.Interim), orNotRecorded(stages.Final),
		rv.Frame.ID, rv.Frame.Version, rv.Coding.CoderRole, rv.Coding.Method, agreeMeasure, agreeValue,
		int32(len(e.Episodes)), int32(len(e.Patterns)), int32(len(e.Recommendations)),
		s.sha, s.item.Source, format, by, s.at, string(s.body),
	); err != nil {
		return err
	}
	for _, ep := range e.Episodes {
		evidence := make([]map[string]any, 0, len(ep.Evidence))
		for _, ev := range ep.Evidence {
			evidence = append(evidence, map[string]any{"kind": ev.Kind, "note": nullable(ev.Note)})
		}
		if err := apps["episodes"].AppendRow(s.key, int32(ep.Number), ep.Title, ep.Description,
			nullable(ep.Significance), ep.Adequacy, nonNil(ep.Agencies), evidence); err != nil {
			return fmt.Errorf("episode %d: %w", ep.Number, err)
		}
		for i, f := range ep.Factors {
			if err := apps["episode_factors"].AppendRow(s.key, int32(ep.Number), int32(i+1), f.Code,
				nullable(f.Detail), f.Influence); err != nil {
				return fmt.Errorf("episode %d factor %d: %w", ep.Number, i+1, err)
			}
		}
	}
	for _, p := range e.Patterns {
		var priority any
		if p.Priority != nil {
			priority = int32(*p.Priority)
		}
		if err := apps["patterns"].AppendRow(s.key, int32(p.Number), p.Type, nullable(p.SubPattern),
			nullable(p.ProposedSubPattern), p.Nature, priority, orNotRecorded(p.Widespread),
			orNotRecorded(p.Relevance), nullable(p.Summary), ints32(p.Episodes)); err != nil {
			return fmt.Errorf("pattern %d: %w", p.Number, err)
		}
	}
	for _, r := range e.Recommendations {
		if err := apps["recommendations"].AppendRow(s.key, int32(r.Number), int32(r.Kind), r.Level, r.Text,
			ints32(r.Patterns)); err != nil {
			return fmt.Errorf("recommendation %d: %w", r.Number, err)
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orNotRecorded(s string) string {
	if s == "" {
		return NotRecorded
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ints32(xs []int) []int32 {
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

// Withdraw removes a review from every count and records why. The review's
// versions stay in the store as history.
func (w *Writer) Withdraw(ctx context.Context, reviewID, reason, by string) error {
	if reason == "" {
		return errs.E(errs.Invalid, "a reason is required to withdraw review %s", reviewID)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("withdraw %s: %w", reviewID, err)
	}
	defer conn.Close()
	err = inTx(ctx, conn, func() error {
		state, err := latestVersions(ctx, conn, []string{reviewID})
		if err != nil {
			return err
		}
		prev, ok := state[reviewID]
		switch {
		case !ok:
			return errs.E(errs.NotFound, "review %s is not in the store", reviewID)
		case prev.status == "withdrawn":
			return errs.E(errs.Conflict, "review %s is already withdrawn", reviewID)
		case prev.key == 0:
			return errs.E(errs.Conflict, "review %s has no current version", reviewID)
		}
		if _, err := conn.ExecContext(ctx, `UPDATE reviews SET status = 'withdrawn' WHERE review_key = ?`, prev.key); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO withdrawals VALUES (?, ?, ?, ?)`, reviewID, reason, by, w.now().UTC()); err != nil {
			return err
		}
		w.folded = false
		return refreshAggregates(ctx, conn, []Partition{{prev.board, prev.year, prev.kind}})
	})
	if err != nil {
		return fmt.Errorf("withdraw %s: %w", reviewID, err)
	}
	w.log.Info("review withdrawn", "review_id", reviewID, "by", by)
	return nil
}
