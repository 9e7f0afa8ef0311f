package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// queryForm is what a researcher asked on the Query page.
type queryForm struct {
	What     string // episodes, recommendations, pattern_instances, factors, patterns or reviews
	Text     string
	Code     string
	With     string
	Adequacy string
	Tree     string
	RecKind  string // recommendations: 1, 2 or 3
	Level    string // recommendations: local, regional or national
	PType    string // recommendations: linked to a pattern of this type
	Pattern  string // pattern instances: a type, sub-pattern or detail
	Nature   string // pattern instances: constructive or unsafe
	Before   int64  // where a stopped text search goes on
	Format   string // "" (the page) or parquet
}

type queryPage struct {
	Base
	Form        queryForm
	Whats       []collectionOption
	Adequacy    []collectionOption
	Codes       []collectionOption
	RecKinds    []collectionOption
	Levels      []collectionOption
	PTypes      []collectionOption
	Patterns    []collectionOption
	Natures     []collectionOption
	Note        string
	Results     *Table
	Episodes    *analytics.EpisodePage
	Total       int
	TotalText   string // "23 results", or "more than 1,000 results found so far"
	Facets      []facet
	Pager       pager
	ContinueURL string // searches the older reviews where a text search stopped
	CSVHref     string
	JSONHref    string
	ParquetHref string
}

var queryWhats = []collectionOption{
	{Value: "episodes", Label: "Key practice episodes"},
	{Value: "recommendations", Label: "Recommendations (their text)"},
	{Value: "pattern_instances", Label: "Patterns found in reviews (their summaries)"},
	{Value: "factors", Label: "Contributory factors (the frame)"},
	{Value: "patterns", Label: "Patterns (the typology)"},
	{Value: "reviews", Label: "Reviews and their recommendations"},
}

var recKindOptions = []collectionOption{{Value: "", Label: "Any"}, {Value: "1", Label: "1: local response"},
	{Value: "2", Label: "2: a question for the system"}, {Value: "3", Label: "3: further work needed"}}

var levelOptions = []collectionOption{{Value: "", Label: "Any"}, {Value: "local", Label: "Local"}, {Value: "regional", Label: "Regional"},
	{Value: "national", Label: "National"}}

var natureOptions = []collectionOption{{Value: "", Label: "Any"}, {Value: "constructive", Label: "Constructive"}, {Value: "unsafe", Label: "Unsafe"}}

// choose marks the option with value v as selected.
func choose(opts []collectionOption, v string) []collectionOption {
	out := make([]collectionOption, len(opts))
	for i, o := range opts {
		o.Selected = o.Value == v
		out[i] = o
	}
	return out
}

var adequacies = []collectionOption{{Value: "", Label: "Any"}, {Value: "good", Label: "Good"}, {Value: "problematic", Label: "Problematic"},
	{Value: "mixed", Label: "Mixed"}, {Value: "not_judged", Label: "Not judged"}}

