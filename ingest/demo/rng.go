package demo

import "math/bits"

// rng is a small splitmix64 generator. The demo set must be byte-identical for
// a seed across Go releases, so it does not rely on math/rand, whose derived
// methods may change; every draw here is defined in this file.
type rng struct{ s uint64 }

// newRNG returns the stream for review i of a seed. Each review has its own
// stream, so any review can be generated alone and in any order.
func newRNG(seed int64, i int) rng {
	r := rng{s: uint64(seed) ^ 0x9e3779b97f4a7c15}
	r.s = r.next() ^ (uint64(i)+1)*0xbf58476d1ce4e5b9
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pick returns one element of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// weighted draws an index from cumulative weights (cum[len-1] is the total).
func (r *rng) weighted(cum []float64) int {
	x := r.float() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// cumulative turns weights into a cumulative table for weighted.
func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	var t float64
	for i, x := range w {
		t += x
		out[i] = t
	}
	return out
}
