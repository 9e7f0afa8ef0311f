package analytics

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

// Views lists the views Query answers, for `collate query <view>`.
func Views() []string {
	out := make([]string, 0, len(views))
	for name := range views {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// viewFunc runs one view with its options read from params.
type viewFunc func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error)

var views = map[string]viewFunc{
	"overview": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Overview(ctx, v, sel)
	},
	"process": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Process(ctx, v, sel)
	},
	"recurrence": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Recurrence(ctx, v, sel, RecurrenceOptions{Tree: p.str("tree"), Depth: p.int("depth"), Codes: p.list("codes"), Splits: p.bool("splits")})
	},
	"breakdown": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Breakdown(ctx, v, sel, BreakdownOptions{Tree: p.str("tree"), Depth: p.int("depth"), Codes: p.list("codes"), By: Level(p.str("by"))})
	},
	"compare": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Compare(ctx, v, sel, CompareOptions{Tree: p.str("tree"), Depth: p.int("depth"), Reference: p.str("reference")})
	},
	"funnel": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Funnel(ctx, v, sel, FunnelOptions{Tree: p.str("tree"), Code: p.str("code"), By: Level(p.str("by"))})
	},
	"trends": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Trends(ctx, v, sel, TrendOptions{Tree: p.str("tree"), Codes: p.list("codes"), Depth: p.int("depth"),
			LastYears: p.int("last_years"), Alpha: p.float("alpha")})
	},
	"repeated": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.RepeatedLessons(ctx, v, sel, RepeatedOptions{K: p.int("k"), M: p.int("m"), Y: p.int("y"),
			Depth: p.int("depth"), Nature: p.str("nature")})
	},
	"cooccurrence": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.CoOccurrence(ctx, v, sel, CoOccurrenceOptions{Within: p.str("within"), Depth: p.int("depth"),
			Focus: p.str("focus"), MinSupport: p.int("min_support"), Limit: p.int("limit")})
	},
	"flows": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Flows(ctx, v, sel, FlowOptions{Nature: p.str("nature")})
	},
	"goodpractice": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.GoodPractice(ctx, v, sel, GoodPracticeOptions{Depth: p.int("depth"), Limit: p.int("limit")})
	},
	"recommendations": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Recommendations(ctx, v, sel)
	},
	"episodes": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Episodes(ctx, v, sel, EpisodeQuery{Tree: p.str("tree"), Code: p.str("code"), Dim: p.str("dim"),
			Value: p.str("value"), With: p.str("with"), Adequacy: p.str("adequacy"), Text: p.str("text"),
			Before: p.int64("before"), Page: p.int("page"), PerPage: p.int("per_page")})
	},
	"search-recommendations": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.SearchRecommendations(ctx, v, sel, RecommendationQuery{Text: p.str("text"), Kinds: p.ints("kinds"),
			Levels: p.list("levels"), PatternType: p.str("pattern_type"), Before: p.int64("before"),
			Page: p.int("page"), PerPage: p.int("per_page")})
	},
	"search-patterns": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.SearchPatterns(ctx, v, sel, PatternQuery{Text: p.str("text"), Code: p.str("code"), Nature: p.str("nature"),
			Before: p.int64("before"), Page: p.int("page"), PerPage: p.int("per_page")})
	},
	"reviews": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Reviews(ctx, v, sel, ReviewQuery{Kinds: p.list("kinds"), Agencies: p.list("agencies"), Text: p.str("text"),
			Page: p.int("page"), PerPage: p.int("per_page")})
	},
	"collections": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Collections(ctx, v)
	},
	"frames": func(ctx context.Context, s *Store, v Viewer, sel Selection, p *params) (any, error) {
		return s.Frames(ctx)
	},
}

// Query runs a view by name with its options given as strings, as the
// command line and scripts pass them: tree, depth, codes (comma-separated),
// splits, by, reference, code, last_years, alpha, k, m, y, nature, within,
// focus, min_support, limit, dim, value, with, adequacy, text, kinds,
// agencies, levels, pattern_type, before, page, per_page. The result is one of the view structs and
// marshals to JSON exactly as the dashboard's API returns it.
func (s *Store) Query(ctx context.Context, v Viewer, view string, sel Selection, options url.Values) (any, error) {
	f, ok := views[view]
	if !ok {
		return nil, errs.E(errs.NotFound, "there is no view %q; views are %s", view, strings.Join(Views(), ", "))
	}
	p := &params{v: options}
	out, err := f(ctx, s, v, sel, p)
	if p.err != nil {
		return nil, p.err
	}
	return out, err
}

// params reads options, remembering the first malformed one.
type params struct {
	v   url.Values
	err error
}

func (p *params) str(k string) string { return strings.TrimSpace(p.v.Get(k)) }

func (p *params) list(k string) []string {
	var out []string
	for _, v := range p.v[k] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

func (p *params) int(k string) int {
	s := p.str(k)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil && p.err == nil {
		p.err = errs.E(errs.Invalid, "option %s = %q: give a whole number", k, s)
	}
	return n
}

func (p *params) int64(k string) int64 {
	s := p.str(k)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && p.err == nil {
		p.err = errs.E(errs.Invalid, "option %s = %q: give a whole number", k, s)
	}
	return n
}

// ints reads a comma-separated list of whole numbers.
func (p *params) ints(k string) []int {
	var out []int
	for _, x := range p.list(k) {
		n, err := strconv.Atoi(x)
		if err != nil && p.err == nil {
			p.err = errs.E(errs.Invalid, "option %s: %q is not a whole number", k, x)
		}
		out = append(out, n)
	}
	return out
}

func (p *params) float(k string) float64 {
	s := p.str(k)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && p.err == nil {
		p.err = errs.E(errs.Invalid, "option %s = %q: give a number", k, s)
	}
	return f
}

func (p *params) bool(k string) bool {
	s := p.str(k)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil && p.err == nil {
		p.err = errs.E(errs.Invalid, "option %s = %q: give true or false", k, s)
	}
	return b
}
