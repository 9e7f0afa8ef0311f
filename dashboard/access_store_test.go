package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/collate-project/collate/dashboard/auth"
)

// TestAccessMatrixRealStore asks every page, API call, download and research
// query as every role, for collections and reviews in and out of the role's
// scope, over the demo collection loaded through the real ingest path and
// served by the real analytics store: the answers are what analytics
// decides for each viewer, not what a fake was told to say. Where a figure
// comes back, the test also checks that suppression applied exactly where
// the role does not see the collection in full.
func TestAccessMatrixRealStore(t *testing.T) {
	private := mustAccServer(t, accOptions{demo: true})
	public := mustAccServer(t, accOptions{demo: true, public: true})

	// A review of ENG-NE-NCL (in the regional analyst's and the board
	// member's scope) and one of Wales (in neither).
	reviewIn, reviewOut := demoReview(t, private, "board = 'ENG-NE-NCL'"), demoReview(t, private, "nation = 'WLS'")

	type role struct {
		name   string
		srv    *accServer
		client func(t *testing.T) *accClient
		own    string            // a collection in scope
		full   func(string) bool // sees this collection in full detail
	}
	none := func(string) bool { return false }
	roles := []role{
		{"anonymous", private, private.client, "ENG", none},
		{"public", public, public.client, "ENG", none},
		{"admin", private, func(t *testing.T) *accClient { return private.signedIn(t, "ada") }, "ENG", none},
		{"researcher+grant", private, func(t *testing.T) *accClient { return private.signedIn(t, "nora") }, "ENG", func(string) bool { return true }},
		{"researcher", private, func(t *testing.T) *accClient { return private.signedIn(t, "nick") }, "ENG", none},
		{"regional analyst", private, func(t *testing.T) *accClient { return private.signedIn(t, "ray") }, "ENG-NE",
			func(c string) bool { return strings.HasPrefix(c, "ENG-NE") }},
		{"board member", private, func(t *testing.T) *accClient { return private.signedIn(t, "bea") }, "ENG-NE-NCL",
			func(c string) bool { return c == "ENG-NE-NCL" }},
		{"board token", private, func(t *testing.T) *accClient { return private.tokenClient(t, "bea") }, "ENG-NE-NCL",
			func(c string) bool { return c == "ENG-NE-NCL" }},
	}
	const other = "WLS-CV" // out of every scoped role's scope

	// Statuses, one per role in the order above (anonymous, public, admin,
	// researcher+grant, researcher, regional analyst, board member, board
	// token): in for the role's own collection or review, out for another.
	type endpoint struct {
		method, path string
		scoped       bool   // add ?collection=own or other
		in, out      string // out is empty when the endpoint has no scope
		download     bool   // a 200 is an attachment, and audited
	}
	endpoints := []endpoint{
		// Pages.
		{"GET", "/", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/factors", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/factors/FL.WORK.03", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/patterns", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/compare", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/trends", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/recommendations", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/reviews", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		// A review out of scope answers exactly as a missing one, so IDs
		// cannot be probed. An admin reads every review, as they may drill
		// down everywhere.
		{"GET", "/reviews/{review}", false, "303 404 200 200 404 200 200 200", "303 404 200 200 404 404 404 404", false},
		{"GET", "/query", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", false},
		{"GET", "/upload", false, "303 403 200 403 403 403 200 200", "", false},
		{"GET", "/admin/audit", false, "303 403 200 403 403 403 403 403", "", false},
		{"GET", "/research", false, "303 403 200 200 200 403 403 403", "", false},
		// API.
		{"GET", "/api/v1/collections", false, "401 200 200 200 200 200 200 200", "", false},
		{"GET", "/api/v1/overview", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		{"GET", "/api/v1/recurrence", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		{"GET", "/api/v1/breakdown", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		{"GET", "/api/v1/compare", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		{"GET", "/api/v1/trends", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		{"GET", "/api/v1/recommendations", true, "401 200 200 200 200 200 200 200", "401 200 200 200 200 200 200 200", false},
		// Review lists and excerpts need full detail (or the admin role);
		// aggregates come suppressed instead.
		{"GET", "/api/v1/reviews", true, "401 403 200 200 403 200 200 200", "401 403 200 200 403 403 403 403", false},
		{"GET", "/api/v1/reviews/{review}", false, "401 404 200 200 404 200 200 200", "401 404 200 200 404 404 404 404", false},
		{"GET", "/api/v1/episodes", true, "401 403 200 200 403 200 200 200", "401 403 200 200 403 403 403 403", false},
		// Downloads. A page's table downloads as the page shows it: a review
		// list the role may not see comes as headings alone.
		{"GET", "/api/v1/episodes.csv", true, "401 403 200 200 403 200 200 200", "401 403 200 200 403 403 403 403", true},
		{"GET", "/factors?download=factors_framework", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", true},
		{"GET", "/reviews?download=reviews_list", true, "303 200 200 200 200 200 200 200", "303 200 200 200 200 200 200 200", true},
		{"GET", "/admin/audit.csv", false, "303 403 200 403 403 403 403 403", "", true},
		// Research queries: reference, published and row-level tables.
		{"POST", "/api/v1/research#geography", false, "401 403 200 200 200 403 403 403", "", false},
		{"POST", "/api/v1/research#factor_recurrence", false, "401 403 200 422 200 403 403 403", "", false},
		{"POST", "/api/v1/research#reviews", false, "401 403 422 200 422 403 403 403", "", false},
	}
	research := map[string]string{
		"geography":         `SELECT count(*) AS boards FROM geography`,
		"factor_recurrence": `SELECT count(*) FILTER (WHERE suppressed) AS withheld, count(*) FILTER (WHERE reviews = 0 AND suppressed) AS zero FROM factor_recurrence`,
		"reviews":           `SELECT count(*) AS n FROM reviews`,
	}
	for ri, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			c := r.client(t)
			for _, ep := range endpoints {
				for _, side := range []string{"in", "out"} {
					want := ep.in
					if side == "out" {
						want = ep.out
					}
					if want == "" {
						continue
					}
					want = strings.Fields(want)[ri]
					path, coll := ep.path, r.own
					if side == "out" {
						coll = other
					}
					review := reviewIn
					if side == "out" {
						review = reviewOut
					}
					path = strings.ReplaceAll(path, "{review}", review)
					if ep.scoped {
						sep := "?"
						if strings.Contains(path, "?") {
							sep = "&"
						}
						path += sep + "collection=" + coll
					}
					downloadsBefore := countAudit(t, r.srv, auth.ActionDownload)
					var resp *http.Response
					var body []byte
					if base, table, ok := strings.Cut(path, "#"); ok {
						resp, body = c.do("POST", base, strings.NewReader(`{"sql": `+jsonString(research[table])+`}`), "application/json")
					} else {
						resp, body = c.do(ep.method, path, nil, "")
					}
					if got := fmt.Sprint(resp.StatusCode); got != want {
						t.Errorf("%s %s (%s scope): status %s, want %s\n%.300s", ep.method, path, side, got, want, body)
						continue
					}
					if resp.StatusCode != http.StatusOK {
						continue
					}
					if ep.download {
						if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
							t.Errorf("%s: a download without an attachment header (%q)", path, cd)
						}
						if !strings.HasPrefix(path, "/admin/audit") && countAudit(t, r.srv, auth.ActionDownload) != downloadsBefore+1 {
							t.Errorf("%s: the download was not audited", path)
						}
					}
					checkScope(t, path, body, resp.Header.Get("Content-Type"), ep.scoped, r.full(coll), review)
					// No review of another place shows anywhere a scoped role looks.
					if r.own != "ENG" {
						for _, id := range reviewIDs.FindAllString(string(body), -1) {
							if !strings.HasPrefix(id, r.own) && !(strings.Contains(path, "/reviews/") && id == review) {
								t.Errorf("%s: %s sees review %s, outside %s", path, r.name, id, r.own)
								break
							}
						}
					}
				}
			}
		})
	}
}

// checkScope checks what a 200 holds: API figures suppressed exactly when the
// viewer does not see the collection in full; a review's page or record is
// that review; research figures are never a suppressed 0.
func checkScope(t *testing.T, path string, body []byte, ctype string, scoped, full bool, review string) {
	t.Helper()
	switch {
	case strings.HasPrefix(path, "/api/v1/research"):
		var res struct {
			Columns []struct{ Name string }
			Rows    [][]any
		}
		if err := json.Unmarshal(body, &res); err != nil || len(res.Rows) != 1 {
			t.Errorf("%s: %.200s", path, body)
			return
		}
		if len(res.Columns) == 2 && res.Columns[1].Name == "zero" {
			if fmt.Sprint(res.Rows[0][0]) == "0" || fmt.Sprint(res.Rows[0][1]) != "0" {
				t.Errorf("%s: published tier has %v withheld and %v withheld zeros; want some and none", path, res.Rows[0][0], res.Rows[0][1])
			}
		}
	case strings.Contains(path, "download=factors_framework"):
		cells := strings.FieldsFunc(string(body), func(r rune) bool { return r == ',' || r == '\n' })
		withheld := slices.Contains(cells, "c")
		if full && withheld {
			t.Errorf("%s: figures withheld from a role that sees the collection in full", path)
		}
		if strings.Contains(path, "collection=WLS-CV") && !full && !withheld {
			t.Errorf("%s: no figure withheld for a small region outside the role's scope", path)
		}
	case strings.Contains(path, "/reviews/"):
		if !strings.Contains(string(body), review) {
			t.Errorf("%s: the answer does not hold review %s", path, review)
		}
	case strings.HasPrefix(path, "/api/v1/") && strings.HasPrefix(ctype, "application/json") && scoped:
		var doc struct {
			Provenance *struct {
				Policy struct{ Suppressed bool }
			}
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		if doc.Provenance == nil {
			return // lists of reviews and episodes carry no provenance of their own
		}
		if doc.Provenance.Policy.Suppressed == full {
			t.Errorf("%s: suppressed = %v, want %v", path, doc.Provenance.Policy.Suppressed, !full)
		}
	}
}

// reviewIDs finds the demo generator's review IDs: board code, year, kind, number.
var reviewIDs = regexp.MustCompile(`\b(ENG|WLS|SCT|NIR)-[A-Z]+-[A-Z]+-[0-9]{4}-[A-Z]+-[0-9]+\b`)

// demoReview is the ID of one current review matching where.
func demoReview(t *testing.T, s *accServer, where string) string {
	t.Helper()
	var id string
	if err := s.db.QueryRow(`SELECT min(review_id) FROM reviews WHERE status = 'current' AND ` + where).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func countAudit(t *testing.T, s *accServer, action auth.Action) int {
	t.Helper()
	es, err := s.store.AuditLog(auth.WithPrincipal(context.Background(), auth.CLI("t")), auth.AuditFilter{Action: action, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
