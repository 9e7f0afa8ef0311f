package analytics

import (
	"math"
	"sort"
)

// The statistics behind the figures. Each is checked in stats_test.go against
// reference values computed independently (R, or exact rational arithmetic),
// recorded with their source.

// z95 is the 97.5% quantile of the standard normal distribution.
const z95 = 1.959963984540054

// z998 is the 99.9% quantile: the two-sided 99.8% limit.
const z998 = 3.090232306167813

// Wilson returns the Wilson score interval for x successes out of n at the
// normal quantile z (z95 for 95%). With n = 0 it returns (0, 1).
func Wilson(x, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = center-half, center+half
	if x == 0 {
		lo = 0
	}
	if x == n {
		hi = 1
	}
	return math.Max(0, lo), math.Min(1, hi)
}

// hypergeom describes the 2×2 table [[a, b], [c, d]] with its margins fixed:
// X = the top-left cell ranges over [lo, hi].
type hypergeom struct {
	r1, c1, n int // first row total, first column total, grand total
	lo, hi    int
	lbase     float64 // log of the normalising constant C(n, c1)
}

func newHypergeom(a, b, c, d int) hypergeom {
	r1, c1, n := a+b, a+c, a+b+c+d
	h := hypergeom{r1: r1, c1: c1, n: n, lo: max(0, r1+c1-n), hi: min(r1, c1)}
	h.lbase = lchoose(n, c1)
	return h
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// logp is the log probability of X = x.
func (h hypergeom) logp(x int) float64 {
	return lchoose(h.r1, x) + lchoose(h.n-h.r1, h.c1-x) - h.lbase
}

// ratio is P(X = x+1) / P(X = x).
func (h hypergeom) ratio(x int) float64 {
	return float64(h.r1-x) * float64(h.c1-x) / (float64(x+1) * float64(h.n-h.r1-h.c1+x+1))
}

func (h hypergeom) mode() int {
	m := int(math.Floor(float64(h.r1+1) * float64(h.c1+1) / float64(h.n+2)))
	return min(max(m, h.lo), h.hi)
}

// FisherExact returns the two-sided p-value of Fisher's exact test for the
// 2×2 table [[a, b], [c, d]]: the probability, with the margins fixed, of a
// table no more likely than the one observed (as R's fisher.test, with the
// same relative tolerance 1e-7 for ties).
func FisherExact(a, b, c, d int) float64 {
	p, _ := fisherTails(a, b, c, d)
	return p
}

// FisherMidP returns the two-sided mid-p value: the probability of tables
// less likely than the one observed plus half that of tables as likely.
func FisherMidP(a, b, c, d int) float64 {
	p, same := fisherTails(a, b, c, d)
	return p - same/2
}

// fisherTails sums the probabilities of tables no more likely than the
// observed one (p) and of those as likely within the tolerance (same). The
// distribution of X is unimodal, so those tables form two tails; each tail's
// inner end is found by bisection and the tail is summed outwards by
// successive ratios until the terms no longer matter. It costs about the
// standard deviation of X rather than the whole support.
func fisherTails(a, b, c, d int) (p, same float64) {
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return math.NaN(), math.NaN()
	}
	h := newHypergeom(a, b, c, d)
	if h.lo == h.hi {
		return 1, 1
	}
	const relErr = 1 + 1e-7
	la := h.logp(a)
	lim := la + math.Log(relErr)
	mode := h.mode()
	// Left tail [lo, xl]: P rises on [lo, mode]; xl is the last x there with P(x) ≤ lim.
	xl := h.lo - 1
	for lo, hi := h.lo, mode; lo <= hi; {
		m := (lo + hi) / 2
		if h.logp(m) <= lim {
			xl, lo = m, m+1
		} else {
			hi = m - 1
		}
	}
	// Right tail [xr, hi]: P falls on [mode, hi]; xr is the first x there with P(x) ≤ lim.
	xr := h.hi + 1
	for lo, hi := max(mode, xl+1), h.hi; lo <= hi; {
		m := (lo + hi) / 2
		if h.logp(m) <= lim {
			xr, hi = m, m-1
		} else {
			lo = m + 1
		}
	}
	var sum, tie float64 // relative to P(a)
	add := func(t float64) {
		sum += t
		if t >= 1/relErr {
			tie += t
		}
	}
	if xl >= h.lo {
		t := math.Exp(h.logp(xl) - la)
		for x := xl; x >= h.lo; x-- {
			add(t)
			if t < 1e-17*sum || x == h.lo {
				break
			}
			t /= h.ratio(x - 1)
		}
	}
	if xr <= h.hi {
		t := math.Exp(h.logp(xr) - la)
		for x := xr; x <= h.hi; x++ {
			add(t)
			if t < 1e-17*sum || x == h.hi {
				break
			}
			t *= h.ratio(x)
		}
	}
	pa := math.Exp(la)
	return math.Min(1, pa*sum), math.Min(1, pa*tie)
}

// BenjaminiHochberg returns the BH-adjusted p-values (false discovery rate),
// in the order given: adj(i) = min over j ranked at or after i of m·p(j)/rank(j),
// capped at 1, as R's p.adjust(method = "BH"). NaN inputs stay NaN and do not
// count towards m.
func BenjaminiHochberg(p []float64) []float64 {
	out := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := float64(len(idx))
	minSoFar := 1.0
	for r := len(idx) - 1; r >= 0; r-- {
		v := p[idx[r]] * m / float64(r+1)
		if v < minSoFar {
			minSoFar = v
		}
		out[idx[r]] = minSoFar
	}
	return out
}

