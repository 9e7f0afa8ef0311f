package auth

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token-bucket rate limiter per key: a client address, or an
// account name for login attempts. It lives in memory, so each server process
// has its own; it forgets keys idle for longer than it takes their bucket to
// fill, and holds at most MaxKeys at once (the oldest are forgotten first).
type Limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time
	keys    map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// LimiterOptions configures a Limiter.
type LimiterOptions struct {
	Every   time.Duration // one event per Every on average
	Burst   int           // at most Burst events at once
	MaxKeys int           // default 100000
	Now     func() time.Time
}

// NewLimiter returns a Limiter. For logins, one attempt every 6 seconds with
// a burst of 10 per address lets a person retype a password and stops a
// guesser.
func NewLimiter(o LimiterOptions) *Limiter {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	return &Limiter{limit: rate.Every(o.Every), burst: o.Burst, maxKeys: o.MaxKeys, now: o.Now, keys: map[string]*limiterEntry{}}
}

// Allow reports whether an event for key may happen now, using up one token.
func (l *Limiter) Allow(key string) bool {
	ok, _ := l.Reserve(key)
	return ok
}

// Reserve is Allow that also says, when the answer is no, how long until an
// event would be allowed (for a Retry-After header).
func (l *Limiter) Reserve(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
		}
		e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, 0
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets keys whose bucket has refilled, and if that is not enough,
// the least recently seen half.
func (l *Limiter) sweep(now time.Time) {
	full := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for k, e := range l.keys {
		if now.Sub(e.seen) > full {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < l.maxKeys {
		return
	}
	var cut time.Time
	seen := make([]time.Time, 0, len(l.keys))
	for _, e := range l.keys {
		seen = append(seen, e.seen)
	}
	cut = median(seen)
	for k, e := range l.keys {
		if !e.seen.After(cut) {
			delete(l.keys, k)
		}
	}
}

func median(ts []time.Time) time.Time {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts[len(ts)/2]
}
