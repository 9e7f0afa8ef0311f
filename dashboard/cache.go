package dashboard

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// cache keeps recent analytics results so that a page asking for the same
// figures again, or several pages sharing a figure, do not recompute them.
// Entries are keyed by the method, the viewer's role and scope and every
// argument, so a result is only ever handed to a viewer with the same rights
// as the one it was computed for, with its suppression. Every write goes
// through this server's ingest.Writer (DuckDB lets one process open the store
// for writing), and each stored upload clears the cache, so a cached figure
// is never older than the data (save under overload, below).
//
// Under load the cache also shapes the work sent to DuckDB:
//
//   - Concurrent requests for the same result share one computation
//     (single flight), so fifty readers missing the same key after an upload
//     cost one query, not fifty.
//   - At most slots computations run at once; the rest wait their turn.
//     DuckDB's queries share the machine's cores with each other, the ingest
//     writer and the server's own work, and fifty queries at once finish no
//     sooner than fifty in turn; a bounded number keeps answers from the
//     cache, and the writer, from queueing behind them for the CPU.
//   - Answers that are the same until the data changes (a refusal, a review
//     that is not there, a question that is not valid) are kept like results.
//   - When the server is overloaded (as many computations waiting for a
//     slot as there are slots) just after an upload, a figure the upload
//     made out of date is answered from before it, for at most staleFor
//     after the upload: each result names the data version it was computed
//     from, and reveals nothing the earlier data did not. Otherwise every
//     reader would queue behind the recomputation of everything an upload
//     cleared. Lists of reviews and episodes, and single reviews, are never
//     answered this way.
type cache struct {
	next    Analytics
	max     int
	slots   chan struct{}
	metrics *Metrics
	// staleFor bounds how long a stale result may be given out; 0 never.
	staleFor time.Duration

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front is most recent
	flights map[string]*flight
	gen     uint64 // bumped by invalidate
	// stale holds results from before the latest uploads, for overload.
	stale map[string]*staleEntry
	// waiting counts computations waiting for a slot.
	waiting atomic.Int64
}

// DefaultStaleFor bounds how long after an upload a result from before it
// may be given out while the server is overloaded (Options.StaleFor).
const DefaultStaleFor = 30 * time.Second

// staleEntry is a result the data has changed under since.
type staleEntry struct {
	value any
	err   error
	since time.Time
}

// neverStale are the methods whose answers are rows of reviews rather than
// figures: they are always computed from the data as it is.
var neverStale = map[string]bool{"review": true, "reviews": true, "episodes": true}

type cacheEntry struct {
	key   string
	value any
	err   error
}

// flight is one computation that callers asking for the same key wait for.
type flight struct {
	done    chan struct{}
	waiters int // requests waiting besides the one computing; under cache.mu
	value   any
	err     error
}

func newCache(next Analytics, max, slots int, m *Metrics) *cache {
	return &cache{next: next, max: max, slots: make(chan struct{}, slots), metrics: m, staleFor: DefaultStaleFor,
		entries: map[string]*list.Element{}, lru: list.New(), flights: map[string]*flight{}}
}

// invalidate forgets every result, keeping it only as stale for overload.
// Results being computed when it is called are handed to those already
// waiting for them but neither stored nor given to anyone who asks
// afterwards.
func (c *cache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	now := time.Now()
	stale := map[string]*staleEntry{}
	for k, e := range c.stale {
		if now.Sub(e.since) < c.staleFor {
			stale[k] = e
		}
	}
	for k, el := range c.entries { // newer than any stale result of the same key
		if len(stale) >= 2*c.max || c.staleFor <= 0 {
			break
		}
		e := el.Value.(*cacheEntry)
		stale[k] = &staleEntry{value: e.value, err: e.err, since: now}
	}
	c.stale = stale
	c.entries = map[string]*list.Element{}
	c.lru.Init()
	c.flights = map[string]*flight{}
}

// keepError reports whether an error is an answer that stands until the data
// changes, rather than a failure worth trying again.
func keepError(err error) bool {
	switch errs.KindOf(err) {
	case errs.NotFound, errs.Forbidden, errs.Invalid:
		return true
	}
	return false
}

