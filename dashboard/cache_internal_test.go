package dashboard

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// gated answers Overview when released, counting the calls that reach it;
// every other method is left to the nil interface and must not be called.
type gated struct {
	Analytics
	calls   atomic.Int32
	release chan struct{}
	err     error
}

func (g *gated) Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error) {
	n := g.calls.Add(1)
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "cancelled")
	}
	if g.err != nil {
		return nil, g.err
	}
	return &analytics.Overview{Provenance: analytics.Provenance{DataVersion: sel.Collection, Reviews: int(n)}}, nil
}

// waitForWaiters returns when n requests wait for the flight of key.
func waitForWaiters(t *testing.T, c *cache, n int) {
	t.Helper()
	for {
		c.mu.Lock()
		got := 0
		for _, f := range c.flights {
			got += f.waiters
		}
		c.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

var cacheViewer = analytics.Viewer{Role: analytics.RoleNationalResearcher, Name: "a"}

// TestCacheSharesOneComputation: requests arriving while a result is being
// computed wait for it instead of computing it again, and viewers who differ
// only by name share it.
func TestCacheSharesOneComputation(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	c := newCache(g, 10, 2, nil)
	sel := analytics.Selection{Collection: "ENG-NE"}
	const n = 10
	var wg sync.WaitGroup
	got := make([]*analytics.Overview, n)
	for i := range n {
		v := cacheViewer
		v.Name = string(rune('a' + i))
		wg.Go(func() {
			ov, err := c.Overview(context.Background(), v, sel)
			if err != nil {
				t.Error(err)
			}
			got[i] = ov
		})
	}
	waitForWaiters(t, c, n-1)
	close(g.release)
	wg.Wait()
	if calls := g.calls.Load(); calls != 1 {
		t.Errorf("%d requests at once computed the result %d times, want once", n, calls)
	}
	for i, ov := range got {
		if ov != got[0] {
			t.Errorf("request %d got a different result", i)
		}
	}
	if _, err := c.Overview(context.Background(), cacheViewer, sel); err != nil || g.calls.Load() != 1 {
		t.Errorf("asking again: %v, %d calls; want it from the cache", err, g.calls.Load())
	}
}

// TestCacheFlightAfterUpload: a request arriving after the cache is cleared
// never gets a result whose computation began before.
func TestCacheFlightAfterUpload(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	c := newCache(g, 10, 2, nil)
	sel := analytics.Selection{Collection: "ENG-NE"}
	var wg sync.WaitGroup
	var before, after *analytics.Overview
	wg.Go(func() { before, _ = c.Overview(context.Background(), cacheViewer, sel) })
	for g.calls.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	c.invalidate()
	wg.Go(func() { after, _ = c.Overview(context.Background(), cacheViewer, sel) })
	for g.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	if before == nil || after == nil || before == after {
		t.Fatalf("before %v, after %v: want two computations", before, after)
	}
	if after.Provenance.Reviews != 2 {
		t.Errorf("the request after the upload got computation %d, want 2", after.Provenance.Reviews)
	}
	// Only the computation begun after the upload is kept.
	again, _ := c.Overview(context.Background(), cacheViewer, sel)
	if again != after {
		t.Errorf("kept computation %d, want 2", again.Provenance.Reviews)
	}
}

// TestCacheKeepsAnswersNotFailures: a refusal stands until the data
// changes and is kept; a failure is not.
func TestCacheKeepsAnswersNotFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		calls int32
	}{
		{"forbidden", errs.E(errs.Forbidden, "not yours"), 1},
		{"not found", errs.E(errs.NotFound, "no such review"), 1},
		{"internal", errs.E(errs.Internal, "disk on fire"), 2},
		{"unavailable", errs.E(errs.Unavailable, "cancelled"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gated{release: make(chan struct{}), err: tc.err}
			close(g.release)
			c := newCache(g, 10, 2, nil)
			for range 2 {
				if _, err := c.Overview(context.Background(), cacheViewer, analytics.Selection{}); errs.KindOf(err) != errs.KindOf(tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
			}
			if got := g.calls.Load(); got != tc.calls {
				t.Errorf("computed %d times, want %d", got, tc.calls)
			}
		})
	}
}

// TestCacheWaiterOutlivesLeader: when the request computing a result goes
// away, one waiting for it computes it itself instead of failing.
func TestCacheWaiterOutlivesLeader(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	c := newCache(g, 10, 2, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var leaderErr, waiterErr error
	var waiter *analytics.Overview
	wg.Go(func() { _, leaderErr = c.Overview(ctx, cacheViewer, analytics.Selection{}) })
	for g.calls.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() { waiter, waiterErr = c.Overview(context.Background(), cacheViewer, analytics.Selection{}) })
	waitForWaiters(t, c, 1)
	cancel()
	for g.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	if errs.KindOf(leaderErr) != errs.Unavailable {
		t.Errorf("cancelled request: %v, want unavailable", leaderErr)
	}
	if waiterErr != nil || waiter == nil {
		t.Errorf("waiting request: %v, %v; want the result", waiter, waiterErr)
	}
}

// TestCacheBoundsComputations: no more computations run at once than there
// are slots.
func TestCacheBoundsComputations(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	c := newCache(g, 100, 2, nil)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			c.Overview(context.Background(), cacheViewer, analytics.Selection{Collection: string(rune('A' + i))})
		})
	}
	for g.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Five different results are asked for; two may be computed at once.
	time.Sleep(50 * time.Millisecond)
	if got := g.calls.Load(); got != 2 {
		t.Errorf("%d computations running at once with 2 slots", got)
	}
	close(g.release)
	wg.Wait()
	if got := g.calls.Load(); got != 5 {
		t.Errorf("%d computations in all, want 5", got)
	}
}

