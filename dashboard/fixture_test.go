package dashboard_test

import (
	"database/sql"
	"log/slog"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// demoReviews is the size of the test collection: big enough that most
// figures clear the disclosure threshold, small enough to load in a second.
const demoReviews = 300

// demoExports is the demo generator's collection (package ingest/demo, fixed
// seed) plus one review whose free text carries the XSS payloads.
func demoExports(t testing.TB) []*ingest.Export {
	t.Helper()
	var out []*ingest.Export
	err := demo.Generate(demo.Options{Reviews: demoReviews, Seed: 1, FirstYear: 2018, LastYear: 2024}, func(i int, e *ingest.Export) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, xssExport(t))
}

// testViewer sees every collection in full, so drill-down, review lists and
// review pages can be tested; suppression is tested with suppressedViewer.
var testViewer = analytics.Viewer{Role: analytics.RoleAdmin, Unsuppressed: true, Name: "test"}

// suppressedViewer is a national researcher without a grant: every figure
// about fewer than k reviews is suppressed for them.
var suppressedViewer = analytics.Viewer{Role: analytics.RoleNationalResearcher, Name: "researcher"}

// mustServer builds the dashboard exactly as cmd does.
func mustServer(t testing.TB, db *sql.DB, w *ingest.Writer, log *slog.Logger) *dashboard.Server {
	return mustServerAs(t, db, w, log, testViewer)
}

func mustServerAs(t testing.TB, db *sql.DB, w *ingest.Writer, log *slog.Logger, v analytics.Viewer) *dashboard.Server {
	t.Helper()
	s, err := dashboard.New(dashboard.Options{
		Analytics:     mustAnalytics(t, db, log),
		Writer:        w,
		Logger:        log,
		DefaultViewer: v,
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