// cached returns the result for key, computing and keeping it on a miss.
func cached[T any](c *cache, ctx context.Context, method string, args []any, compute func() (T, error)) (T, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return compute()
	}
	key := method + "\x00" + string(b)
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		if el, ok := c.entries[key]; ok {
			c.lru.MoveToFront(el)
			e := el.Value.(*cacheEntry)
			c.mu.Unlock()
			c.metrics.observeCache("hit", 0)
			return resultOf[T](e.value, e.err)
		}
		if st := c.staleResult(method, key); st != nil && c.overloaded() {
			c.mu.Unlock()
			c.metrics.observeCache("stale", 0)
			return resultOf[T](st.value, st.err)
		}
		if f, ok := c.flights[key]; ok {
			f.waiters++
			c.mu.Unlock()
			start := time.Now()
			select {
			case <-f.done:
			case <-ctx.Done():
				var zero T
				return zero, errs.Wrap(errs.Unavailable, ctx.Err(), "%s: the request was cancelled", method)
			}
			if f.err != nil && errs.KindOf(f.err) == errs.Unavailable && ctx.Err() == nil && attempt < 3 {
				continue // the request computing it went away: ask again
			}
			c.metrics.observeCache("shared", time.Since(start))
			return resultOf[T](f.value, f.err)
		}
		f := &flight{done: make(chan struct{})}
		c.flights[key] = f
		gen := c.gen
		c.mu.Unlock()
		start := time.Now()
		c.lead(ctx, key, gen, f, func() (any, error) { return compute() })
		c.metrics.observeCache("miss", time.Since(start))
		return resultOf[T](f.value, f.err)
	}
}

// lead computes the result of flight f for key, keeps it unless the cache
// was cleared meanwhile, and releases whoever waits for it, even if compute
// panics.
func (c *cache) lead(ctx context.Context, key string, gen uint64, f *flight, compute func() (any, error)) {
	defer func() {
		c.mu.Lock()
		if c.flights[key] == f {
			delete(c.flights, key)
		}
		if gen == c.gen && (f.err == nil || keepError(f.err)) {
			c.store(key, f.value, f.err)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.err = errs.E(errs.Internal, "computing a result failed") // stays if compute panics
	f.value, f.err = c.compute(ctx, compute)
}

// compute runs fn when a slot is free.
func (c *cache) compute(ctx context.Context, fn func() (any, error)) (any, error) {
	c.waiting.Add(1)
	select {
	case c.slots <- struct{}{}:
		c.waiting.Add(-1)
	case <-ctx.Done():
		c.waiting.Add(-1)
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "waiting for the store: the request was cancelled")
	}
	defer func() { <-c.slots }()
	return fn()
}

// overloaded reports whether as many computations wait for a slot as there
// are slots.
func (c *cache) overloaded() bool { return c.waiting.Load() >= int64(cap(c.slots)) }

// staleResult returns the result for key from before the latest uploads, if
// it may be given out; c.mu is held.
func (c *cache) staleResult(method, key string) *staleEntry {
	e, ok := c.stale[key]
	if !ok || neverStale[method] || time.Since(e.since) >= c.staleFor {
		return nil
	}
	return e
}

// store keeps a result; c.mu is held.
func (c *cache) store(key string, v any, err error) {
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, value: v, err: err})
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		delete(c.entries, last.Value.(*cacheEntry).key)
		c.lru.Remove(last)
	}
}

func resultOf[T any](v any, err error) (T, error) {
	t, _ := v.(T)
	return t, err
}

// rights is the part of a viewer that decides what they may see: the name
// is for logs only, so viewers with the same role and scope share results.
func rights(v analytics.Viewer) analytics.Viewer {
	v.Name = ""
	return v
}

var _ Analytics = (*cache)(nil)

func (c *cache) Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error) {
	return cached(c, ctx, "collections", []any{rights(v)}, func() (*analytics.Collections, error) { return c.next.Collections(ctx, v) })
}

func (c *cache) Frame(ctx context.Context, key string) (*analytics.FrameInfo, error) {
	return cached(c, ctx, "frame", []any{key}, func() (*analytics.FrameInfo, error) { return c.next.Frame(ctx, key) })
}

