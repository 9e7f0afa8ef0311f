package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/collate-project/collate/analytics"
)

// view runs one analytics view with its options decoded from JSON.
type view struct {
	summary string
	run     func(ctx context.Context, s *analytics.Store, v analytics.Viewer, sel analytics.Selection, opts []byte) (any, error)
}

// withOpts decodes a view's options strictly, then runs it.
func withOpts[O any, R any](f func(*analytics.Store, context.Context, analytics.Viewer, analytics.Selection, O) (R, error)) func(context.Context, *analytics.Store, analytics.Viewer, analytics.Selection, []byte) (any, error) {
	return func(ctx context.Context, s *analytics.Store, v analytics.Viewer, sel analytics.Selection, raw []byte) (any, error) {
		var o O
		if len(raw) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&o); err != nil {
				return nil, usageError{fmt.Sprintf("--opts: %v", err)}
			}
		}
		return f(s, ctx, v, sel, o)
	}
}

func noOpts[R any](f func(*analytics.Store, context.Context, analytics.Viewer, analytics.Selection) (R, error)) func(context.Context, *analytics.Store, analytics.Viewer, analytics.Selection, []byte) (any, error) {
	return func(ctx context.Context, s *analytics.Store, v analytics.Viewer, sel analytics.Selection, raw []byte) (any, error) {
		if len(raw) > 0 {
			return nil, usageError{"this view takes no --opts"}
		}
		return f(s, ctx, v, sel)
	}
}

func views() map[string]view {
	return map[string]view{
		"overview":        {"headline numbers", noOpts((*analytics.Store).Overview)},
		"process":         {"review kinds, family involvement and dialogue stages", noOpts((*analytics.Store).Process)},
		"recurrence":      {"reviews and episodes citing every frame node, with shares and Wilson intervals", withOpts((*analytics.Store).Recurrence)},
		"breakdown":       {"shares by place under the collection (heatmap)", withOpts((*analytics.Store).Breakdown)},
		"compare":         {"the collection against its reference: difference, ratio, exact test, BH, flags", withOpts((*analytics.Store).Compare)},
		"funnel":          {"funnel-plot data for one node", withOpts((*analytics.Store).Funnel)},
		"trends":          {"shares by year, trend tests and emerging flags", withOpts((*analytics.Store).Trends)},
		"repeated":        {"repeated lessons (K reviews, M boards, Y years)", withOpts((*analytics.Store).RepeatedLessons)},
		"cooccurrence":    {"factor pairs within episodes or reviews: count, lift, Jaccard", withOpts((*analytics.Store).CoOccurrence)},
		"flows":           {"factor types to pattern types through episodes (Sankey)", withOpts((*analytics.Store).Flows)},
		"goodpractice":    {"factors most associated with good rather than problematic episodes", withOpts((*analytics.Store).GoodPractice)},
		"recommendations": {"recommendations by kind × level and by pattern type", noOpts((*analytics.Store).Recommendations)},
		"episodes":        {"the episodes behind a figure, paginated, with anonymised excerpts", withOpts((*analytics.Store).Episodes)},
		"reviews":         {"the review list with facets", withOpts((*analytics.Store).Reviews)},
		"search-recommendations": {"recommendations by text, kind, level and pattern type, with facets",
			withOpts((*analytics.Store).SearchRecommendations)},
		"search-patterns": {"pattern instances by text, pattern and nature, with facets", withOpts((*analytics.Store).SearchPatterns)},
	}
}

func queryCommand() command {
	return command{
		name:    "query",
		usage:   "VIEW [--collection UK|NATION|REGION|BOARD|saved:NAME] [--from YEAR] [--to YEAR] [--opts JSON] [--role ROLE ...]",
		summary: "Print any analytics view as JSON, with the same suppression and scope as the dashboard.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			c.extra["collection"] = fs.String("collection", "UK", "collection: UK, a nation, region or board code, or saved:NAME")
			c.extra["from"] = fs.String("from", "", "first completion year")
			c.extra["to"] = fs.String("to", "", "last completion year")
			c.extra["frame"] = fs.String("frame", "", "frame id@version (default: the default frame)")
			c.extra["opts"] = fs.String("opts", "", "the view's options as JSON, e.g. '{\"tree\":\"pattern\"}'")
			c.extra["role"] = fs.String("role", string(analytics.RoleNationalResearcher), "answer as this role: public, board_member, regional_analyst, national_researcher, admin")
			c.extra["region"] = fs.String("region", "", "the region in scope (regional_analyst)")
			c.extra["board"] = fs.String("board", "", "the board in scope (board_member)")
			c.extra["unsuppressed"] = fs.String("unsuppressed", "false", "true to ask for unsuppressed figures (admin, or a researcher with the grant)")
		},
		run: runQuery,
	}
}

func runQuery(ctx context.Context, r *runner) error {
	vs := views()
	if len(r.cfg.Args) != 1 {
		names := make([]string, 0, len(vs))
		for n, v := range vs {
			names = append(names, fmt.Sprintf("  %-16s %s", n, v.summary))
		}
		sort.Strings(names)
		return usageError{"name one view:\n" + strings.Join(names, "\n")}
	}
	vw, ok := vs[r.cfg.Args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown view %q; run 'collate query' to list them", r.cfg.Args[0])}
	}
	sel := analytics.Selection{Collection: *r.cfg.extra["collection"], Frame: *r.cfg.extra["frame"]}
	for _, y := range []struct {
		flag string
		dst  *int
	}{{"from", &sel.From}, {"to", &sel.To}} {
		if s := *r.cfg.extra[y.flag]; s != "" {
			if _, err := fmt.Sscanf(s, "%d", y.dst); err != nil {
				return usageError{fmt.Sprintf("--%s must be a year", y.flag)}
			}
		}
	}
	viewer := analytics.Viewer{
		Role:         analytics.Role(*r.cfg.extra["role"]),
		Region:       *r.cfg.extra["region"],
		Board:        *r.cfg.extra["board"],
		Unsuppressed: *r.cfg.extra["unsuppressed"] == "true",
		Name:         "cli",
	}
	if err := viewer.Check(); err != nil {
		return usageError{err.Error()}
	}
	db, err := r.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := analytics.New(analytics.Options{DB: db, Logger: r.log})
	if err != nil {
		return err
	}
	res, err := vw.run(ctx, store, viewer, sel, []byte(*r.cfg.extra["opts"]))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
