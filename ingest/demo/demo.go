// Package demo generates realistic synthetic review exports for a whole
// nation or the UK, so Collate can be tried, tested and benchmarked without
// real reviews. It owns the demo set and the signals planted in it; it must
// not touch a database (exports go through the ordinary ingest path) and it
// never writes anything that could identify a person: roles not names, the
// seed's pseudonyms ("Ms A", "Child C") for the family, no dates, places
// below the board or numbers the validator's screen would refuse.
//
// The set is deterministic: the same Options give byte-identical exports on
// every run and platform. Each review has its own random stream, so reviews
// can be generated one at a time, in any order, and 200,000 of them never have
// to be held in memory together.
//
// # Coverage
//
// The first reviews go round-robin over boards and years: one per board of the
// geography, with completion years cycling through FirstYear..LastYear, then
// again with each board's year moved on by one. A set at least as large as the
// geography (212 boards in the embedded one) covers every board and every
// year; one of boards × years reviews (2,544 for 2014..2025) has every board
// in every year. Later reviews are drawn by board weight (larger areas more)
// and by year (slowly rising volume). Kinds are about 70% statutory, 14% routine,
// 8% innovation and 8% positive. Sizes: 10–30 episodes, 2–8 factors per
// episode, 5–15 patterns (when the frame has a typology) and 5–20
// recommendations.
//
// # Planted signals
//
// Factor codes are drawn from weighted tables (good and problematic practice
// have different base weights); the planted effects multiply those weights.
// PlantedSignals lists them as data; with the default frame scie-lt 2008.1
// they are:
//
//   - Regional: FL.WORK.03 (Workload) ×4 in region ENG-LDN; LS.RES.03
//     (Availability of services; gaps in service provision) ×4 in every region
//     of nation WLS; FL.ROLE.01 (Frequency of contact) ×3 in SCT-N.
//   - Rising and falling: NG.POL.04 (Tools: assessment framework and forms;
//     ICT systems) rises linearly from ×0.5 in FirstYear to ×4 in LastYear;
//     FL.IA.04 (Information sharing) ×3 in the last four years; LS.ORG.04
//     (Thresholds) falls linearly from ×2 to ×0.5.
//   - Pairs within an episode: when FL.WORK.03 (Workload) is coded, FL.TEAM.02
//     (Supervision) is added with probability 0.7 and the same influence;
//     when FL.FAM.05 (Willingness to engage) is coded, FL.FAM.04 (Manner of
//     presentation) is added with probability 0.7.
//   - Patterns: constructive as well as unsafe patterns (about a quarter
//     constructive in statutory reviews, two thirds in positive ones).
//     Constructive patterns draw on good or mixed episodes, unsafe ones on
//     problematic or mixed episodes, preferring episodes whose factors
//     typically lie behind the pattern (e.g. P2.3 Supervision on FL.TEAM.02).
//     Good episodes carry factors that supported_good, problematic ones
//     factors that made_problematic_more_likely; mixed episodes carry both.
//   - A repeated lesson: P6.1 (Failure to review judgements and plans), unsafe,
//     in 60% of reviews (30% of positive reviews) across every board and
//     year, usually among the top three priorities.
//
// About 8% of patterns are a proposed_sub_pattern in words instead of a listed
// one. docs/demo-data.md describes the set for people.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// Defaults and limits of Options.
const (
	DefaultReviews   = 2000
	MaxReviews       = 200_000
	DefaultFirstYear = 2014
	DefaultLastYear  = 2025
)

// Options says what to generate. Zero values take the defaults.
type Options struct {
	Reviews   int                // how many reviews; DefaultReviews when 0, at most MaxReviews
	Seed      int64              // the same seed gives the same set
	FirstYear int                // first completion year; DefaultFirstYear when 0
	LastYear  int                // last completion year; DefaultLastYear when 0
	Geography *schemas.Geography // the embedded geography when nil
	Frame     *schemas.Frame     // the default built-in frame when nil
	Pretty    bool               // WriteDir indents the JSON
}