func (c *cache) Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error) {
	return cached(c, ctx, "overview", []any{rights(v), sel}, func() (*analytics.Overview, error) { return c.next.Overview(ctx, v, sel) })
}

func (c *cache) Process(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Process, error) {
	return cached(c, ctx, "process", []any{rights(v), sel}, func() (*analytics.Process, error) { return c.next.Process(ctx, v, sel) })
}

func (c *cache) Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RecurrenceOptions) (*analytics.Recurrence, error) {
	return cached(c, ctx, "recurrence", []any{rights(v), sel, opt}, func() (*analytics.Recurrence, error) { return c.next.Recurrence(ctx, v, sel, opt) })
}

func (c *cache) Breakdown(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.BreakdownOptions) (*analytics.Breakdown, error) {
	return cached(c, ctx, "breakdown", []any{rights(v), sel, opt}, func() (*analytics.Breakdown, error) { return c.next.Breakdown(ctx, v, sel, opt) })
}

func (c *cache) Compare(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CompareOptions) (*analytics.Comparison, error) {
	return cached(c, ctx, "compare", []any{rights(v), sel, opt}, func() (*analytics.Comparison, error) { return c.next.Compare(ctx, v, sel, opt) })
}

func (c *cache) Funnel(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FunnelOptions) (*analytics.Funnel, error) {
	return cached(c, ctx, "funnel", []any{rights(v), sel, opt}, func() (*analytics.Funnel, error) { return c.next.Funnel(ctx, v, sel, opt) })
}

func (c *cache) Trends(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.TrendOptions) (*analytics.Trends, error) {
	return cached(c, ctx, "trends", []any{rights(v), sel, opt}, func() (*analytics.Trends, error) { return c.next.Trends(ctx, v, sel, opt) })
}

func (c *cache) RepeatedLessons(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RepeatedOptions) (*analytics.RepeatedLessons, error) {
	return cached(c, ctx, "repeated", []any{rights(v), sel, opt}, func() (*analytics.RepeatedLessons, error) { return c.next.RepeatedLessons(ctx, v, sel, opt) })
}

func (c *cache) CoOccurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CoOccurrenceOptions) (*analytics.CoOccurrence, error) {
	return cached(c, ctx, "cooccurrence", []any{rights(v), sel, opt}, func() (*analytics.CoOccurrence, error) { return c.next.CoOccurrence(ctx, v, sel, opt) })
}

func (c *cache) Flows(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FlowOptions) (*analytics.Flows, error) {
	return cached(c, ctx, "flows", []any{rights(v), sel, opt}, func() (*analytics.Flows, error) { return c.next.Flows(ctx, v, sel, opt) })
}

func (c *cache) GoodPractice(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.GoodPracticeOptions) (*analytics.GoodPractice, error) {
	return cached(c, ctx, "goodpractice", []any{rights(v), sel, opt}, func() (*analytics.GoodPractice, error) { return c.next.GoodPractice(ctx, v, sel, opt) })
}

func (c *cache) Recommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Recommendations, error) {
	return cached(c, ctx, "recommendations", []any{rights(v), sel}, func() (*analytics.Recommendations, error) { return c.next.Recommendations(ctx, v, sel) })
}

func (c *cache) Episodes(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.EpisodePage, error) {
	return cached(c, ctx, "episodes", []any{rights(v), sel, q}, func() (*analytics.EpisodePage, error) { return c.next.Episodes(ctx, v, sel, q) })
}

func (c *cache) Reviews(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.ReviewQuery) (*analytics.ReviewPage, error) {
	return cached(c, ctx, "reviews", []any{rights(v), sel, q}, func() (*analytics.ReviewPage, error) { return c.next.Reviews(ctx, v, sel, q) })
}

func (c *cache) Review(ctx context.Context, v analytics.Viewer, id string) (*analytics.ReviewDetail, error) {
	return cached(c, ctx, "review", []any{rights(v), id}, func() (*analytics.ReviewDetail, error) { return c.next.Review(ctx, v, id) })
}
