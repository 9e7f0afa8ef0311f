package analytics

import (
	"context"

	"github.com/collate-project/collate/ingest/errs"
)

func notYet(what string) error {
	return errs.E(errs.Unavailable, "analytics: %s is not available yet", what)
}

func (s *Store) coOccurrence(ctx context.Context, v Viewer, sel Selection, opt CoOccurrenceOptions) (*CoOccurrence, error) {
	return nil, notYet("co-occurrence")
}
func (s *Store) flows(ctx context.Context, v Viewer, sel Selection, opt FlowOptions) (*Flows, error) {
	return nil, notYet("flows")
}
func (s *Store) goodPractice(ctx context.Context, v Viewer, sel Selection, opt GoodPracticeOptions) (*GoodPractice, error) {
	return nil, notYet("good practice")
}
func (s *Store) recommendations(ctx context.Context, v Viewer, sel Selection) (*Recommendations, error) {
	return nil, notYet("recommendations")
}
func (s *Store) episodes(ctx context.Context, v Viewer, sel Selection, q EpisodeQuery) (*EpisodePage, error) {
	return nil, notYet("drill-down")
}
func (s *Store) reviews(ctx context.Context, v Viewer, sel Selection, q ReviewQuery) (*ReviewPage, error) {
	return nil, notYet("review list")
}
func (s *Store) review(ctx context.Context, v Viewer, id string) (*ReviewDetail, error) {
	return nil, notYet("review")
}
