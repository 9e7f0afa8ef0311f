package dashboard_test

import (
	"database/sql"
	"fmt"
	"log/slog"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// demoExports builds a small deterministic collection from the shipped
// example: 48 reviews over the boards of two regions and four years, with
// episodes dropped in turn so factors and patterns differ in their counts,
// plus one review whose free text carries the XSS payloads.
func demoExports(t testing.TB) []*ingest.Export {
	t.Helper()
	geo := schemas.LoadGeography()
	var boards []schemas.Place
	for _, p := range geo.Places() {
		if p.Region == "ENG-NE" || p.Region == "ENG-NW" {
			boards = append(boards, p)
		}
	}
	var out []*ingest.Export
	for i := 0; i < 48; i++ {
		p := boards[i%len(boards)]
		e := mustExample(t, fmt.Sprintf("DEMO-%s-%03d", p.Board, i))
		e.Review.Board, e.Review.Region, e.Review.Nation = p.Board, p.Region, p.Nation
		e.Review.Completed.Year = 2020 + i%4
		e.Review.Kind = ingest.ReviewKinds[i%3]
		drop := i % 4 // 0: keep all; 1..3: drop that episode
		if drop > 0 {
			keep := e.Episodes[:0:0]
			for _, ep := range e.Episodes {
				if ep.Number != drop {
					keep = append(keep, ep)
				}
			}
			e.Episodes = keep
			var pats []ingest.Pattern
			for _, pt := range e.Patterns {
				var eps []int
				for _, n := range pt.Episodes {
					if n != drop {
						eps = append(eps, n)
					}
				}
				if len(eps) > 0 {
					pt.Episodes = eps
					pats = append(pats, pt)
				}
			}
			e.Patterns = pats
			var recs []ingest.Recommendation
			for _, r := range e.Recommendations {
				var ps []int
				for _, n := range r.Patterns {
					for _, pt := range pats {
						if pt.Number == n {
							ps = append(ps, n)
						}
					}
				}
				r.Patterns = ps
				recs = append(recs, r)
			}
			e.Recommendations = recs
		}
		out = append(out, e)
	}
	return append(out, xssExport(t))
}

// mustServer builds the dashboard exactly as cmd does.
func mustServer(t testing.TB, db *sql.DB, w *ingest.Writer, log *slog.Logger) *dashboard.Server {
	t.Helper()
	s, err := dashboard.New(dashboard.Options{
		Analytics:     mustAnalytics(t, db, log),
		Writer:        w,
		Logger:        log,
		DefaultViewer: analytics.Viewer{Role: analytics.RoleAdmin, Name: "test"},
		Now:           fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAnalytics(t testing.TB, db *sql.DB, log *slog.Logger) *analytics.Store {
	t.Helper()
	a, err := analytics.New(analytics.Options{DB: db, Logger: log, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
