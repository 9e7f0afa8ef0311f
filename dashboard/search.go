package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

// searcher is the part of analytics behind the researchers' searches of
// recommendations and patterns and their Parquet downloads. *analytics.Store
// has it. It is taken from the analytics the server was built with, not from
// the result cache: a download is a file to stream once, not a result to keep.
type searcher interface {
	SearchRecommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.RecommendationQuery) (*analytics.RecommendationPage, error)
	SearchPatterns(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.PatternQuery) (*analytics.PatternPage, error)
	EpisodesParquet(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.File, error)
	RecommendationsParquet(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.RecommendationQuery) (*analytics.File, error)
	PatternsParquet(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.PatternQuery) (*analytics.File, error)
}

var _ searcher = (*analytics.Store)(nil)

func (s *Server) searcher() (searcher, error) {
	if x, ok := s.opts.Analytics.(searcher); ok {
		return x, nil
	}
	return nil, errs.E(errs.Unavailable, "searching recommendations and patterns, and Parquet downloads, are not available on this server")
}

// Download formats of the researchers' lists.
const (
	formatJSON    = "json"
	formatCSV     = "csv"
	formatParquet = "parquet"
)

// sendParquet streams a Parquet download and removes its file. The
// provenance travels in the file's key-value metadata and, for clients that
// read headers, as JSON in Collate-Provenance.
func sendParquet(c *gin.Context, f *analytics.File) error {
	defer f.Close()
	c.Header("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Header("Collate-Provenance", asciiJSON(f.Provenance))
	c.Header("Collate-Rows", fmt.Sprintf("%d of %d; page %d of %d", f.Rows, f.Total, f.Page, f.Pages))
	c.DataFromReader(http.StatusOK, f.Size, analytics.ContentTypeParquet, f, nil)
	return nil
}

// asciiJSON is v as JSON with every non-ASCII character escaped, so it can
// travel in a header.
func asciiJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	var sb strings.Builder
	for _, r := range string(b) {
		switch {
		case r >= 0x20 && r < 0x7f:
			sb.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// ints reads a repeatable parameter of whole numbers ("1,2" or kind=1&kind=2).
func (p *params) ints(key string, min, max int) []int {
	var out []int
	for _, v := range p.c.QueryArray(key) {
		for _, x := range strings.Split(v, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				continue
			}
			n, err := strconv.Atoi(x)
			if (err != nil || n < min || n > max) && p.err == nil {
				p.err = errs.E(errs.Invalid, "%s must be whole numbers from %d to %d, not %q", key, min, max, x)
			}
			out = append(out, n)
		}
	}
	return out
}

// strs reads a repeatable parameter whose values must be among allowed.
func (p *params) strs(key string, allowed ...string) []string {
	var out []string
	for _, v := range p.c.QueryArray(key) {
		for _, x := range strings.Split(v, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				continue
			}
			if !contains(allowed, x) && p.err == nil {
				p.err = errs.E(errs.Invalid, "%s must be among %s, not %q", key, strings.Join(allowed, ", "), x)
			}
			out = append(out, x)
		}
	}
	return out
}

// before reads the position a stopped search goes on from.
func (p *params) before() int64 {
	v := strings.TrimSpace(p.c.Query("before"))
	if v == "" || p.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		p.err = errs.E(errs.Invalid, "before must be the position given as continue_before by an earlier page, not %q", v)
	}
	return n
}

func (p *params) text(key string) string {
	v := p.str(key)
	if !utf8.ValidString(v) && p.err == nil {
		p.err = errs.E(errs.Invalid, "%s is not valid UTF-8", key)
	}
	return v
}

func (s *Server) recommendationQuery(p *params) analytics.RecommendationQuery {
	q := analytics.RecommendationQuery{Text: p.text("q"), Kinds: p.ints("kind", 1, 3), Levels: p.strs("level", "local", "regional", "national"),
		Before: p.before(), Page: p.int("page", 0, 100000), PerPage: p.int("per_page", 0, analytics.MaxDownloadRows)}
	if t := p.codes("pattern_type"); len(t) > 0 {
		q.PatternType = t[0]
	}
	return q
}

func (s *Server) patternQuery(p *params) analytics.PatternQuery {
	q := analytics.PatternQuery{Text: p.text("q"), Nature: p.str("nature", "constructive", "unsafe"), Before: p.before(),
		Page: p.int("page", 0, 100000), PerPage: p.int("per_page", 0, analytics.MaxDownloadRows)}
	if c := p.codes("code"); len(c) > 0 {
		q.Code = c[0]
	}
	return q
}