func readQueryForm(c *gin.Context) (queryForm, error) {
	// Until something is asked the page lists the factors, which is quick;
	// a search over every episode of the UK is slow and says little.
	f := queryForm{What: c.DefaultQuery("what", "factors"), Text: strings.TrimSpace(c.Query("q")), Code: c.Query("code"),
		With: c.Query("with"), Adequacy: c.Query("adequacy"), Tree: c.DefaultQuery("tree", analytics.TreeFactor),
		RecKind: c.Query("kind"), Level: c.Query("level"), PType: c.Query("pattern_type"), Pattern: c.Query("pattern"),
		Nature: c.Query("nature"), Format: c.Query("format")}
	ok := false
	for _, w := range queryWhats {
		ok = ok || w.Value == f.What
	}
	if !ok {
		return f, errs.E(errs.Invalid, "what must be episodes, recommendations, pattern_instances, factors, patterns or reviews, not %q", f.What)
	}
	for _, code := range []string{f.Code, f.With, f.PType, f.Pattern} {
		if code != "" && !codePattern.MatchString(code) {
			return f, errs.E(errs.Invalid, "%q is not a frame code", code)
		}
	}
	// Filters are checked where they apply (analytics checks adequacy).
	checks := []struct {
		name, v string
		opts    []collectionOption
	}{{"kind", f.RecKind, recKindOptions}, {"level", f.Level, levelOptions}}
	switch f.What {
	case "recommendations":
	case "pattern_instances":
		checks = []struct {
			name, v string
			opts    []collectionOption
		}{{"nature", f.Nature, natureOptions}}
	default:
		checks = nil
	}
	for _, x := range checks {
		found := false
		for _, o := range x.opts {
			found = found || o.Value == x.v
		}
		if !found {
			return f, errs.E(errs.Invalid, "%s %q is not one of the choices offered", x.name, x.v)
		}
	}
	if f.Format != "" && f.Format != formatParquet {
		return f, errs.E(errs.Invalid, "format must be parquet (or left out for the page), not %q", f.Format)
	}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return f, errs.E(errs.Invalid, "before must be the position a search gave, not %q", b)
		}
		f.Before = n
	}
	if f.Tree != analytics.TreeFactor && f.Tree != analytics.TreePattern {
		return f, errs.E(errs.Invalid, "tree must be factor or pattern")
	}
	if len(f.Text) > 200 {
		return f, errs.E(errs.Invalid, "search text is limited to 200 characters")
	}
	if !utf8.ValidString(f.Text) {
		return f, errs.E(errs.Invalid, "search text is not valid UTF-8")
	}
	return f, nil
}