// Generator makes the exports of one demo set. It is safe for concurrent use.
type Generator struct {
	opts   Options
	years  int
	places []place
	// placeCum and yearCum weight the draws after the round-robin.
	placeCum []float64
	yearCum  []float64

	frame   *schemas.Frame
	factors []factor
	// tables[(region*years+year)*2+class] is the cumulative weight of every
	// factor; class 0 is good practice, 1 problematic.
	tables  [][]float64
	regions int

	subPatterns []patternNode
	subCum      []float64
	p61         int // index in subPatterns of P6.1, or -1
	types       []schemas.FlatNode
}

type place struct {
	schemas.Place
	region int
	nation int // nation index for wording
}

type factor struct {
	code    string
	detail  [2][]string // good, problematic
	partner int         // factor added alongside with pairProbability, or -1
}

type patternNode struct {
	node schemas.FlatNode
	typ  string
	info patternInfo
	// factors are indexes into Generator.factors typically behind the pattern.
	factors []int
}

// New checks the options and prepares the tables a set is drawn from.
func New(opts Options) (*Generator, error) {
	if opts.Reviews == 0 {
		opts.Reviews = DefaultReviews
	}
	if opts.FirstYear == 0 {
		opts.FirstYear = DefaultFirstYear
	}
	if opts.LastYear == 0 {
		opts.LastYear = DefaultLastYear
	}
	switch {
	case opts.Reviews < 0 || opts.Reviews > MaxReviews:
		return nil, fmt.Errorf("demo: %d reviews asked for; give between 1 and %d", opts.Reviews, MaxReviews)
	case opts.FirstYear < 1990 || opts.LastYear > 2100 || opts.FirstYear > opts.LastYear:
		return nil, fmt.Errorf("demo: years %d to %d; give a range within 1990 to 2100, first year first", opts.FirstYear, opts.LastYear)
	}
	if opts.Geography == nil {
		opts.Geography = schemas.LoadGeography()
	}
	if opts.Frame == nil {
		opts.Frame = defaultFrame()
	}
	g := &Generator{opts: opts, years: opts.LastYear - opts.FirstYear + 1, frame: opts.Frame, p61: -1}

	regionIndex := map[string]int{}
	var regionCodes []string
	var weights []float64
	for _, p := range opts.Geography.Places() {
		ri, ok := regionIndex[p.Region]
		if !ok {
			ri = len(regionCodes)
			regionIndex[p.Region] = ri
			regionCodes = append(regionCodes, p.Region)
		}
		g.places = append(g.places, place{Place: p, region: ri, nation: nationIndex(p.Nation)})
		weights = append(weights, boardWeight(p.Board))
	}
	if len(g.places) == 0 {
		return nil, fmt.Errorf("demo: the geography has no boards")
	}
	g.regions = len(regionCodes)
	g.placeCum = cumulative(weights)
	yw := make([]float64, g.years)
	for y := range yw {
		yw[y] = 1 + 0.04*float64(y)
	}
	g.yearCum = cumulative(yw)

	g.prepareFactors()
	if len(g.factors) == 0 {
		return nil, fmt.Errorf("demo: frame %s has no factors", g.frame.Key())
	}
	g.prepareTables(regionCodes)
	g.preparePatterns()
	return g, nil
}

func defaultFrame() *schemas.Frame {
	frames := schemas.BuiltinFrames()
	for _, f := range frames {
		if f.ID == schemas.DefaultFrameID && f.Version == schemas.DefaultFrameVersion {
			return f
		}
	}
	return frames[0]
}

// boardWeight makes large areas review more often than small ones.
func boardWeight(board string) float64 {
	i := strings.LastIndexByte(board, '-')
	switch board[i+1:] {
	case "KEN", "ESS", "HAM", "LAN", "BIR", "SRY", "HRT", "NFK", "LDS", "GLG", "EDH", "NYK", "DBY", "STS", "NTT", "DEV", "BEL":
		return 3
	case "IOS", "LND", "RUT", "ORK", "ZET", "ELS":
		return 0.25
	}
	return 1
}

