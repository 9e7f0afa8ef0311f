package analytics

import (
	"math"
	"math/big"
	"testing"
)

// Reference values. Unless noted, they were computed with exact rational
// arithmetic (Python fractions, math.comb) or 40-digit mpmath, independently
// of this package; the inputs and script are described beside each table.

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, want %.17g (tolerance %g)", name, got, want, tol)
	}
}

// fisherBrute enumerates every table with the margins of [[a, b], [c, d]] in
// exact rational arithmetic: a second, independent computation.
func fisherBrute(a, b, c, d int) (p, mid float64) {
	r1, c1, n := a+b, a+c, a+b+c+d
	lo, hi := max(0, r1+c1-n), min(r1, c1)
	prob := func(x int) *big.Rat {
		num := new(big.Int).Mul(new(big.Int).Binomial(int64(r1), int64(x)), new(big.Int).Binomial(int64(n-r1), int64(c1-x)))
		return new(big.Rat).SetFrac(num, new(big.Int).Binomial(int64(n), int64(c1)))
	}
	pa := prob(a)
	tol := big.NewRat(10_000_001, 10_000_000)
	limit := new(big.Rat).Mul(pa, tol)
	sum, tie := new(big.Rat), new(big.Rat)
	for x := lo; x <= hi; x++ {
		px := prob(x)
		if px.Cmp(limit) <= 0 {
			sum.Add(sum, px)
			if new(big.Rat).Mul(px, tol).Cmp(pa) >= 0 {
				tie.Add(tie, px)
			}
		}
	}
	ps, _ := sum.Float64()
	ts, _ := tie.Float64()
	return ps, ps - ts/2
}

func TestFisherExact(t *testing.T) {
	// Fisher's tea-tasting table: R fisher.test(matrix(c(3,1,1,3), 2)) gives
	// p-value = 0.4857. The other rows: Python fractions (see fisherBrute),
	// e.g. (1, 9, 11, 3) is R's documented 0.002759 for that table.
	cases := []struct {
		a, b, c, d int
		p, mid     float64
	}{
		{3, 1, 1, 3, 0.48571428571428571, 0.25714285714285714},
		{1, 9, 11, 3, 0.0027594561852200835, 0.0014133799973078476},
		{10, 20, 30, 40, 0.50447576985162827, 0.44398925177602976},
		{0, 5, 5, 0, 0.0079365079365079365, 0.0039682539682539683},
		{7, 2, 3, 8, 0.069778518694927364, 0.037628006668254346},
		{45, 155, 20, 180, 0.0010288508967901941, 0.00069801932488436641},
		{120, 880, 90, 910, 0.034202509706968715, 0.028882508960104907},
		{2, 30, 15, 20, 0.00062397411020129216, 0.00038505301515350678},
	}
	for _, c := range cases {
		near(t, "FisherExact", FisherExact(c.a, c.b, c.c, c.d), c.p, 1e-9)
		near(t, "FisherMidP", FisherMidP(c.a, c.b, c.c, c.d), c.mid, 1e-9)
		bp, bmid := fisherBrute(c.a, c.b, c.c, c.d)
		near(t, "fisherBrute", bp, c.p, 1e-12)
		near(t, "fisherBrute mid", bmid, c.mid, 1e-12)
	}
	// Many more tables against the brute force, including mirrored ones.
	for a := 0; a <= 12; a += 3 {
		for b := 0; b <= 14; b += 7 {
			for c := 1; c <= 13; c += 4 {
				for d := 0; d <= 20; d += 5 {
					want, wmid := fisherBrute(a, b, c, d)
					near(t, "FisherExact vs brute", FisherExact(a, b, c, d), want, 1e-9)
					near(t, "FisherMidP vs brute", FisherMidP(a, b, c, d), wmid, 1e-9)
					near(t, "FisherExact symmetric", FisherExact(d, c, b, a), want, 1e-9)
				}
			}
		}
	}
}

func TestWilson(t *testing.T) {
	// Python mpmath, 40 digits, from the closed form with z = sqrt(2)·erfinv(0.95).
	// (81, 263) is the worked example of Wikipedia's "Binomial proportion
	// confidence interval" page (0.2553, 0.3662).
	cases := []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.25528851987827423, 0.36620957698280007},
		{0, 10, 0, 0.27753279986288925},
		{10, 10, 0.72246720013711075, 1},
		{1, 6, 0.030053369748306665, 0.56350282218647026},
		{37, 120, 0.23272736988916292, 0.39582997723800675},
		{500, 20000, 0.022925761185803873, 0.027256673067495522},
	}
	for _, c := range cases {
		lo, hi := Wilson(c.x, c.n, z95)
		near(t, "Wilson lo", lo, c.lo, 1e-12)
		near(t, "Wilson hi", hi, c.hi, 1e-12)
	}
	near(t, "z95", z95, 1.9599639845400542355, 1e-15)
	near(t, "z998", z998, 3.0902323061678135415, 1e-15)
	near(t, "normalQuantile(0.975)", normalQuantile(0.975), z95, 1e-12)
	near(t, "normalQuantile(0.999)", normalQuantile(0.999), z998, 1e-12)
	near(t, "normalQuantile(0.001)", normalQuantile(0.001), -z998, 1e-12)
}

