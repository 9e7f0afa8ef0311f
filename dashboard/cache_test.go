package dashboard_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
)

// TestCacheFollowsUploads: a stored upload clears cached figures, so the
// next page counts the new review.
func TestCacheFollowsUploads(t *testing.T) {
	f := mustFixture(t)
	received := func() int { return reviewsReceived(t, f) }
	before := received()
	if again := received(); again != before {
		t.Fatalf("the same question gave %d then %d", before, again)
	}
	resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"new.json": mustJSON(t, mustExample(t, "CACHE-2024-01"))}, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	if after := received(); after != before+1 {
		t.Errorf("reviews received %d after one upload to %d", after, before)
	}
}

// TestCacheKeepsViewersApart: a figure cached for a viewer who sees it in
// full is never handed to one who must see it suppressed.
func TestCacheKeepsViewersApart(t *testing.T) {
	f := mustFixture(t)
	log := slog.New(slog.DiscardHandler)
	s, err := dashboard.New(dashboard.Options{Analytics: mustAnalytics(t, f.db, log), Writer: f.writer, Logger: log,
		Authenticate: func(r *http.Request) (analytics.Viewer, error) {
			if r.Header.Get("X-Test-Viewer") == "researcher" {
				return suppressedViewer, nil
			}
			return testViewer, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.http.Config.Handler = s.Handler()
	get := func(who string) string {
		req, _ := http.NewRequest(http.MethodGet, f.http.URL+"/api/v1/overview?collection=ENG-NE-NCL", nil)
		req.Header.Set("X-Test-Viewer", who)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ov struct {
			Totals struct {
				ReviewsReceived any `json:"reviews_received"`
			} `json:"totals"`
		}
		json.NewDecoder(resp.Body).Decode(&ov)
		b, _ := json.Marshal(ov.Totals.ReviewsReceived)
		return string(b)
	}
	full := get("admin")
	if full == `"c"` || full == "null" {
		t.Fatalf("the unsuppressed viewer got %s", full)
	}
	if got := get("researcher"); got != `"c"` {
		t.Errorf("after an unsuppressed request, the researcher got %s for a small board, want \"c\"", got)
	}
}

// TestUploadsAnnounceChanges: with analytics keeping the data version
// between announced writes (as collate serve runs it), a stored upload is
// counted by the next request, with the result cache on or off.
func TestUploadsAnnounceChanges(t *testing.T) {
	for _, entries := range []int{0, -1} {
		f := mustFixture(t)
		log := slog.New(slog.DiscardHandler)
		a, err := analytics.New(analytics.Options{DB: f.db, Logger: log, WritesAnnounced: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := dashboard.New(dashboard.Options{Analytics: a, Writer: f.writer, Logger: log,
			DefaultViewer: testViewer, CacheEntries: entries})
		if err != nil {
			t.Fatal(err)
		}
		f.http.Config.Handler = s.Handler()
		before := reviewsReceived(t, f)
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"new.json": mustJSON(t, mustExample(t, "ANNOUNCE-2024-01"))}, "")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		if after := reviewsReceived(t, f); after != before+1 {
			t.Errorf("cache entries %d: reviews received %d after one upload to %d", entries, after, before)
		}
	}
}

// reviewsReceived asks the overview API how many reviews the store holds.
func reviewsReceived(t *testing.T, f *fixture) int {
	t.Helper()
	_, body := f.get(t, "/api/v1/overview")
	var ov struct {
		Totals struct {
			ReviewsReceived int `json:"reviews_received"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(body, &ov); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return ov.Totals.ReviewsReceived
}