// download answers a researchers' list in the format asked for: JSON (the
// default), CSV (the same rows with a provenance line) or Parquet.
func (s *Server) download(c *gin.Context, list func(p *params, v analytics.Viewer, sel analytics.Selection) (any, *Table, error),
	parquet func(x searcher, p *params, v analytics.Viewer, sel analytics.Selection) (*analytics.File, error)) error {
	sel, err := s.parseSelection(c)
	if err != nil {
		return err
	}
	p := &params{c: c}
	if f := p.str("frame"); f != "" {
		sel.Frame = f
	}
	format := p.str("format", formatJSON, formatCSV, formatParquet)
	if p.err != nil {
		return p.err
	}
	v := viewerFrom(c)
	if format == formatParquet {
		x, err := s.searcher()
		if err != nil {
			return err
		}
		f, err := parquet(x, p, v, sel)
		if p.err != nil {
			if f != nil {
				f.Close()
			}
			return p.err
		}
		if err != nil {
			return err
		}
		return sendParquet(c, f)
	}
	res, t, err := list(p, v, sel)
	if p.err != nil {
		return p.err
	}
	if err != nil {
		return err
	}
	if format == formatCSV {
		return writeCSV(c, t.ID+".csv", *t)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *Server) apiSearchRecommendations(c *gin.Context) error {
	return searchAPI(s, c, s.recommendationQuery, func(q analytics.RecommendationQuery) int { return q.PerPage },
		searcher.SearchRecommendations, searcher.RecommendationsParquet,
		func(rp *analytics.RecommendationPage) *Table { return recommendationTable(rp, nil) })
}

func (s *Server) apiSearchPatterns(c *gin.Context) error {
	return searchAPI(s, c, s.patternQuery, func(q analytics.PatternQuery) int { return q.PerPage },
		searcher.SearchPatterns, searcher.PatternsParquet,
		func(pp *analytics.PatternPage) *Table { return patternTable(pp, nil) })
}

// searchAPI answers a search of the API: a page as JSON or CSV (at most 100
// rows), or with format=parquet a download of up to analytics.MaxDownloadRows.
func searchAPI[Q, R any](s *Server, c *gin.Context, query func(*params) Q, perPage func(Q) int,
	search func(searcher, context.Context, analytics.Viewer, analytics.Selection, Q) (R, error),
	parquet func(searcher, context.Context, analytics.Viewer, analytics.Selection, Q) (*analytics.File, error),
	table func(R) *Table) error {
	return s.download(c, func(p *params, v analytics.Viewer, sel analytics.Selection) (any, *Table, error) {
		q := query(p)
		if p.err != nil {
			return nil, nil, nil
		}
		if perPage(q) > 100 {
			return nil, nil, errs.E(errs.Invalid, "per_page is at most 100 for JSON and CSV; ask for format=parquet for up to %d", analytics.MaxDownloadRows)
		}
		x, err := s.searcher()
		if err != nil {
			return nil, nil, err
		}
		page, err := search(x, c.Request.Context(), v, sel, q)
		if err != nil {
			return nil, nil, err
		}
		return page, table(page), nil
	}, func(x searcher, p *params, v analytics.Viewer, sel analytics.Selection) (*analytics.File, error) {
		q := query(p)
		if p.err != nil {
			return nil, nil
		}
		return parquet(x, c.Request.Context(), v, sel, q)
	})
}

// recommendationTable is a page of recommendations as the Query page and the
// CSV show them; link, when set, makes review IDs links.
func recommendationTable(rp *analytics.RecommendationPage, link func(string) string) *Table {
	t := &Table{ID: "recommendation_results", Caption: "Recommendations",
		Columns: []Column{{Label: "review_id"}, {Label: "version", Numeric: true}, {Label: "year", Numeric: true}, {Label: "board"},
			{Label: "board_name"}, {Label: "review_kind"}, {Label: "recommendation", Numeric: true}, {Label: "kind", Numeric: true},
			{Label: "level"}, {Label: "pattern_types"}, {Label: "excerpt"}},
		Provenance: provenanceLine(rp.Provenance) + pageNote(rp.Page, rp.Pages, rp.Total, rp.TotalExact)}
	for _, r := range rp.Recommendations {
		id := textCell(r.ReviewID)
		if link != nil {
			id = linkCell(r.ReviewID, link(r.ReviewID))
		}
		t.Rows = append(t.Rows, Row{Cells: []Cell{id, intCell(r.Version), intCell(r.Year), textCell(r.Board), textCell(r.BoardName),
			textCell(r.ReviewKind), intCell(r.Number), intCell(r.Kind), textCell(r.Level), textCell(strings.Join(r.PatternTypes, " ")), textCell(r.Excerpt)}})
	}
	return t
}

// patternTable is a page of pattern instances as the Query page and the CSV show them.
func patternTable(pp *analytics.PatternPage, link func(string) string) *Table {
	t := &Table{ID: "pattern_results", Caption: "Patterns found in reviews",
		Columns: []Column{{Label: "review_id"}, {Label: "version", Numeric: true}, {Label: "year", Numeric: true}, {Label: "board"},
			{Label: "board_name"}, {Label: "review_kind"}, {Label: "pattern", Numeric: true}, {Label: "type"}, {Label: "sub_pattern"},
			{Label: "proposed"}, {Label: "nature"}, {Label: "priority", Numeric: true}, {Label: "summary"}, {Label: "episodes"}},
		Provenance: provenanceLine(pp.Provenance) + pageNote(pp.Page, pp.Pages, pp.Total, pp.TotalExact)}
	for _, x := range pp.Patterns {
		id := textCell(x.ReviewID)
		if link != nil {
			id = linkCell(x.ReviewID, link(x.ReviewID))
		}
		pri := textCell("")
		if x.Priority != nil {
			pri = intCell(*x.Priority)
		}
		eps := make([]string, len(x.Episodes))
		for i, e := range x.Episodes {
			eps[i] = itoa(e)
		}
		t.Rows = append(t.Rows, Row{Cells: []Cell{id, intCell(x.Version), intCell(x.Year), textCell(x.Board), textCell(x.BoardName),
			textCell(x.ReviewKind), intCell(x.Number), textCell(x.Type), textCell(x.SubPattern), textCell(x.Proposed), textCell(x.Nature),
			pri, textCell(x.Summary), textCell(strings.Join(eps, " "))}})
	}
	return t
}

// pageNote says which page of how many results a download holds.
func pageNote(page, pages, total int, exact bool) string {
	if exact {
		return fmt.Sprintf(" Page %d of %d (%d results).", page, pages, total)
	}
	return fmt.Sprintf(" Page %d; %d results found in the reviews searched so far, newest first.", page, total)
}