// handleQuery is the researchers' faceted search: episodes (by factor,
// co-cited factor, adequacy and words), recommendations (by kind, level,
// linked pattern type and words in their text), pattern instances (by
// pattern, nature and words in their summaries), factors and patterns (by
// words in their labels, with their figures), and reviews (by words in their
// questions and recommendations). Every result comes from analytics, so
// scope and suppression hold here too. Episodes, recommendations and pattern
// instances download as CSV (the page) or Parquet (up to
// analytics.MaxDownloadRows rows).
func (s *Server) handleQuery(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	form, err := readQueryForm(c)
	if err != nil {
		return err
	}
	page, err := pageNumber(c)
	if err != nil {
		return err
	}
	if form.Format == formatParquet {
		return s.queryParquet(c, r, form)
	}
	ctx := c.Request.Context()
	vm := queryPage{Base: s.base(c, "Query"), Form: form, Whats: choose(queryWhats, form.What), Adequacy: choose(adequacies, form.Adequacy),
		RecKinds: choose(recKindOptions, form.RecKind), Levels: choose(levelOptions, form.Level), Natures: choose(natureOptions, form.Nature)}
	vm.Codes = append(vm.Codes, collectionOption{Value: "", Label: "Any factor"})
	vm.PTypes = append(vm.PTypes, collectionOption{Value: "", Label: "Any pattern type"})
	vm.Patterns = append(vm.Patterns, collectionOption{Value: "", Label: "Any pattern"})
	if r.frame != nil {
		for _, n := range r.frame.Factors {
			vm.Codes = append(vm.Codes, collectionOption{Value: n.Code, Label: strings.Repeat("— ", n.Depth-1) + nodeLabel(n), Selected: n.Code == form.Code})
		}
		for _, n := range r.frame.Patterns {
			if n.Depth == 1 {
				vm.PTypes = append(vm.PTypes, collectionOption{Value: n.Code, Label: nodeLabel(n), Selected: n.Code == form.PType})
			}
			if n.Depth <= 2 {
				vm.Patterns = append(vm.Patterns, collectionOption{Value: n.Code, Label: strings.Repeat("— ", n.Depth-1) + nodeLabel(n), Selected: n.Code == form.Pattern})
			}
		}
	}
	keep := []string{"what", form.What, "q", form.Text, "code", form.Code, "with", form.With, "adequacy", form.Adequacy,
		"kind", form.RecKind, "level", form.Level, "pattern_type", form.PType, "pattern", form.Pattern, "nature", form.Nature}
	if form.Before > 0 {
		keep = append(keep, "before", strconv.FormatInt(form.Before, 10))
	}
	t := &Table{ID: "query_results", Caption: "Results"}
	// searched fills what every paged search shows: the count, the pager
	// and where a stopped text search goes on.
	searched := func(total, pg, pages int, exact bool, cont int64) {
		vm.Total = total
		vm.TotalText = countText(total, exact)
		vm.Pager = r.pager(pg, pages, keep...)
		if !exact {
			vm.Pager.Pages = 0 // not known: only "next"
		}
		if cont > 0 {
			k := append(append([]string{}, keep...), "before", strconv.FormatInt(cont, 10), "page", "")
			vm.ContinueURL = r.link("/query", k...)
		}
	}
	switch form.What {
	case "episodes":
		eq := s.queryEpisodes(form, page, 20)
		eps, err := s.an.Episodes(ctx, r.v, r.sel, eq)
		if vm.Note, err = s.soft(c, "episodes", err); err != nil {
			return err
		}
		t.Columns = []Column{{Label: "Review"}, {Label: "Episode", Numeric: true}, {Label: "Year", Numeric: true}, {Label: "Board"},
			{Label: "Title"}, {Label: "Adequacy"}, {Label: "Factors"}, {Label: "Excerpt"}}
		if eps != nil {
			vm.Episodes = eps
			searched(eps.Total, eps.Page, eps.Pages, eps.TotalExact, eps.ContinueBefore)
			for _, e := range eps.Episodes {
				t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(e.ReviewID, "/reviews/"+e.ReviewID), intCell(e.Number), textCell(itoa(e.Year)),
					textCell(e.BoardName), textCell(e.Title), textCell(e.Adequacy), textCell(strings.Join(e.Factors, " ")), textCell(e.Excerpt)}})
			}
			t.Provenance = provenanceLine(eps.Provenance)
		}
		vm.JSONHref = r.link("/api/v1/episodes", "q", form.Text, "code", form.Code, "with", form.With, "adequacy", form.Adequacy)
		vm.ParquetHref = r.link("/query", append(keep, "format", formatParquet)...)
	case "recommendations":
		var rp *analytics.RecommendationPage
		x, err := s.searcher()
		if err == nil {
			rp, err = x.SearchRecommendations(ctx, r.v, r.sel, s.queryRecs(form, page))
		}
		if vm.Note, err = s.soft(c, "recommendations", err); err != nil {
			return err
		}
		if rp != nil {
			t = recommendationTable(rp, func(id string) string { return "/reviews/" + id })
			t.ID, t.Caption = "query_results", "Results"
			readableColumns(t)
			searched(rp.Total, rp.Page, rp.Pages, rp.TotalExact, rp.ContinueBefore)
			vm.Facets = s.searchFacets(r, keep, rp.Facets, rp.TotalExact)
		}
		vm.JSONHref = r.link("/api/v1/search/recommendations", "q", form.Text, "kind", form.RecKind, "level", form.Level, "pattern_type", form.PType)
		vm.ParquetHref = r.link("/query", append(keep, "format", formatParquet)...)
	case "pattern_instances":
		var pp *analytics.PatternPage
		x, err := s.searcher()
		if err == nil {
			pp, err = x.SearchPatterns(ctx, r.v, r.sel, s.queryPatterns(form, page))
		}
		if vm.Note, err = s.soft(c, "patterns", err); err != nil {
			return err
		}
		if pp != nil {
			t = patternTable(pp, func(id string) string { return "/reviews/" + id })
			t.ID, t.Caption = "query_results", "Results"
			readableColumns(t)
			searched(pp.Total, pp.Page, pp.Pages, pp.TotalExact, pp.ContinueBefore)
			vm.Facets = s.searchFacets(r, keep, pp.Facets, pp.TotalExact)
		}
		vm.JSONHref = r.link("/api/v1/search/patterns", "q", form.Text, "code", form.Pattern, "nature", form.Nature)
		vm.ParquetHref = r.link("/query", append(keep, "format", formatParquet)...)
	case "factors", "patterns":
		tree := analytics.TreeFactor
		path := "/factors/"
		if form.What == "patterns" {
			tree, path = analytics.TreePattern, ""
		}
		rec, err := s.an.Recurrence(ctx, r.v, r.sel, analytics.RecurrenceOptions{Tree: tree})
		if vm.Note, err = s.soft(c, form.What, err); err != nil {
			return err
		}
		t.Columns = []Column{{Label: "Code and label"}, {Label: "Level"}, {Label: "Reviews", Numeric: true}, {Label: "Share of reviews coded (%)", Numeric: true},
			{Label: "95% interval from (%)", Numeric: true}, {Label: "95% interval to (%)", Numeric: true}, {Label: "Episodes", Numeric: true}}
		if rec != nil {
			needle := strings.ToLower(form.Text)
			for _, row := range rec.Rows {
				if needle != "" && !strings.Contains(strings.ToLower(row.Code+" "+row.Label), needle) {
					continue
				}
				first := textCell(nodeLabel(row.Node))
				if path != "" {
					first = linkCell(first.Text, r.link(path+row.Code))
				}
				t.Rows = append(t.Rows, Row{Cells: []Cell{first, textCell(row.Level), countCell(row.Reviews), percentCell(row.Share),
					percentCell(row.Interval.Lo), percentCell(row.Interval.Hi), countCell(row.Episodes)}})
			}
			vm.Total = len(t.Rows)
			vm.TotalText = countText(vm.Total, true)
			t.Provenance = provenanceLine(rec.Provenance)
		}
		vm.JSONHref = r.link("/api/v1/recurrence", "tree", tree)
	case "reviews":
		rp, err := s.an.Reviews(ctx, r.v, r.sel, analytics.ReviewQuery{Text: form.Text, Page: page, PerPage: 25})
		if vm.Note, err = s.soft(c, "reviews", err); err != nil {
			return err
		}
		t.Columns = []Column{{Label: "Review"}, {Label: "Board"}, {Label: "Year", Numeric: true}, {Label: "Kind"}, {Label: "Recommendations", Numeric: true}}
		if rp != nil {
			vm.Total = rp.Total
			vm.TotalText = countText(rp.Total, true)
			vm.Pager = r.pager(rp.Page, rp.Pages, keep...)
			for _, rv := range rp.Reviews {
				t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(rv.ID, "/reviews/"+rv.ID), textCell(rv.BoardName), textCell(itoa(rv.Year)),
					textCell(rv.Kind), intCell(rv.Recommendations)}})
			}
			t.Provenance = provenanceLine(rp.Provenance)
		}
		vm.JSONHref = r.link("/api/v1/reviews", "q", form.Text)
	}
	if vm.TotalText == "" {
		vm.TotalText = countText(vm.Total, true)
	}
	vm.Results = t
	vm.CSVHref = withQuery(c.Request.URL.Path, c.Request.URL.Query(), "download", t.ID)
	return s.respond(c, "query", &vm, vm.Results)
}