func (g *Generator) prepareFactors() {
	index := map[string]int{}
	for _, n := range g.frame.Flat(schemas.TreeFactor) {
		if !n.Leaf {
			continue
		}
		d, ok := factorDetails[n.Code]
		if !ok {
			d = fallbackDetail(g.frame, n)
		}
		index[n.Code] = len(g.factors)
		g.factors = append(g.factors, factor{code: n.Code, detail: [2][]string{d.good, d.problematic}, partner: -1})
	}
	for _, p := range pairs {
		a, aok := index[p.code]
		b, bok := index[p.partner]
		if aok && bok {
			g.factors[a].partner = b
		}
	}
}

// fallbackDetail words a detail from the factor's label and type.
func fallbackDetail(f *schemas.Frame, n schemas.FlatNode) factorDetail {
	label := n.Label
	if i := strings.IndexAny(label, ":;("); i > 0 {
		label = strings.TrimSpace(label[:i])
	}
	label = lowerFirst(label)
	t, ok := factorDetail{}, false
	for _, a := range f.Ancestors(schemas.TreeFactor, n.Code) {
		if t, ok = typeDetails[a]; ok {
			break
		}
	}
	if !ok {
		t = typeDetails[""]
	}
	sub := func(xs []string) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = strings.ReplaceAll(x, "{label}", label)
		}
		return out
	}
	return factorDetail{sub(t.good), sub(t.problematic)}
}

func (g *Generator) prepareTables(regionCodes []string) {
	g.tables = make([][]float64, g.regions*g.years*2)
	w := make([]float64, len(g.factors))
	for r, region := range regionCodes {
		for y := 0; y < g.years; y++ {
			for class := 0; class < 2; class++ {
				for i, f := range g.factors {
					base, ok := factorWeights[f.code]
					if !ok {
						base = [2]float64{defaultFactorWeight, defaultFactorWeight}
					}
					w[i] = base[class] * g.multiplier(f.code, region, y)
				}
				g.tables[(r*g.years+y)*2+class] = cumulative(w)
			}
		}
	}
}

// multiplier is the planted effect on a factor's weight in a region and year
// (y counts from FirstYear).
func (g *Generator) multiplier(code, region string, y int) float64 {
	m := 1.0
	for _, e := range regionEffects {
		if e.code == code && (region == e.region || strings.HasPrefix(region, e.region+"-")) {
			m *= e.factor
		}
	}
	frac := 0.0
	if g.years > 1 {
		frac = float64(y) / float64(g.years-1)
	}
	for _, t := range trends {
		if t.code != code {
			continue
		}
		switch {
		case t.lastYears > 0:
			if y >= g.years-t.lastYears {
				m *= t.to
			}
		default:
			m *= t.from + (t.to-t.from)*frac
		}
	}
	return m
}

func (g *Generator) preparePatterns() {
	if g.frame.Patterns == nil {
		return
	}
	factorIndex := map[string]int{}
	for i, f := range g.factors {
		factorIndex[f.code] = i
	}
	var w []float64
	for _, n := range g.frame.Flat(schemas.TreePattern) {
		if n.Depth == 1 {
			g.types = append(g.types, n)
			continue
		}
		anc := g.frame.Ancestors(schemas.TreePattern, n.Code)
		info, ok := patternInfos[n.Code]
		if !ok {
			label := lowerFirst(n.Label)
			info = patternInfo{topic: label, constructive: true,
				unsafe:   "In this case " + label + " made problematic practice more likely.",
				positive: "In this case " + label + " supported good practice."}
		}
		pn := patternNode{node: n, typ: anc[len(anc)-1], info: info}
		for _, c := range info.factors {
			if i, ok := factorIndex[c]; ok {
				pn.factors = append(pn.factors, i)
			}
		}
		if n.Code == p61Code {
			g.p61 = len(g.subPatterns)
		}
		g.subPatterns = append(g.subPatterns, pn)
		weight := 2.0
		if n.Depth > 2 {
			weight = 1
		}
		if n.Code == p61Code {
			weight = 0 // planted separately
		}
		w = append(w, weight)
	}
	if len(g.subPatterns) > 0 {
		g.subCum = cumulative(w)
	}
}