// TestCacheStaleOnlyWhenOverloaded: after an upload, a result from before
// it is given out only while as many computations wait for a slot as there
// are slots, only for staleFor, and never for rows of reviews.
func TestCacheStaleOnlyWhenOverloaded(t *testing.T) {
	g := &gated{release: make(chan struct{})}
	close(g.release)
	c := newCache(g, 10, 2, nil)
	ctx := context.Background()
	sel := analytics.Selection{Collection: "ENG-NE"}
	first, _ := c.Overview(ctx, cacheViewer, sel)
	c.invalidate()

	// Not overloaded: the next request computes afresh.
	fresh, _ := c.Overview(ctx, cacheViewer, sel)
	if fresh == first || g.calls.Load() != 2 {
		t.Fatalf("after an upload, with slots free, got computation %d (%d calls), want a new one", fresh.Provenance.Reviews, g.calls.Load())
	}
	c.invalidate()

	c.waiting.Store(int64(cap(c.slots))) // as many waiting as there are slots
	if got, _ := c.Overview(ctx, cacheViewer, sel); got != fresh || g.calls.Load() != 2 {
		t.Fatalf("overloaded just after an upload: got computation %d (%d calls), want the one from before the upload", got.Provenance.Reviews, g.calls.Load())
	}
	c.waiting.Store(int64(cap(c.slots)) - 1)
	if got, _ := c.Overview(ctx, cacheViewer, sel); got == fresh || g.calls.Load() != 3 {
		t.Fatalf("one waiting fewer than the slots: got computation %d, want a new one", got.Provenance.Reviews)
	}

	c.invalidate()
	c.waiting.Store(int64(cap(c.slots)))
	c.mu.Lock()
	for _, e := range c.stale {
		e.since = e.since.Add(-c.staleFor)
	}
	c.mu.Unlock()
	if _, _ = c.Overview(ctx, cacheViewer, sel); g.calls.Load() != 4 {
		t.Fatalf("overloaded %s after an upload: %d calls, want the result computed afresh", c.staleFor, g.calls.Load())
	}
	c.waiting.Store(0)

	c.mu.Lock()
	c.stale = map[string]*staleEntry{}
	c.mu.Unlock()
	c.invalidate()
	if len(c.stale) != 1 {
		t.Fatalf("%d results kept as stale after an upload, want the 1 cached", len(c.stale))
	}
	for _, m := range []string{"review", "reviews", "episodes"} {
		if !neverStale[m] {
			t.Errorf("%s answers may be given out stale", m)
		}
	}
}