// CochranArmitage tests for a linear trend in proportions x[i]/n[i] over the
// scores t[i] (e.g. years). It returns the statistic Z (positive when the
// proportion rises with the score) and the two-sided p-value. Z² equals the
// X-squared of R's prop.trend.test. With no variation it returns (NaN, NaN).
func CochranArmitage(x, n []int, t []float64) (z, p float64) {
	var N, X, sNT float64
	for i := range x {
		N += float64(n[i])
		X += float64(x[i])
		sNT += float64(n[i]) * t[i]
	}
	if N == 0 {
		return math.NaN(), math.NaN()
	}
	// Centre the scores on their weighted mean: the statistic is unchanged
	// and years such as 2019 lose no precision to cancellation.
	mean := sNT / N
	pbar := X / N
	var T, sNT2 float64
	for i := range x {
		c := t[i] - mean
		T += float64(x[i]) * c
		sNT2 += float64(n[i]) * c * c
	}
	v := pbar * (1 - pbar) * sNT2
	if v <= 0 {
		return math.NaN(), math.NaN()
	}
	z = T / math.Sqrt(v)
	return z, math.Erfc(math.Abs(z) / math.Sqrt2)
}

// normalUpper is P(Z > z) for a standard normal Z.
func normalUpper(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// binomWindow holds the distribution function of Binomial(n, q) over the
// window [lo, lo+len(cdf)) outside which the probability is negligible
// (below about 1e-19 of the mode's on either side). It is computed from the
// mode outwards by successive ratios, so no term underflows, and it costs
// about forty standard deviations of work.
type binomWindow struct {
	lo  int
	cdf []float64
}

func newBinomWindow(n int, q float64) binomWindow {
	if q <= 0 || q >= 1 || n == 0 {
		at := 0
		if q >= 1 {
			at = n
		}
		return binomWindow{lo: at, cdf: []float64{1}}
	}
	mode := int(math.Floor(float64(n+1) * q))
	mode = min(max(mode, 0), n)
	pm := math.Exp(lchoose(n, mode) + float64(mode)*math.Log(q) + float64(n-mode)*math.Log1p(-q))
	odds := q / (1 - q)
	var down []float64 // P(mode-1), P(mode-2), ...
	t := pm
	for k := mode; k > 0; k-- {
		t *= float64(k) / (float64(n-k+1) * odds)
		down = append(down, t)
		if t < 1e-19*pm {
			break
		}
	}
	var up []float64 // P(mode+1), ...
	t = pm
	for k := mode; k < n; k++ {
		t *= float64(n-k) / float64(k+1) * odds
		up = append(up, t)
		if t < 1e-19*pm {
			break
		}
	}
	pmf := make([]float64, 0, len(down)+1+len(up))
	for i := len(down) - 1; i >= 0; i-- {
		pmf = append(pmf, down[i])
	}
	pmf = append(pmf, pm)
	pmf = append(pmf, up...)
	var total float64
	for _, v := range pmf {
		total += v
	}
	cdf := make([]float64, len(pmf))
	var acc float64
	for i, v := range pmf {
		acc += v
		cdf[i] = acc / total
	}
	return binomWindow{lo: mode - len(down), cdf: cdf}
}

// at returns P(R ≤ r).
func (w binomWindow) at(r int) float64 {
	switch i := r - w.lo; {
	case i < 0:
		return 0
	case i >= len(w.cdf):
		return 1
	default:
		return w.cdf[i]
	}
}

// binomCDF returns P(R ≤ r) for R ~ Binomial(n, q).
func binomCDF(r, n int, q float64) float64 { return newBinomWindow(n, q).at(r) }

// BinomialLimit returns the exact binomial control limit at probability p (for
// example 0.025 and 0.975 for the 95% limits) for a proportion with target
// theta and denominator n, as a proportion. It takes the p-quantile r of
// Binomial(n, theta) and interpolates between r−1 and r so the limits are
// smooth in n (Spiegelhalter, Statistics in Medicine 2005;24:1185–1202,
// appendix A.1.1): limit = (r − α)/n with α = (F(r) − p) / (F(r) − F(r−1)),
// clipped to [0, 1].
func BinomialLimit(p, theta float64, n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return newBinomWindow(n, theta).limit(p, n)
}

// limit is BinomialLimit over a window already computed for n.
func (w binomWindow) limit(p float64, n int) float64 {
	r := w.lo + sort.SearchFloat64s(w.cdf, p) // the smallest r with F(r) ≥ p
	r = min(r, n)
	fr, fr1 := w.at(r), w.at(r-1)
	alpha := 0.0
	if fr > fr1 {
		alpha = (fr - p) / (fr - fr1)
	}
	return math.Min(1, math.Max(0, (float64(r)-alpha)/float64(n)))
}

// normalQuantile is the inverse of the standard normal distribution function
// (Acklam's algorithm refined by one Newton step; |error| < 1e-12).
func normalQuantile(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	if p >= 1 {
		return math.Inf(1)
	}
	a := [...]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := [...]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	c := [...]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := [...]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	var x float64
	switch {
	case p < 0.02425:
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p > 1-0.02425:
		q := math.Sqrt(-2 * math.Log1p(-p))
		x = -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	default:
		q := p - 0.5
		r := q * q
		x = (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
	}
	// One Newton step on Φ(x) − p.
	e := 0.5*math.Erfc(-x/math.Sqrt2) - p
	u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
	return x - u/(1+x*u/2)
}