func TestBenjaminiHochberg(t *testing.T) {
	// R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5, 0.2), "BH")
	// [1] 0.03 0.06 0.06 0.03 0.50 0.24
	got := BenjaminiHochberg([]float64{0.01, 0.04, 0.03, 0.005, 0.5, 0.2})
	want := []float64{0.03, 0.06, 0.06, 0.03, 0.5, 0.24}
	for i := range want {
		near(t, "BH", got[i], want[i], 1e-12)
	}
	// Brute force from the definition: adj(i) = min over j with p(j) ≥ p(i) of m·p(j)/rank(j).
	ps := []float64{0.2, 0.001, 0.013, 0.04, 0.04, 0.9, 0.0501, 0.3}
	got = BenjaminiHochberg(ps)
	for i, pi := range ps {
		best := 1.0
		for _, pj := range ps {
			if pj < pi {
				continue
			}
			rank := 0
			for _, pk := range ps {
				if pk <= pj {
					rank++
				}
			}
			best = math.Min(best, pj*float64(len(ps))/float64(rank))
		}
		near(t, "BH brute", got[i], best, 1e-12)
	}
	if got := BenjaminiHochberg([]float64{math.NaN(), 0.02}); !math.IsNaN(got[0]) || got[1] != 0.02 {
		t.Errorf("BH with NaN = %v", got)
	}
}

func TestCochranArmitage(t *testing.T) {
	// R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)) (the example in
	// R's documentation) gives X-squared = 8.2249, df = 1, p-value = 0.004132.
	// Full precision from mpmath: Z = -2.8679125309530759, p = 0.0041318974776415652.
	z, p := CochranArmitage([]int{83, 90, 129, 70}, []int{86, 93, 136, 82}, []float64{1, 2, 3, 4})
	near(t, "CA z", z, -2.8679125309530759, 1e-12)
	near(t, "CA z²", z*z, 8.2249222851976772, 1e-12)
	near(t, "CA p", p, 0.0041318974776415652, 1e-10)
	// Rising shares over years (mpmath): Z = 3.4819643381268154, p = 0.00049774997603830674.
	z, p = CochranArmitage([]int{5, 8, 12, 15, 21}, []int{50, 52, 55, 60, 58}, []float64{2019, 2020, 2021, 2022, 2023})
	near(t, "CA z years", z, 3.4819643381268154, 1e-10)
	near(t, "CA p years", p, 0.00049774997603830674, 1e-8)
	// Scores are only defined up to a linear map: shifting and scaling years changes nothing.
	z2, _ := CochranArmitage([]int{5, 8, 12, 15, 21}, []int{50, 52, 55, 60, 58}, []float64{0, 2, 4, 6, 8})
	near(t, "CA shift invariance", z2, z, 1e-12)
	if z, _ := CochranArmitage([]int{0, 0}, []int{5, 5}, []float64{1, 2}); !math.IsNaN(z) {
		t.Errorf("CA with no events = %v, want NaN", z)
	}
}

func TestBinomialLimit(t *testing.T) {
	// Exact rational arithmetic (Python fractions): r = smallest with F(r) ≥ p,
	// alpha = (F(r) − p)/(F(r) − F(r−1)), limit = (r − alpha)/n, clipped to [0, 1].
	cases := []struct {
		p, theta float64
		n        int
		want     float64
	}{
		{0.025, 0.3, 20, 0.081176505980675848},
		{0.025, 0.3, 200, 0.23503053706865698},
		{0.025, 0.05, 50, 0},
		{0.025, 0.5, 7, 0.044897959183673469},
		{0.975, 0.3, 20, 0.48725514659514703},
		{0.975, 0.3, 200, 0.36204077534920529},
		{0.975, 0.05, 50, 0.10983171072040253},
		{0.975, 0.5, 7, 0.81224489795918367},
		{0.001, 0.3, 20, 0.0014773166882814952},
		{0.001, 0.3, 200, 0.20052326021092865},
		{0.999, 0.3, 20, 0.61369967934796722},
		{0.999, 0.3, 200, 0.40010540622820011},
		{0.999, 0.05, 50, 0.15799359094754366},
		{0.999, 0.5, 7, 0.98171428571428571},
	}
	for _, c := range cases {
		near(t, "BinomialLimit", BinomialLimit(c.p, c.theta, c.n), c.want, 1e-10)
	}
	// Large n approaches the normal approximation.
	n := 100000
	near(t, "BinomialLimit large n", BinomialLimit(0.975, 0.3, n), 0.3+z95*math.Sqrt(0.3*0.7/float64(n)), 1e-4)
}
