package research

import (
	"context"
	"fmt"

	"github.com/collate-project/collate/analytics"
)

// Aggregates is what the published tier needs of analytics; *analytics.Store
// is one.
type Aggregates interface {
	Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error)
	Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RecurrenceOptions) (*analytics.Recurrence, error)
}

// PublishedViewer is whom the published tables are computed for: a national
// researcher without the unsuppressed grant, the widest viewer who queries
// the published tier, so everyone who does sees only figures that viewer
// may see.
var PublishedViewer = analytics.Viewer{Role: analytics.RoleNationalResearcher, Name: "research published tier"}

// PublishedTables returns an Options.Published that asks analytics for the
// figures the dashboard shows, as PublishedViewer, for every place of the
// geography (the UK, nations, regions and boards) over all years and the
// default frame:
//
//   - collections: each place with its reviews received and coded and its
//     episodes;
//   - factor_recurrence and pattern_recurrence: each place × each node of
//     the factor or pattern tree, at every depth, with the reviews citing
//     it, their share of reviews coded and its episodes.
//
// Suppression, secondary suppression included, is analytics' own: a
// withheld figure arrives as "c" and is stored as NULL, never 0, with a
// suppressed column saying so for the reviews count. Nothing here decides
// what to withhold. Mentions (codings) are left out: a node's mentions are
// exactly the sum of its children's, a relation analytics does not protect,
// so in SQL a withheld child's mentions would be its parent's less its
// published siblings'.
func PublishedTables(a Aggregates) func(ctx context.Context) ([]Table, error) {
	return func(ctx context.Context) ([]Table, error) {
		v := PublishedViewer
		cs, err := a.Collections(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("collections: %w", err)
		}
		var places []analytics.CollectionInfo
		var walk func(n analytics.CollectionNode)
		walk = func(n analytics.CollectionNode) {
			places = append(places, n.CollectionInfo)
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(cs.Geography)

		colls := Table{Name: "collections", Description: "Every place (UK, nation, region, board) with its reviews received and coded and its key practice episodes, as the dashboard publishes them: NULL is a suppressed figure (shown as c), never 0.",
			Columns: []Column{{"collection", "VARCHAR"}, {"level", "VARCHAR"}, {"name", "VARCHAR"}, {"parent", "VARCHAR"}, {"frame", "VARCHAR"},
				{"reviews_received", "BIGINT"}, {"reviews_coded", "BIGINT"}, {"episodes", "BIGINT"}}}
		trees := []struct{ tree, table, what string }{
			{"factor", "factor_recurrence", "contributory factor"},
			{"pattern", "pattern_recurrence", "pattern"},
		}
		recurrence := make([]Table, len(trees))
		for i, tr := range trees {
			recurrence[i] = Table{Name: tr.table,
				Description: fmt.Sprintf("Each place × each %s node (every depth): reviews citing it or a node under it, their share of reviews coded, and episodes, as the dashboard publishes them. NULL is a suppressed figure (shown as c), never 0; suppressed says the reviews count is withheld.", tr.what),
				Columns: []Column{{"collection", "VARCHAR"}, {"level", "VARCHAR"}, {"frame", "VARCHAR"}, {"code", "VARCHAR"}, {"parent_code", "VARCHAR"},
					{"depth", "INTEGER"}, {"label", "VARCHAR"}, {"reviews", "BIGINT"}, {"suppressed", "BOOLEAN"}, {"share", "DOUBLE"},
					{"episodes", "BIGINT"}}}
		}
		for _, p := range places {
			for i, tr := range trees {
				rec, err := a.Recurrence(ctx, v, analytics.Selection{Collection: p.Ref}, analytics.RecurrenceOptions{Tree: tr.tree})
				if err != nil {
					return nil, fmt.Errorf("%s recurrence of %s: %w", tr.tree, p.Ref, err)
				}
				frame := rec.Provenance.Frame
				if i == 0 {
					colls.Rows = append(colls.Rows, []any{p.Ref, string(p.Level), p.Name, nullIfEmpty(p.Parent), frame,
						count(rec.Totals.ReviewsReceived), count(rec.Totals.ReviewsCoded), count(rec.Totals.Episodes)})
				}
				for _, r := range rec.Rows {
					recurrence[i].Rows = append(recurrence[i].Rows, []any{p.Ref, string(p.Level), frame, r.Code, nullIfEmpty(r.Parent),
						r.Depth, r.Label, count(r.Reviews), r.Reviews.Suppressed(), figure(r.Share), count(r.Episodes)})
				}
			}
		}
		return append([]Table{colls}, recurrence...), nil
	}
}

// count is a published count, or nil (NULL) when analytics withheld it.
func count(c analytics.Count) any {
	if n, ok := c.Value(); ok {
		return int64(n)
	}
	return nil
}

// figure is a published figure, or nil when withheld or not available.
func figure(f analytics.Figure) any {
	if v, ok := f.Value(); ok {
		return v
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