// Len is the number of reviews in the set.
func (g *Generator) Len() int { return g.opts.Reviews }

// Generate makes the set's exports one at a time, in order, and hands each to
// fn; it stops at fn's first error and returns it. The export is fn's to keep.
func Generate(opts Options, fn func(i int, e *ingest.Export) error) error {
	g, err := New(opts)
	if err != nil {
		return err
	}
	for i := 0; i < g.opts.Reviews; i++ {
		if err := fn(i, g.Export(i)); err != nil {
			return err
		}
	}
	return nil
}

// WriteDir writes the set to dir, one JSON file per review named after the
// review ID, creating dir if needed and replacing files of the same name. It
// uses every available CPU; the files do not depend on how many there are.
// It returns how many files were written.
func WriteDir(ctx context.Context, dir string, opts Options) (int, error) {
	g, err := New(opts)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	var (
		written  atomic.Int64
		next     atomic.Int64
		failed   atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= g.opts.Reviews {
					return
				}
				if err := g.writeOne(dir, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				written.Add(1)
			}
		})
	}
	wg.Wait()
	n := int(written.Load())
	if firstErr != nil {
		return n, firstErr
	}
	if n < g.opts.Reviews {
		return n, fmt.Errorf("demo: stopped after %d of %d reviews: %w", n, g.opts.Reviews, ctx.Err())
	}
	return n, nil
}

func (g *Generator) writeOne(dir string, i int) error {
	e := g.Export(i)
	var b []byte
	var err error
	if g.opts.Pretty {
		b, err = json.MarshalIndent(e, "", "  ")
	} else {
		b, err = json.Marshal(e)
	}
	if err != nil {
		return fmt.Errorf("demo: review %d: %w", i, err)
	}
	b = append(b, '\n')
	name := filepath.Join(dir, e.Review.ID+".json")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// FileName is the name WriteDir gives review i's file.
func (g *Generator) FileName(i int) string { return g.Export(i).Review.ID + ".json" }

var kindAbbr = map[string]string{
	ingest.KindStatutory: "CSPR", ingest.KindRoutine: "RPR", ingest.KindInnovation: "INR", ingest.KindPositive: "PPR",
}

// Export makes review i of the set (0 ≤ i < Len).
func (g *Generator) Export(i int) *ingest.Export {
	r := newRNG(g.opts.Seed, i)
	var p place
	var y int
	if nb := len(g.places); i < nb*g.years {
		// Round-robin over (board, year): board b's k-th review is in year
		// (b + k) mod years, so every board appears within the first pass and
		// in every year within the first boards × years reviews.
		b := i % nb
		p = g.places[b]
		y = (b + i/nb) % g.years
	} else {
		p = g.places[r.weighted(g.placeCum)]
		y = r.weighted(g.yearCum)
	}
	year := g.opts.FirstYear + y
	kind := drawKind(&r)
	b := builder{g: g, r: &r, place: p, yearIdx: y, kind: kind}
	b.family()
	e := &ingest.Export{Format: schemas.ExportFormat}
	b.episodes(e)
	b.patterns(e)
	b.recommendations(e)
	b.review(e, i, year)
	return e
}

func drawKind(r *rng) string {
	x := r.float()
	switch {
	case x < 0.70:
		return ingest.KindStatutory
	case x < 0.84:
		return ingest.KindRoutine
	case x < 0.92:
		return ingest.KindInnovation
	}
	return ingest.KindPositive
}

func reviewID(board string, year int, kind string, i int) string {
	n := strconv.Itoa(i + 1)
	if len(n) < 6 {
		n = strings.Repeat("0", 6-len(n)) + n
	}
	return board + "-" + strconv.Itoa(year) + "-" + kindAbbr[kind] + "-" + n
}
