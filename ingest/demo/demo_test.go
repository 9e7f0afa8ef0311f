package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
	"github.com/collate-project/collate/schemas"
)

// mustGenerate collects a small set; tests keep sets small enough to hold.
func mustGenerate(t *testing.T, opts demo.Options) []*ingest.Export {
	t.Helper()
	var out []*ingest.Export
	if err := demo.Generate(opts, func(i int, e *ingest.Export) error {
		if i != len(out) {
			t.Fatalf("review %d handed over out of order", i)
		}
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func marshalAll(t *testing.T, es []*ingest.Export) [][]byte {
	t.Helper()
	out := make([][]byte, len(es))
	for i, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestDeterministic(t *testing.T) {
	opts := demo.Options{Reviews: 120, Seed: 42}
	a := marshalAll(t, mustGenerate(t, opts))
	b := marshalAll(t, mustGenerate(t, opts))
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("review %d differs between two runs with the same seed", i)
		}
	}
	// Any review can be made alone, in any order.
	g, err := demo.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{119, 7, 0, 64} {
		one := marshalAll(t, []*ingest.Export{g.Export(i)})[0]
		if !bytes.Equal(one, a[i]) {
			t.Errorf("review %d made alone differs from the same review made in sequence", i)
		}
	}
	// Another seed gives another set.
	c := marshalAll(t, mustGenerate(t, demo.Options{Reviews: 120, Seed: 43}))
	same := 0
	for i := range a {
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of %d reviews identical under seeds 42 and 43", same, len(a))
	}
}

func TestWriteDir(t *testing.T) {
	opts := demo.Options{Reviews: 60, Seed: 7}
	g, err := demo.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	read := func(dir string) map[string][]byte {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
		return out
	}
	// The files must not depend on how many workers wrote them.
	var sets []map[string][]byte
	for _, procs := range []int{1, 4} {
		t.Run("procs="+string(rune('0'+procs)), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			dir := filepath.Join(t.TempDir(), "out")
			n, err := demo.WriteDir(context.Background(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if n != opts.Reviews {
				t.Fatalf("wrote %d files, want %d", n, opts.Reviews)
			}
			sets = append(sets, read(dir))
		})
	}
	if len(sets) != 2 || len(sets[0]) != opts.Reviews {
		t.Fatalf("want two sets of %d files", opts.Reviews)
	}
	for i := 0; i < opts.Reviews; i++ {
		e := g.Export(i)
		name := e.Review.ID + ".json"
		if g.FileName(i) != name {
			t.Errorf("FileName(%d) = %s, want %s", i, g.FileName(i), name)
		}
		want, _ := json.Marshal(e)
		want = append(want, '\n')
		for k, set := range sets {
			if !bytes.Equal(set[name], want) {
				t.Errorf("set %d: %s is not review %d as Export makes it", k, name, i)
			}
		}
	}

	t.Run("pretty", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := demo.WriteDir(context.Background(), dir, demo.Options{Reviews: 3, Seed: 7, Pretty: true}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, g.FileName(0)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("\n  \"review\": {")) {
			t.Errorf("pretty file is not indented:\n%.200s", b)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n, err := demo.WriteDir(ctx, t.TempDir(), demo.Options{Reviews: 50})
		if err == nil || n == 50 {
			t.Errorf("WriteDir on a cancelled context wrote %d files, err %v; want an error", n, err)
		}
	})
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts demo.Options
		want string // error substring; "" for valid
	}{
		{"defaults", demo.Options{}, ""},
		{"largest", demo.Options{Reviews: demo.MaxReviews}, ""},
		{"too many", demo.Options{Reviews: demo.MaxReviews + 1}, "between 1 and 200000"},
		{"negative", demo.Options{Reviews: -1}, "between 1 and 200000"},
		{"years reversed", demo.Options{FirstYear: 2020, LastYear: 2019}, "first year first"},
		{"impossible year", demo.Options{FirstYear: 1980, LastYear: 1995}, "within 1990 to 2100"},
		{"empty geography", demo.Options{Geography: &schemas.Geography{}}, "no boards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := demo.New(tc.opts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New error = %v, want one containing %q", err, tc.want)
			case tc.want == "" && tc.opts.Reviews == 0 && g.Len() != demo.DefaultReviews:
				t.Errorf("Len() = %d, want the default %d", g.Len(), demo.DefaultReviews)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	geo := schemas.LoadGeography()
	places := geo.Places()
	nYears := demo.DefaultLastYear - demo.DefaultFirstYear + 1
	for _, tc := range []struct {
		name        string
		reviews     int
		everyYearOf bool // every board in every year, not just every board and every year
	}{
		{"one per board", len(places), false},
		{"boards times years", len(places) * nYears, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := mustGenerate(t, demo.Options{Reviews: tc.reviews, Seed: 3})
			boardYears := map[string]map[int]bool{}
			years := map[int]bool{}
			kinds := map[string]int{}
			ids := map[string]bool{}
			for _, e := range es {
				rv := e.Review
				if ids[rv.ID] {
					t.Errorf("review ID %s used twice", rv.ID)
				}
				ids[rv.ID] = true
				p, ok := geo.Board(rv.Board)
				if !ok || p.Region != rv.Region || p.Nation != rv.Nation {
					t.Errorf("review %s: board %s, region %s, nation %s do not match the geography", rv.ID, rv.Board, rv.Region, rv.Nation)
				}
				if boardYears[rv.Board] == nil {
					boardYears[rv.Board] = map[int]bool{}
				}
				boardYears[rv.Board][rv.Completed.Year] = true
				years[rv.Completed.Year] = true
				kinds[rv.Kind]++
			}
			for _, p := range places {
				switch {
				case len(boardYears[p.Board]) == 0:
					t.Errorf("board %s has no review", p.Board)
				case tc.everyYearOf && len(boardYears[p.Board]) != nYears:
					t.Errorf("board %s has reviews in %d years, want all %d", p.Board, len(boardYears[p.Board]), nYears)
				}
			}
			if len(years) < 10 || len(years) != nYears {
				t.Errorf("reviews span %d years, want %d", len(years), nYears)
			}
			for _, k := range ingest.ReviewKinds {
				if kinds[k] == 0 {
					t.Errorf("no review of kind %s", k)
				}
			}
			if kinds[ingest.KindStatutory] < len(es)/2 {
				t.Errorf("%d of %d reviews statutory; want most", kinds[ingest.KindStatutory], len(es))
			}
		})
	}
}

func TestSizesAndShape(t *testing.T) {
	es := mustGenerate(t, demo.Options{Reviews: 600, Seed: 11})
	seen := map[string]int{}
	count := func(what string) { seen[what]++ }
	for _, e := range es {
		id := e.Review.ID
		if n := len(e.Episodes); n < 10 || n > 30 {
			t.Errorf("%s: %d episodes, want 10-30", id, n)
		}
		if n := len(e.Patterns); n < 5 || n > 15 {
			t.Errorf("%s: %d patterns, want 5-15", id, n)
		}
		if n := len(e.Recommendations); n < 5 || n > 20 {
			t.Errorf("%s: %d recommendations, want 5-20", id, n)
		}
		adequacy := map[int]string{}
		for i, ep := range e.Episodes {
			if ep.Number != i+1 {
				t.Errorf("%s: episode %d numbered %d", id, i+1, ep.Number)
			}
			adequacy[ep.Number] = ep.Adequacy
			count("adequacy " + ep.Adequacy)
			if n := len(ep.Factors); n < 2 || n > 8 {
				t.Errorf("%s episode %d: %d factors, want 2-8", id, ep.Number, n)
			}
			codes := map[string]bool{}
			for _, f := range ep.Factors {
				if codes[f.Code] {
					t.Errorf("%s episode %d: factor %s twice", id, ep.Number, f.Code)
				}
				codes[f.Code] = true
				// Good practice is linked to supporting factors, problematic to the rest.
				switch {
				case ep.Adequacy == ingest.AdequacyGood && f.Influence != ingest.InfluenceGood,
					ep.Adequacy == ingest.AdequacyProblematic && f.Influence != ingest.InfluenceProblematic:
					t.Errorf("%s episode %d (%s): factor %s %s", id, ep.Number, ep.Adequacy, f.Code, f.Influence)
				}
			}
			for _, s := range []string{ep.Title, ep.Description, ep.Significance} {
				if strings.Contains(s, "{") {
					t.Errorf("%s episode %d: unfilled slot in %q", id, ep.Number, s)
				}
			}
		}
		for _, p := range e.Patterns {
			count("nature " + p.Nature)
			if p.ProposedSubPattern != "" {
				count("proposed")
			}
			for _, n := range p.Episodes {
				a := adequacy[n]
				if p.Nature == ingest.NatureConstructive && a != ingest.AdequacyGood && a != ingest.AdequacyMixed ||
					p.Nature == ingest.NatureUnsafe && a != ingest.AdequacyProblematic && a != ingest.AdequacyMixed {
					t.Errorf("%s pattern %d (%s) draws on episode %d judged %s", id, p.Number, p.Nature, n, a)
				}
			}
		}
		for _, r := range e.Recommendations {
			count("kind " + string(rune('0'+r.Kind)))
			count("level " + r.Level)
			if strings.Contains(r.Text, "{") {
				t.Errorf("%s recommendation %d: unfilled slot in %q", id, r.Number, r.Text)
			}
		}
		rv := e.Review
		count("family " + rv.FamilyParticipation)
		count("method " + rv.Coding.Method)
		if rv.Coding.SecondCoderAgreement != nil {
			count("agreement")
		}
		if rv.DialogueStages != nil {
			count("stages")
		}
		if rv.Completed.Month == nil {
			count("no month")
		}
	}
	for _, what := range []string{
		"adequacy good", "adequacy problematic", "adequacy mixed", "adequacy not_judged",
		"nature constructive", "nature unsafe", "proposed",
		"kind 1", "kind 2", "kind 3", "level local", "level regional", "level national",
		"family yes", "family no", "family not_recorded", "method human", "method machine_assisted",
		"agreement", "stages", "no month",
	} {
		if seen[what] == 0 {
			t.Errorf("no %s in 600 reviews", what)
		}
	}
}

// TestValidates passes a sample of every kind through the real validator.
func TestValidates(t *testing.T) {
	v, err := ingest.NewValidator(ingest.ValidatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The same validator refuses a demo export with a phone number added, so a
	// pass below means something.
	g, err := demo.New(demo.Options{Reviews: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	bad := g.Export(0)
	bad.Episodes[0].Description += " The family could be reached on 07700 900123."
	b, _ := json.Marshal(bad)
	if _, err := v.Validate("bad.json", b); err == nil || !strings.Contains(err.Error(), "/episodes/0/description") {
		t.Fatalf("validator accepted a phone number in an episode description (error %v)", err)
	}
	for _, pretty := range []bool{false, true} {
		err := demo.Generate(demo.Options{Reviews: 300, Seed: 5}, func(i int, e *ingest.Export) error {
			var b []byte
			if pretty {
				b, _ = json.MarshalIndent(e, "", "  ")
			} else {
				b, _ = json.Marshal(e)
			}
			if _, err := v.Validate(e.Review.ID+".json", b); err != nil {
				t.Errorf("review %d does not validate: %v", i, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPlantedSignals checks that each documented signal can be found by
// counting, as the analytics will.
func TestPlantedSignals(t *testing.T) {
	es := mustGenerate(t, demo.Options{Reviews: 4000, Seed: 1})

	// share counts episodes where code is coded, among episodes matching in.
	share := func(code string, in func(e *ingest.Export) bool) float64 {
		var n, hit int
		for _, e := range es {
			if !in(e) {
				continue
			}
			for _, ep := range e.Episodes {
				n++
				for _, f := range ep.Factors {
					if f.Code == code {
						hit++
						break
					}
				}
			}
		}
		if n == 0 {
			t.Fatalf("no episodes to count %s in", code)
		}
		return float64(hit) / float64(n)
	}
	region := func(r string) func(*ingest.Export) bool {
		return func(e *ingest.Export) bool { return e.Review.Region == r || e.Review.Nation == r }
	}
	not := func(f func(*ingest.Export) bool) func(*ingest.Export) bool {
		return func(e *ingest.Export) bool { return !f(e) }
	}
	years := func(lo, hi int) func(*ingest.Export) bool {
		return func(e *ingest.Export) bool { return e.Review.Completed.Year >= lo && e.Review.Completed.Year <= hi }
	}
	first, last := demo.DefaultFirstYear, demo.DefaultLastYear

	for _, tc := range []struct {
		name     string
		code     string
		in, base func(*ingest.Export) bool
		minRatio float64
	}{
		{"workload in London", "FL.WORK.03", region("ENG-LDN"), not(region("ENG-LDN")), 2.5},
		{"service gaps in Wales", "LS.RES.03", region("WLS"), not(region("WLS")), 2.5},
		{"frequency of contact in the north of Scotland", "FL.ROLE.01", region("SCT-N"), not(region("SCT-N")), 2},
		{"ICT systems rising", "NG.POL.04", years(last-2, last), years(first, first+2), 3},
		{"information sharing in the last four years", "FL.IA.04", years(last-3, last), years(first, last-4), 1.8},
		{"thresholds falling", "LS.ORG.04", years(first, first+2), years(last-2, last), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := share(tc.code, tc.in), share(tc.code, tc.base)
			t.Logf("%s: %.3f against %.3f (×%.2f)", tc.code, a, b, a/b)
			if a < tc.minRatio*b {
				t.Errorf("%s in %.3f of episodes against %.3f elsewhere; want at least ×%g", tc.code, a, b, tc.minRatio)
			}
		})
	}

	// The rise of NG.POL.04 is steady: every year above the one three years before.
	for y := first + 3; y <= last; y++ {
		if a, b := share("NG.POL.04", years(y, y)), share("NG.POL.04", years(y-3, y-3)); a <= b {
			t.Errorf("NG.POL.04 in %.3f of episodes in %d, not above %.3f in %d", a, y, b, y-3)
		}
	}

	for _, p := range [][2]string{{"FL.WORK.03", "FL.TEAM.02"}, {"FL.FAM.05", "FL.FAM.04"}} {
		t.Run("pair "+p[0]+" "+p[1], func(t *testing.T) {
			var with, withHit, without, withoutHit int
			for _, e := range es {
				for _, ep := range e.Episodes {
					var a, b bool
					for _, f := range ep.Factors {
						a = a || f.Code == p[0]
						b = b || f.Code == p[1]
					}
					if a {
						with++
						if b {
							withHit++
						}
					} else {
						without++
						if b {
							withoutHit++
						}
					}
				}
			}
			pWith, pWithout := float64(withHit)/float64(with), float64(withoutHit)/float64(without)
			t.Logf("P(%s | %s) = %.3f, otherwise %.3f", p[1], p[0], pWith, pWithout)
			if pWith < 0.6 || pWith < 4*pWithout {
				t.Errorf("P(%s | %s) = %.3f against %.3f otherwise; want at least 0.6 and ×4", p[1], p[0], pWith, pWithout)
			}
		})
	}

	t.Run("repeated lesson P6.1", func(t *testing.T) {
		var with int
		nations, yrs := map[string]bool{}, map[int]bool{}
		for _, e := range es {
			for _, p := range e.Patterns {
				if p.SubPattern == "P6.1" {
					if p.Nature != ingest.NatureUnsafe {
						t.Errorf("%s: P6.1 is %s", e.Review.ID, p.Nature)
					}
					with++
					nations[e.Review.Nation] = true
					yrs[e.Review.Completed.Year] = true
					break
				}
			}
		}
		share := float64(with) / float64(len(es))
		t.Logf("P6.1 in %.3f of reviews", share)
		if share < 0.5 || share > 0.65 {
			t.Errorf("P6.1 in %.3f of reviews; want about 0.57 (0.6, and 0.3 in positive reviews)", share)
		}
		if len(nations) != 4 || len(yrs) != last-first+1 {
			t.Errorf("P6.1 in %d nations and %d years; want every one", len(nations), len(yrs))
		}
	})

	t.Run("constructive patterns", func(t *testing.T) {
		byKind := map[string][2]int{}
		for _, e := range es {
			c := byKind[e.Review.Kind]
			for _, p := range e.Patterns {
				c[1]++
				if p.Nature == ingest.NatureConstructive {
					c[0]++
				}
			}
			byKind[e.Review.Kind] = c
		}
		st, pos := byKind[ingest.KindStatutory], byKind[ingest.KindPositive]
		fst, fpos := float64(st[0])/float64(st[1]), float64(pos[0])/float64(pos[1])
		t.Logf("constructive: %.3f of statutory reviews' patterns, %.3f of positive ones'", fst, fpos)
		if fst < 0.1 || fpos < 2*fst {
			t.Errorf("constructive share %.3f (statutory) and %.3f (positive); want some, and positive reviews at least twice as many", fst, fpos)
		}
	})
}

func TestPlantedSignalsInFrame(t *testing.T) {
	f := schemas.BuiltinFrames()[0]
	for _, s := range demo.PlantedSignals() {
		tree := schemas.TreeFactor
		if s.Kind == "pattern" {
			tree = schemas.TreePattern
		}
		for _, code := range []string{s.Code, s.Partner} {
			if code == "" {
				continue
			}
			if _, ok := f.Lookup(tree, code); !ok {
				t.Errorf("signal %q names %s, which the default frame does not have", s.Description, code)
			}
		}
		if s.Where != "" {
			found := slices.ContainsFunc(schemas.LoadGeography().Places(), func(p schemas.Place) bool {
				return p.Region == s.Where || p.Nation == s.Where
			})
			if !found {
				t.Errorf("signal %q names place %s, which the geography does not have", s.Description, s.Where)
			}
		}
	}
}

// BenchmarkGenerate measures generation alone and generation with JSON encoding.
func BenchmarkGenerate(b *testing.B) {
	g, err := demo.New(demo.Options{Reviews: demo.MaxReviews, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("export", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			g.Export(i % demo.MaxReviews)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reviews/s")
	})
	b.Run("export+json", func(b *testing.B) {
		var bytes int
		for i := 0; b.Loop(); i++ {
			out, _ := json.Marshal(g.Export(i % demo.MaxReviews))
			bytes += len(out)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reviews/s")
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/review")
	})
}
