package dashboard_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/collate-project/collate/analytics"
)

// TestReviewsAgencyFacet checks that the review list leaves out the agencies
// facet (which reads every review) for wide collections until it is asked
// for, shows it for a board, and keeps it while filtering.
func TestReviewsAgencyFacet(t *testing.T) {
	f := mustFixture(t)
	for _, c := range []struct {
		path       string
		checkboxes bool
	}{
		{"/reviews", false},
		{"/reviews?collection=ENG-NE", false},
		{"/reviews?facet=agencies", true},
		{"/reviews?collection=ENG-NE-NCL", true},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, body := f.get(t, c.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			doc := mustParse(t, body)
			boxes := findAll(doc, byAttr("name", "agency"))
			if got := len(boxes) > 0; got != c.checkboxes {
				t.Errorf("%d agency checkboxes, want them: %v", len(boxes), c.checkboxes)
			}
			var show string
			for _, a := range findAll(doc, byTag("a")) {
				if h, _ := attr(a, "href"); strings.Contains(h, "facet=agencies") && strings.HasPrefix(text(a), "Filter by the agencies") {
					show = h
				}
			}
			if (show != "") == c.checkboxes {
				t.Errorf("link to show the agencies: %q", show)
			}
			if c.checkboxes && c.path == "/reviews?facet=agencies" && len(findAll(doc, byAttr("value", "agencies"))) != 1 {
				t.Error("the form does not keep the agencies facet")
			}
		})
	}
}

// TestAPIReviewsAgencyFacet checks the API follows the page: the agencies
// facet for a board or on request.
func TestAPIReviewsAgencyFacet(t *testing.T) {
	f := mustFixture(t)
	for _, c := range []struct {
		path string
		want bool
	}{
		{"/api/v1/reviews", false},
		{"/api/v1/reviews?agency_facet=true", true},
		{"/api/v1/reviews?collection=ENG-NE-NCL", true},
		{"/api/v1/reviews?collection=ENG-NE-NCL&agency_facet=false", false},
	} {
		resp, body := f.get(t, c.path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", c.path, resp.StatusCode)
		}
		var p analytics.ReviewPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if got := len(p.Facets.Agencies) > 0; got != c.want {
			t.Errorf("%s: %d agencies in the facet", c.path, len(p.Facets.Agencies))
		}
	}
}
