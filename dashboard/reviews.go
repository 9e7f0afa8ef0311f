package dashboard

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// facet is one facet of the review list as links or checkboxes.
type facet struct {
	Name   string // the query parameter, for checkbox facets
	Label  string
	Values []facetValue
}

type facetValue struct {
	Label   string
	Count   int
	Href    string // place and year facets change the collection or years
	Value   string
	Checked bool
}

type reviewsPage struct {
	Base
	Note    string
	Page    *analytics.ReviewPage
	Links   []facet // nation, region, board, year
	Checks  []facet // kind, agency
	Text    string
	Pager   pager
	Table   *Table
	CSVHref string
	// AgenciesHref shows the agencies facet when it is left out;
	// KeepAgencies keeps it shown when the form is sent again.
	AgenciesHref string
	KeepAgencies bool
}

func (s *Server) reviewQuery(c *gin.Context) (analytics.ReviewQuery, error) {
	page, err := pageNumber(c)
	if err != nil {
		return analytics.ReviewQuery{}, err
	}
	q := analytics.ReviewQuery{Kinds: c.QueryArray("kind"), Agencies: c.QueryArray("agency"),
		Text: strings.TrimSpace(c.Query("q")), Page: page, PerPage: 25}
	if len(q.Text) > 200 {
		return q, errs.E(errs.Invalid, "search text is limited to 200 characters")
	}
	return q, nil
}

// handleReviews lists the reviews of the collection with facets.
func (s *Server) handleReviews(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	q, err := s.reviewQuery(c)
	if err != nil {
		return err
	}
	// The agencies facet reads every review of the collection (no aggregate
	// keeps agencies): a board's list shows it, wider lists on request.
	_, board := s.geo.Board(r.sel.Collection)
	q.NoAgencyFacet = !board && len(q.Agencies) == 0 && c.Query("facet") != "agencies"
	vm := reviewsPage{Base: s.base(c, "Reviews"), Text: q.Text}
	if q.NoAgencyFacet {
		vm.AgenciesHref = withQuery(c.Request.URL.Path, c.Request.URL.Query(), "facet", "agencies")
	}
	vm.KeepAgencies = c.Query("facet") == "agencies"
	rp, err := s.an.Reviews(c.Request.Context(), r.v, r.sel, q)
	if vm.Note, err = s.soft(c, "reviews", err); err != nil {
		return err
	}
	t := &Table{ID: "reviews_list", Caption: "Reviews",
		Columns: []Column{{Label: "Review"}, {Label: "Board"}, {Label: "Year", Numeric: true}, {Label: "Kind"},
			{Label: "Episodes", Numeric: true}, {Label: "Patterns", Numeric: true}, {Label: "Recommendations", Numeric: true}, {Label: "Family took part"}}}
	if rp != nil {
		vm.Page = rp
		keep := []string{}
		for _, k := range q.Kinds {
			keep = append(keep, "kind", k)
		}
		for _, a := range q.Agencies {
			keep = append(keep, "agency", a)
		}
		if q.Text != "" {
			keep = append(keep, "q", q.Text)
		}
		if c.Query("facet") == "agencies" {
			keep = append(keep, "facet", "agencies")
		}
		vm.Pager = r.pager(rp.Page, rp.Pages, keep...)
		place := func(label string, vs []analytics.FacetValue) facet {
			f := facet{Label: label}
			for _, v := range vs {
				f.Values = append(f.Values, facetValue{Label: v.Label, Count: v.Count,
					Href: withQuery("/reviews", selQuery(analytics.Selection{Collection: v.Value, From: r.sel.From, To: r.sel.To}))})
			}
			return f
		}
		vm.Links = []facet{place("Nation", rp.Facets.Nations), place("Region", rp.Facets.Regions), place("Board", rp.Facets.Boards)}
		years := facet{Label: "Year"}
		for _, v := range rp.Facets.Years {
			years.Values = append(years.Values, facetValue{Label: v.Label, Count: v.Count, Href: r.link("/reviews", "from", v.Value, "to", v.Value)})
		}
		vm.Links = append(vm.Links, years)
		check := func(name, label string, vs []analytics.FacetValue, chosen []string) facet {
			f := facet{Name: name, Label: label}
			for _, v := range vs {
				f.Values = append(f.Values, facetValue{Label: v.Label, Count: v.Count, Value: v.Value, Checked: contains(chosen, v.Value)})
			}
			return f
		}
		vm.Checks = []facet{check("kind", "Kind of review", rp.Facets.Kinds, q.Kinds), check("agency", "Agencies involved", rp.Facets.Agencies, q.Agencies)}
		for _, rv := range rp.Reviews {
			t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(rv.ID, "/reviews/"+rv.ID), textCell(rv.BoardName), textCell(itoa(rv.Year)), textCell(rv.Kind),
				intCell(rv.Episodes), intCell(rv.Patterns), intCell(rv.Recommendations), textCell(rv.FamilyParticipation)}})
		}
		t.Provenance = provenanceLine(rp.Provenance)
	}
	vm.Table = t
	vm.CSVHref = withQuery(c.Request.URL.Path, c.Request.URL.Query(), "download", t.ID)
	return s.respond(c, "reviews", &vm, vm.Table)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type reviewPage struct {
	Base
	Review *analytics.ReviewDetail
}

// handleReview shows one review as stored: what it asked, its episodes with
// their factors, its patterns and its recommendations.
func (s *Server) handleReview(c *gin.Context) error {
	id := c.Param("id")
	rd, err := s.an.Review(c.Request.Context(), viewerFrom(c), id)
	if err != nil {
		return err
	}
	vm := reviewPage{Base: s.base(c, "Review "+rd.Summary.ID), Review: rd}
	vm.Picker.ShowPicker = false
	return s.render(c, "review", &vm)
}
