package dashboard

import (
	_ "embed"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// openAPI is the API's OpenAPI 3.1 description, served as is.
//
//go:embed openapi.json
var openAPI []byte

// apiRoutes registers the JSON API. Every route answers with an analytics
// result (or an upload receipt) or with ErrorBody; routes are listed in
// openapi.json, and a test keeps the two in step.
func (s *Server) apiRoutes(api *gin.RouterGroup) {
	api.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", openAPI) })
	api.GET("/collections", s.handle(s.apiCollections))
	api.GET("/frame", s.handle(s.apiFrame))
	api.GET("/overview", s.handle(s.apiOverview))
	api.GET("/process", s.handle(s.apiProcess))
	api.GET("/recurrence", s.handle(s.apiRecurrence))
	api.GET("/breakdown", s.handle(s.apiBreakdown))
	api.GET("/compare", s.handle(s.apiCompare))
	api.GET("/funnel", s.handle(s.apiFunnel))
	api.GET("/trends", s.handle(s.apiTrends))
	api.GET("/repeated-lessons", s.handle(s.apiRepeated))
	api.GET("/cooccurrence", s.handle(s.apiCoOccurrence))
	api.GET("/flows", s.handle(s.apiFlows))
	api.GET("/good-practice", s.handle(s.apiGoodPractice))
	api.GET("/recommendations", s.handle(s.apiRecommendations))
	api.GET("/episodes", s.handle(s.apiEpisodes))
	api.GET("/episodes.csv", s.handle(s.apiEpisodesCSV))
	api.GET("/search/recommendations", s.handle(s.apiSearchRecommendations))
	api.GET("/search/patterns", s.handle(s.apiSearchPatterns))
	api.GET("/reviews", s.handle(s.apiReviews))
	api.GET("/reviews/:id", s.handle(s.apiReview))
	api.POST("/reviews", s.handle(s.handleAPIUpload))
}

// params reads query parameters, keeping the first problem.
type params struct {
	c   *gin.Context
	err error
}

func (p *params) int(key string, min, max int) int {
	v := strings.TrimSpace(p.c.Query(key))
	if v == "" || p.err != nil {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.err = errs.E(errs.Invalid, "%s must be a whole number from %d to %d, not %q", key, min, max, v)
	}
	return n
}

func (p *params) str(key string, allowed ...string) string {
	v := strings.TrimSpace(p.c.Query(key))
	if v == "" || p.err != nil || len(allowed) == 0 {
		if len(v) > 200 && p.err == nil {
			p.err = errs.E(errs.Invalid, "%s is limited to 200 characters", key)
		}
		return v
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.err = errs.E(errs.Invalid, "%s must be one of %s, not %q", key, strings.Join(allowed, ", "), v)
	return v
}

func (p *params) codes(key string) []string {
	var out []string
	for _, v := range p.c.QueryArray(key) {
		for _, code := range strings.Split(v, ",") {
			code = strings.TrimSpace(code)
			if code == "" {
				continue
			}
			if !codePattern.MatchString(code) && p.err == nil {
				p.err = errs.E(errs.Invalid, "%s: %q is not a frame code", key, code)
			}
			out = append(out, code)
		}
	}
	return out
}

func (p *params) bool(key string) bool {
	v := p.c.Query(key)
	switch v {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	if p.err == nil {
		p.err = errs.E(errs.Invalid, "%s must be true or false, not %q", key, v)
	}
	return false
}

var trees = []string{analytics.TreeFactor, analytics.TreePattern}
var levels = []string{string(analytics.LevelNation), string(analytics.LevelRegion), string(analytics.LevelBoard)}

// api runs one analytics call for the request's viewer and selection and
// writes its result as JSON.
func (s *Server) api(c *gin.Context, call func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error)) error {
	sel, err := s.parseSelection(c)
	if err != nil {
		return err
	}
	p := &params{c: c}
	if p.str("frame") != "" {
		sel.Frame = p.str("frame")
	}
	res, err := call(p, viewerFrom(c), sel)
	if p.err != nil {
		return p.err
	}
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *Server) apiCollections(c *gin.Context) error {
	cols, err := s.an.Collections(c.Request.Context(), viewerFrom(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, cols)
	return nil
}

func (s *Server) apiFrame(c *gin.Context) error {
	f, err := s.an.Frame(c.Request.Context(), c.Query("frame"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, f)
	return nil
}

func (s *Server) apiOverview(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		return s.an.Overview(c.Request.Context(), v, sel)
	})
}

func (s *Server) apiProcess(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		return s.an.Process(c.Request.Context(), v, sel)
	})
}

