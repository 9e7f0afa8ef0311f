package dashboard

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"

	"github.com/collate-project/collate/analytics"
)

// cache keeps recent analytics results so that a page asking for the same
// figures again, or several pages sharing a figure, do not recompute them.
// Entries are keyed by the method, the viewer and every argument, so a
// result is only ever handed to the viewer it was computed for, with its
// suppression. Every write goes through this server's ingest.Writer (DuckDB
// lets one process open the store for writing), and each stored upload
// clears the cache, so a cached figure is never older than the data.
type cache struct {
	next Analytics
	max  int

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front is most recent
	gen     uint64     // bumped by invalidate
}

type cacheEntry struct {
	key   string
	value any
}

func newCache(next Analytics, max int) *cache {
	return &cache{next: next, max: max, entries: map[string]*list.Element{}, lru: list.New()}
}

// invalidate forgets every result; results being computed when it is called
// are not stored.
func (c *cache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = map[string]*list.Element{}
	c.lru.Init()
}

// cached returns the result for key, computing and keeping it on a miss.
// Errors are not kept.
func cached[T any](c *cache, method string, args []any, compute func() (T, error)) (T, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return compute()
	}
	key := method + "\x00" + string(b)
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		v := el.Value.(*cacheEntry).value.(T)
		c.mu.Unlock()
		return v, nil
	}
	gen := c.gen
	c.mu.Unlock()
	v, err := compute()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return v, nil
	}
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return v, nil
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, value: v})
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		delete(c.entries, last.Value.(*cacheEntry).key)
		c.lru.Remove(last)
	}
	return v, nil
}

var _ Analytics = (*cache)(nil)

func (c *cache) Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error) {
	return cached(c, "collections", []any{v}, func() (*analytics.Collections, error) { return c.next.Collections(ctx, v) })
}

func (c *cache) Frame(ctx context.Context, key string) (*analytics.FrameInfo, error) {
	return cached(c, "frame", []any{key}, func() (*analytics.FrameInfo, error) { return c.next.Frame(ctx, key) })
}

func (c *cache) Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error) {
	return cached(c, "overview", []any{v, sel}, func() (*analytics.Overview, error) { return c.next.Overview(ctx, v, sel) })
}

func (c *cache) Process(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Process, error) {
	return cached(c, "process", []any{v, sel}, func() (*analytics.Process, error) { return c.next.Process(ctx, v, sel) })
}

func (c *cache) Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RecurrenceOptions) (*analytics.Recurrence, error) {
	return cached(c, "recurrence", []any{v, sel, opt}, func() (*analytics.Recurrence, error) { return c.next.Recurrence(ctx, v, sel, opt) })
}

func (c *cache) Breakdown(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.BreakdownOptions) (*analytics.Breakdown, error) {
	return cached(c, "breakdown", []any{v, sel, opt}, func() (*analytics.Breakdown, error) { return c.next.Breakdown(ctx, v, sel, opt) })
}

func (c *cache) Compare(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CompareOptions) (*analytics.Comparison, error) {
	return cached(c, "compare", []any{v, sel, opt}, func() (*analytics.Comparison, error) { return c.next.Compare(ctx, v, sel, opt) })
}

func (c *cache) Funnel(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FunnelOptions) (*analytics.Funnel, error) {
	return cached(c, "funnel", []any{v, sel, opt}, func() (*analytics.Funnel, error) { return c.next.Funnel(ctx, v, sel, opt) })
}

func (c *cache) Trends(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.TrendOptions) (*analytics.Trends, error) {
	return cached(c, "trends", []any{v, sel, opt}, func() (*analytics.Trends, error) { return c.next.Trends(ctx, v, sel, opt) })
}

func (c *cache) RepeatedLessons(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RepeatedOptions) (*analytics.RepeatedLessons, error) {
	return cached(c, "repeated", []any{v, sel, opt}, func() (*analytics.RepeatedLessons, error) { return c.next.RepeatedLessons(ctx, v, sel, opt) })
}

func (c *cache) CoOccurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CoOccurrenceOptions) (*analytics.CoOccurrence, error) {
	return cached(c, "cooccurrence", []any{v, sel, opt}, func() (*analytics.CoOccurrence, error) { return c.next.CoOccurrence(ctx, v, sel, opt) })
}

func (c *cache) Flows(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FlowOptions) (*analytics.Flows, error) {
	return cached(c, "flows", []any{v, sel, opt}, func() (*analytics.Flows, error) { return c.next.Flows(ctx, v, sel, opt) })
}

func (c *cache) GoodPractice(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.GoodPracticeOptions) (*analytics.GoodPractice, error) {
	return cached(c, "goodpractice", []any{v, sel, opt}, func() (*analytics.GoodPractice, error) { return c.next.GoodPractice(ctx, v, sel, opt) })
}

func (c *cache) Recommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Recommendations, error) {
	return cached(c, "recommendations", []any{v, sel}, func() (*analytics.Recommendations, error) { return c.next.Recommendations(ctx, v, sel) })
}

func (c *cache) Episodes(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.EpisodePage, error) {
	return cached(c, "episodes", []any{v, sel, q}, func() (*analytics.EpisodePage, error) { return c.next.Episodes(ctx, v, sel, q) })
}

func (c *cache) Reviews(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.ReviewQuery) (*analytics.ReviewPage, error) {
	return cached(c, "reviews", []any{v, sel, q}, func() (*analytics.ReviewPage, error) { return c.next.Reviews(ctx, v, sel, q) })
}

func (c *cache) Review(ctx context.Context, v analytics.Viewer, id string) (*analytics.ReviewDetail, error) {
	return cached(c, "review", []any{v, id}, func() (*analytics.ReviewDetail, error) { return c.next.Review(ctx, v, id) })
}
