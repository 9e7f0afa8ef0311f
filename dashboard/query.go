package dashboard

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// queryForm is what a researcher asked on the Query page.
type queryForm struct {
	What     string // episodes, factors, patterns or reviews
	Text     string
	Code     string
	With     string
	Adequacy string
	Tree     string
}

type queryPage struct {
	Base
	Form     queryForm
	Whats    []collectionOption
	Adequacy []collectionOption
	Codes    []collectionOption
	Note     string
	Results  *Table
	Episodes *analytics.EpisodePage
	Total    int
	Pager    pager
	CSVHref  string
	JSONHref string
}

var queryWhats = []collectionOption{
	{Value: "episodes", Label: "Key practice episodes"},
	{Value: "factors", Label: "Contributory factors"},
	{Value: "patterns", Label: "Patterns"},
	{Value: "reviews", Label: "Reviews and their recommendations"},
}

var adequacies = []collectionOption{{Value: "", Label: "Any"}, {Value: "good", Label: "Good"}, {Value: "problematic", Label: "Problematic"},
	{Value: "mixed", Label: "Mixed"}, {Value: "not_judged", Label: "Not judged"}}

func readQueryForm(c *gin.Context) (queryForm, error) {
	// Until something is asked the page lists the factors, which is quick;
	// a search over every episode of the UK is slow and says little.
	f := queryForm{What: c.DefaultQuery("what", "factors"), Text: strings.TrimSpace(c.Query("q")), Code: c.Query("code"),
		With: c.Query("with"), Adequacy: c.Query("adequacy"), Tree: c.DefaultQuery("tree", analytics.TreeFactor)}
	ok := false
	for _, w := range queryWhats {
		ok = ok || w.Value == f.What
	}
	if !ok {
		return f, errs.E(errs.Invalid, "what must be episodes, factors, patterns or reviews, not %q", f.What)
	}
	for _, code := range []string{f.Code, f.With} {
		if code != "" && !codePattern.MatchString(code) {
			return f, errs.E(errs.Invalid, "%q is not a frame code", code)
		}
	}
	if f.Tree != analytics.TreeFactor && f.Tree != analytics.TreePattern {
		return f, errs.E(errs.Invalid, "tree must be factor or pattern")
	}
	if len(f.Text) > 200 {
		return f, errs.E(errs.Invalid, "search text is limited to 200 characters")
	}
	return f, nil
}

// handleQuery is the researchers' faceted search: episodes (by factor,
// co-cited factor, adequacy and words), factors and patterns (by words in
// their labels, with their figures), and reviews (by words in their questions
// and recommendations). Every result comes from analytics, so scope and
// suppression hold here too.
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
	ctx := c.Request.Context()
	vm := queryPage{Base: s.base(c, "Query"), Form: form}
	for _, w := range queryWhats {
		w.Selected = w.Value == form.What
		vm.Whats = append(vm.Whats, w)
	}
	for _, a := range adequacies {
		a.Selected = a.Value == form.Adequacy
		vm.Adequacy = append(vm.Adequacy, a)
	}
	vm.Codes = append(vm.Codes, collectionOption{Value: "", Label: "Any factor"})
	if r.frame != nil {
		for _, n := range r.frame.Factors {
			vm.Codes = append(vm.Codes, collectionOption{Value: n.Code, Label: strings.Repeat("— ", n.Depth-1) + nodeLabel(n), Selected: n.Code == form.Code})
		}
	}
	keep := []string{"what", form.What, "q", form.Text, "code", form.Code, "with", form.With, "adequacy", form.Adequacy}
	t := &Table{ID: "query_results", Caption: "Results"}
	switch form.What {
	case "episodes":
		eq := analytics.EpisodeQuery{Tree: analytics.TreeFactor, Code: form.Code, With: form.With, Adequacy: form.Adequacy, Text: form.Text, Page: page, PerPage: 20}
		if form.Code == "" {
			eq.Tree = ""
		}
		eps, err := s.an.Episodes(ctx, r.v, r.sel, eq)
		if vm.Note, err = s.soft(c, "episodes", err); err != nil {
			return err
		}
		t.Columns = []Column{{Label: "Review"}, {Label: "Episode", Numeric: true}, {Label: "Year", Numeric: true}, {Label: "Board"},
			{Label: "Title"}, {Label: "Adequacy"}, {Label: "Factors"}, {Label: "Excerpt"}}
		if eps != nil {
			vm.Episodes, vm.Total = eps, eps.Total
			vm.Pager = r.pager(eps.Page, eps.Pages, keep...)
			for _, e := range eps.Episodes {
				t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(e.ReviewID, "/reviews/"+e.ReviewID), intCell(e.Number), textCell(itoa(e.Year)),
					textCell(e.BoardName), textCell(e.Title), textCell(e.Adequacy), textCell(strings.Join(e.Factors, " ")), textCell(e.Excerpt)}})
			}
			t.Provenance = provenanceLine(eps.Provenance)
		}
		vm.JSONHref = r.link("/api/v1/episodes", keep...)
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
			vm.Pager = r.pager(rp.Page, rp.Pages, keep...)
			for _, rv := range rp.Reviews {
				t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(rv.ID, "/reviews/"+rv.ID), textCell(rv.BoardName), textCell(itoa(rv.Year)),
					textCell(rv.Kind), intCell(rv.Recommendations)}})
			}
			t.Provenance = provenanceLine(rp.Provenance)
		}
		vm.JSONHref = r.link("/api/v1/reviews", "q", form.Text)
	}
	vm.Results = t
	vm.CSVHref = withQuery(c.Request.URL.Path, c.Request.URL.Query(), "download", t.ID)
	return s.respond(c, "query", &vm, vm.Results)
}