func (s *Server) apiRecurrence(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.RecurrenceOptions{Tree: p.str("tree", trees...), Depth: p.int("depth", 0, 10), Codes: p.codes("codes"), Splits: p.bool("splits")}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Recurrence(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiBreakdown(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.BreakdownOptions{Tree: p.str("tree", trees...), Depth: p.int("depth", 0, 10), Codes: p.codes("codes"),
			By: analytics.Level(p.str("by", levels...))}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Breakdown(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiCompare(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.CompareOptions{Tree: p.str("tree", trees...), Depth: p.int("depth", 0, 10), Reference: p.str("reference")}
		if opt.Reference != "" && !s.knownCollection(opt.Reference) {
			return nil, errs.E(errs.Invalid, "reference %q is not a nation, region, board or saved collection", opt.Reference)
		}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Compare(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiFunnel(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		codes := p.codes("code")
		if len(codes) != 1 && p.err == nil {
			return nil, errs.E(errs.Invalid, "give one frame code as code")
		}
		if p.err != nil {
			return nil, nil
		}
		opt := analytics.FunnelOptions{Tree: p.str("tree", trees...), Code: codes[0], By: analytics.Level(p.str("by", levels...))}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Funnel(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiTrends(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.TrendOptions{Tree: p.str("tree", trees...), Codes: p.codes("codes"), Depth: p.int("depth", 0, 10),
			LastYears: p.int("last_years", 0, 50)}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Trends(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiRepeated(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.RepeatedOptions{K: p.int("k", 0, 1000000), M: p.int("m", 0, 10000), Y: p.int("y", 0, 100),
			Depth: p.int("depth", 0, 1), Nature: p.str("nature", "constructive", "unsafe")}
		if p.err != nil {
			return nil, nil
		}
		return s.an.RepeatedLessons(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiCoOccurrence(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.CoOccurrenceOptions{Within: p.str("within", "episode", "review"), Depth: p.int("depth", 0, 3),
			MinSupport: p.int("min_support", 0, 1000000), Limit: p.int("limit", 0, 1000)}
		if f := p.codes("focus"); len(f) > 0 {
			opt.Focus = f[0]
		}
		if p.err != nil {
			return nil, nil
		}
		return s.an.CoOccurrence(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiFlows(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.FlowOptions{Nature: p.str("nature", "constructive", "unsafe")}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Flows(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiGoodPractice(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		opt := analytics.GoodPracticeOptions{Depth: p.int("depth", 0, 3), Limit: p.int("limit", 0, 10000)}
		if p.err != nil {
			return nil, nil
		}
		return s.an.GoodPractice(c.Request.Context(), v, sel, opt)
	})
}

func (s *Server) apiRecommendations(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		return s.an.Recommendations(c.Request.Context(), v, sel)
	})
}

func (s *Server) episodeQuery(p *params) analytics.EpisodeQuery {
	return s.episodeQueryUpTo(p, 100)
}

// episodeQueryUpTo reads an episode query whose pages hold up to most rows
// (more for a Parquet download).
func (s *Server) episodeQueryUpTo(p *params, most int) analytics.EpisodeQuery {
	q := analytics.EpisodeQuery{Tree: p.str("tree", trees...), Dim: p.str("dim", "influence", "adequacy", "nature", "priority"),
		Value: p.str("value"), Adequacy: p.str("adequacy", "good", "problematic", "mixed", "not_judged"), Text: p.text("q"),
		Before: p.before(), Page: p.int("page", 0, 100000), PerPage: p.int("per_page", 0, most)}
	if codes := p.codes("code"); len(codes) > 0 {
		q.Code = codes[0]
		if q.Tree == "" {
			q.Tree = analytics.TreeFactor
		}
	}
	if with := p.codes("with"); len(with) > 0 {
		q.With = with[0]
	}
	return q
}

// apiEpisodes lists the episodes behind a figure as JSON, or with
// format=csv or format=parquet as a download (Parquet pages hold up to
// analytics.MaxDownloadRows episodes).
func (s *Server) apiEpisodes(c *gin.Context) error {
	return s.download(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, *Table, error) {
		q := s.episodeQuery(p)
		if p.err != nil {
			return nil, nil, nil
		}
		eps, err := s.an.Episodes(c.Request.Context(), v, sel, q)
		if err != nil {
			return nil, nil, err
		}
		return eps, episodeTable(eps), nil
	}, func(x searcher, p *params, v analytics.Viewer, sel analytics.Selection) (*analytics.File, error) {
		q := s.episodeQueryUpTo(p, analytics.MaxDownloadRows)
		if p.err != nil {
			return nil, nil
		}
		return x.EpisodesParquet(c.Request.Context(), v, sel, q)
	})
}

// episodeTable is a page of episodes as the CSV download gives them.
func episodeTable(eps *analytics.EpisodePage) *Table {
	t := &Table{ID: "episodes", Columns: []Column{{Label: "review_id"}, {Label: "version"}, {Label: "year"}, {Label: "board"}, {Label: "board_name"}, {Label: "kind"},
		{Label: "episode"}, {Label: "title"}, {Label: "adequacy"}, {Label: "factors"}, {Label: "excerpt"}},
		Provenance: provenanceLine(eps.Provenance) + pageNote(eps.Page, eps.Pages, eps.Total, eps.TotalExact)}
	for _, e := range eps.Episodes {
		t.Rows = append(t.Rows, Row{Cells: []Cell{textCell(e.ReviewID), intCell(e.Version), intCell(e.Year), textCell(e.Board), textCell(e.BoardName),
			textCell(e.Kind), intCell(e.Number), textCell(e.Title), textCell(e.Adequacy), textCell(strings.Join(e.Factors, " ")), textCell(e.Excerpt)}})
	}
	return t
}

// apiEpisodesCSV downloads the episodes behind a figure, one page of up to
// 500 at a time, with a provenance line.
func (s *Server) apiEpisodesCSV(c *gin.Context) error {
	sel, err := s.parseSelection(c)
	if err != nil {
		return err
	}
	p := &params{c: c}
	q := s.episodeQuery(p)
	if p.err != nil {
		return p.err
	}
	if q.PerPage == 0 {
		q.PerPage = 100 // the most analytics gives in one page; ?page= reads on
	}
	eps, err := s.an.Episodes(c.Request.Context(), viewerFrom(c), sel, q)
	if err != nil {
		return err
	}
	return writeCSV(c, "episodes.csv", *episodeTable(eps))
}

func (s *Server) apiReviews(c *gin.Context) error {
	return s.api(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, error) {
		q := analytics.ReviewQuery{Kinds: c.QueryArray("kind"), Agencies: c.QueryArray("agency"), Text: p.str("q"),
			Page: p.int("page", 0, 100000), PerPage: p.int("per_page", 0, 100)}
		// As on the page: the agencies facet, which reads every review of
		// the collection, for a board, an agency filter or on request.
		_, board := s.geo.Board(sel.Collection)
		q.NoAgencyFacet = !board && len(q.Agencies) == 0
		if c.Query("agency_facet") != "" {
			q.NoAgencyFacet = !p.bool("agency_facet")
		}
		if p.err != nil {
			return nil, nil
		}
		return s.an.Reviews(c.Request.Context(), v, sel, q)
	})
}

func (s *Server) apiReview(c *gin.Context) error {
	rd, err := s.an.Review(c.Request.Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, rd)
	return nil
}
