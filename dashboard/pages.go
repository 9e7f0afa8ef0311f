package dashboard

import (
	"net/url"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

func (s *Server) pageRoutes(r *gin.Engine) {
	r.GET("/", s.handle(s.handleOverview))
	r.GET("/factors", s.handle(s.handleFactors))
	r.GET("/factors/:code", s.handle(s.handleFactor))
	r.GET("/patterns", s.handle(s.handlePatterns))
	r.GET("/compare", s.handle(s.handleCompare))
	r.GET("/trends", s.handle(s.handleTrends))
	r.GET("/recommendations", s.handle(s.handleRecommendations))
	r.GET("/reviews", s.handle(s.handleReviews))
	r.GET("/reviews/:id", s.handle(s.handleReview))
	r.GET("/query", s.handle(s.handleQuery))
	r.GET("/upload", s.handle(s.handleUploadPage))
	r.POST("/upload", s.handle(s.handleUploadForm))
	r.GET("/upload/template.xlsx", s.handle(s.handleTemplate))
}

// request is what every page handler starts from: who asks, about which
// collection and years, and the frame of the figures.
type request struct {
	c     *gin.Context
	v     analytics.Viewer
	sel   analytics.Selection
	q     url.Values // the selection as query parameters, for links
	frame *analytics.FrameInfo
}

func (s *Server) request(c *gin.Context) (*request, error) {
	sel, err := s.parseSelection(c)
	if err != nil {
		return nil, err
	}
	r := &request{c: c, v: viewerFrom(c), sel: sel, q: selQuery(sel)}
	f, err := s.an.Frame(c.Request.Context(), sel.Frame)
	switch {
	case err == nil:
		r.frame = f
	case errs.KindOf(err) == errs.Unavailable && sel.Frame == "":
		r.frame = s.builtinFrame
	default:
		return nil, err
	}
	return r, nil
}

// link is a page path with the current selection and extra parameters.
func (r *request) link(path string, kv ...string) string {
	return withQuery(path, r.q, kv...)
}

// soft lets one part of a page fail without the rest: an analytics answer of
// Unavailable (not built yet, or cancelled) or Forbidden (outside the
// viewer's scope) becomes a notice in that part. Anything else fails the page.
func (s *Server) soft(c *gin.Context, what string, err error) (string, error) {
	if err == nil {
		return "", nil
	}
	switch errs.KindOf(err) {
	case errs.Unavailable, errs.Forbidden:
		s.log.Warn("page section unavailable", "path", c.Request.URL.Path, "section", what, "error", err.Error())
		return errs.Message(err), nil
	}
	return "", err
}

// respond renders the page, or, when ?download=ID names one of its tables,
// sends that table as CSV: the same numbers the page shows.
func (s *Server) respond(c *gin.Context, name string, vm any, tables ...*Table) error {
	if id := c.Query("download"); id != "" {
		for _, t := range tables {
			if t != nil && t.ID == id {
				return writeCSV(c, id+".csv", *t)
			}
		}
		return errs.E(errs.NotFound, "this page has no table %q to download", id)
	}
	return s.render(c, name, vm)
}

// chart fills the parts of a ChartView every chart shares.
func (r *request) chart(cv *ChartView) *ChartView {
	cv.Table.ID = cv.ID
	if cv.Table.Caption == "" {
		cv.Table.Caption = cv.Title
	}
	cv.CSVHref = r.link(r.c.Request.URL.Path, "download", cv.ID)
	if cv.Options == "" && cv.Empty == "" {
		cv.Empty = "This chart is not available for this selection."
	}
	if cv.Size == "" {
		cv.Size = "md"
	}
	return cv
}

// tableHref is the CSV link of a table that is not a chart.
func (r *request) tableHref(id string) string {
	return r.link(r.c.Request.URL.Path, "download", id)
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// pageNumber reads ?page= (from 1).
func pageNumber(c *gin.Context) (int, error) {
	v := c.Query("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100000 {
		return 0, errs.E(errs.Invalid, "page must be a whole number from 1, not %q", v)
	}
	return n, nil
}

// pager is the previous/next links of a paginated list.
type pager struct {
	Page, Pages int
	Prev, Next  string
}

func (r *request) pager(page, pages int, kv ...string) pager {
	p := pager{Page: page, Pages: pages}
	path := r.c.Request.URL.Path
	if page > 1 {
		p.Prev = r.link(path, append(kv, "page", strconv.Itoa(page-1))...)
	}
	if page < pages {
		p.Next = r.link(path, append(kv, "page", strconv.Itoa(page+1))...)
	}
	return p
}

// nodeLabel is "CODE Label".
func nodeLabel(n analytics.Node) string {
	if n.Label == "" {
		return n.Code
	}
	return n.Code + " " + n.Label
}

func itoa(n int) string { return strconv.Itoa(n) }

// frameInfo describes a built-in frame the way analytics does, for labels and
// code checks while analytics cannot list frames.
func frameInfo(f *schemas.Frame) *analytics.FrameInfo {
	info := &analytics.FrameInfo{ID: f.ID, Version: f.Version, Title: f.Title}
	conv := func(tree string, levels []string) []analytics.Node {
		var out []analytics.Node
		for _, n := range f.Flat(tree) {
			level := ""
			if n.Depth-1 < len(levels) {
				level = levels[n.Depth-1]
			}
			out = append(out, analytics.Node{Code: n.Code, Label: n.Label, Parent: n.Parent, Depth: n.Depth, Level: level})
		}
		return out
	}
	info.Factors = conv(schemas.TreeFactor, f.Factors.Levels)
	if f.Patterns != nil {
		info.Patterns = conv(schemas.TreePattern, f.Patterns.Levels)
	}
	return info
}

// parallel runs the independent parts of a page at once (each asks
// analytics on its own connection) and returns the first error.
func parallel(parts ...func() error) error {
	errc := make(chan error, len(parts))
	for _, p := range parts {
		go func() { errc <- p() }()
	}
	var first error
	for range parts {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