// columnLabels name the API's columns for people.
var columnLabels = map[string]string{"review_id": "Review", "version": "Version", "year": "Year", "board": "Board code",
	"board_name": "Board", "review_kind": "Kind of review", "recommendation": "Recommendation", "kind": "Kind", "level": "Level",
	"pattern_types": "Pattern types", "excerpt": "Excerpt", "pattern": "Pattern", "type": "Type", "sub_pattern": "Sub-pattern",
	"proposed": "Proposed sub-pattern", "nature": "Nature", "priority": "Priority", "summary": "Summary", "episodes": "Episodes"}

// readableColumns relabels a table of the API's columns for the page.
func readableColumns(t *Table) {
	for i, c := range t.Columns {
		if l, ok := columnLabels[c.Label]; ok {
			t.Columns[i].Label = l
		}
	}
}

// countText says how many results were found: exactly, or as many as a
// stopped text search counted.
func countText(n int, exact bool) string {
	word := "results"
	if n == 1 {
		word = "result"
	}
	if exact {
		return fmt.Sprintf("%s %s", thousands(n), word)
	}
	if n > 1000 {
		return fmt.Sprintf("More than 1,000 results (%s counted so far)", thousands(n))
	}
	return fmt.Sprintf("%s %s found so far in the most recent reviews", thousands(n), word)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (s *Server) queryEpisodes(form queryForm, page, perPage int) analytics.EpisodeQuery {
	eq := analytics.EpisodeQuery{Tree: analytics.TreeFactor, Code: form.Code, With: form.With, Adequacy: form.Adequacy, Text: form.Text,
		Before: form.Before, Page: page, PerPage: perPage}
	if form.Code == "" {
		eq.Tree = ""
	}
	return eq
}

func (s *Server) queryRecs(form queryForm, page int) analytics.RecommendationQuery {
	q := analytics.RecommendationQuery{Text: form.Text, PatternType: form.PType, Before: form.Before, Page: page, PerPage: 20}
	if form.RecKind != "" {
		k, _ := strconv.Atoi(form.RecKind)
		q.Kinds = []int{k}
	}
	if form.Level != "" {
		q.Levels = []string{form.Level}
	}
	return q
}

func (s *Server) queryPatterns(form queryForm, page int) analytics.PatternQuery {
	return analytics.PatternQuery{Text: form.Text, Code: form.Pattern, Nature: form.Nature, Before: form.Before, Page: page, PerPage: 20}
}

// queryParquet downloads what the Query page lists, up to
// analytics.MaxDownloadRows rows, as Parquet.
func (s *Server) queryParquet(c *gin.Context, r *request, form queryForm) error {
	x, err := s.searcher()
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var f *analytics.File
	switch form.What {
	case "episodes":
		f, err = x.EpisodesParquet(ctx, r.v, r.sel, s.queryEpisodes(form, 1, analytics.MaxDownloadRows))
	case "recommendations":
		q := s.queryRecs(form, 1)
		q.PerPage = analytics.MaxDownloadRows
		f, err = x.RecommendationsParquet(ctx, r.v, r.sel, q)
	case "pattern_instances":
		q := s.queryPatterns(form, 1)
		q.PerPage = analytics.MaxDownloadRows
		f, err = x.PatternsParquet(ctx, r.v, r.sel, q)
	default:
		return errs.E(errs.Invalid, "Parquet downloads are offered for episodes, recommendations and pattern instances, not %s", form.What)
	}
	if err != nil {
		return err
	}
	return sendParquet(c, f)
}

// searchFacets turns a search's facets into links: places change the
// collection, years the years, the rest set their filter.
func (s *Server) searchFacets(r *request, keep []string, f analytics.SearchFacets, exact bool) []facet {
	suffix := ""
	if !exact {
		suffix = " (among the results found so far)"
	}
	set := func(label, param string, vs []analytics.FacetValue) facet {
		out := facet{Label: label + suffix}
		for _, v := range vs {
			out.Values = append(out.Values, facetValue{Label: v.Label, Count: v.Count, Href: r.link("/query", append(append([]string{}, keep...), param, v.Value, "before", "")...)})
		}
		return out
	}
	places := facet{Label: "Place" + suffix}
	for _, v := range f.Places {
		q := selQuery(analytics.Selection{Collection: v.Value, From: r.sel.From, To: r.sel.To})
		places.Values = append(places.Values, facetValue{Label: v.Label, Count: v.Count, Href: withQuery("/query", q, append(append([]string{}, keep...), "before", "")...)})
	}
	years := facet{Label: "Year" + suffix}
	for _, v := range f.Years {
		years.Values = append(years.Values, facetValue{Label: v.Label, Count: v.Count, Href: r.link("/query", append(append([]string{}, keep...), "from", v.Value, "to", v.Value, "before", "")...)})
	}
	out := []facet{places, years}
	if len(f.Kinds) > 0 {
		out = append(out, set("Recommendation kind", "kind", f.Kinds))
	}
	if len(f.Levels) > 0 {
		out = append(out, set("Level addressed", "level", f.Levels))
	}
	if len(f.PatternTypes) > 0 {
		out = append(out, set("Pattern type", "pattern", f.PatternTypes))
	}
	if len(f.Natures) > 0 {
		out = append(out, set("Nature", "nature", f.Natures))
	}
	rk := facet{Label: "Kind of review" + suffix}
	for _, v := range f.ReviewKinds {
		rk.Values = append(rk.Values, facetValue{Label: v.Label, Count: v.Count})
	}
	return append(out, rk)
}
