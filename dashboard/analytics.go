package dashboard

import (
	"context"

	"github.com/collate-project/collate/analytics"
)

// Analytics is the part of package analytics that the dashboard calls;
// *analytics.Store satisfies it. Every method takes the request's Viewer, so
// access scope and suppression are applied inside analytics, and pages and
// API handlers call the same methods.
type Analytics interface {
	Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error)
	Frame(ctx context.Context, key string) (*analytics.FrameInfo, error)
	Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error)
	Process(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Process, error)
	Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RecurrenceOptions) (*analytics.Recurrence, error)
	Breakdown(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.BreakdownOptions) (*analytics.Breakdown, error)
	Compare(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CompareOptions) (*analytics.Comparison, error)
	Funnel(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FunnelOptions) (*analytics.Funnel, error)
	Trends(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.TrendOptions) (*analytics.Trends, error)
	RepeatedLessons(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RepeatedOptions) (*analytics.RepeatedLessons, error)
	CoOccurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CoOccurrenceOptions) (*analytics.CoOccurrence, error)
	Flows(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FlowOptions) (*analytics.Flows, error)
	GoodPractice(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.GoodPracticeOptions) (*analytics.GoodPractice, error)
	Recommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Recommendations, error)
	Episodes(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.EpisodePage, error)
	Reviews(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.ReviewQuery) (*analytics.ReviewPage, error)
	Review(ctx context.Context, v analytics.Viewer, id string) (*analytics.ReviewDetail, error)
}

var _ Analytics = (*analytics.Store)(nil)
