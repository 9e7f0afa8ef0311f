package dashboard_test

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/collate-project/collate/analytics"
)

// TestEpisodesCSVRealStore downloads the episodes behind a factor as CSV from
// a real store with its default page size, as the factor page links to it.
func TestEpisodesCSVRealStore(t *testing.T) {
	f := mustFixture(t)
	s := mustServerAs(t, f.db, f.writer, slog.New(slog.DiscardHandler),
		analytics.Viewer{Role: analytics.RoleNationalResearcher, Unsuppressed: true, Name: "t"})
	f.http.Config.Handler = s.Handler()
	resp, body := f.get(t, "/api/v1/episodes.csv?collection=UK&code=FL.WORK.03")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	r := csv.NewReader(strings.NewReader(string(body)))
	r.FieldsPerRecord = -1 // the provenance line is one field
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	data := 0
	for _, r := range rows[1:] {
		if len(r) == len(rows[0]) && r[0] != "" && !strings.HasPrefix(r[0], "#") {
			data++
		}
	}
	if data == 0 || data > 100 {
		t.Fatalf("got %d episode rows, want 1 to 100 (one page)", data)
	}
	if resp, _ := f.get(t, "/api/v1/episodes.csv?collection=UK&code=FL.WORK.03&per_page=500"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("per_page=500: status %d, want 422 naming the limit", resp.StatusCode)
	}
}
