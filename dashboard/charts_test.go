package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/collate-project/collate/analytics"
)

// chartPages are the fake-backed pages whose chart options are golden.
var chartPages = []string{"/", "/factors", "/factors/FL.WORK.03", "/patterns", "/compare", "/trends", "/recommendations"}

var jsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// TestChartOptionsGolden checks every chart's options to the byte, and that
// every chart has aria on, a table, a CSV link and deterministic identifiers.
func TestChartOptionsGolden(t *testing.T) {
	f := mustFakeServer(t)
	seen := map[string]bool{}
	for _, path := range chartPages {
		_, body := f.get(t, path)
		doc := mustParse(t, body)
		charts := findAll(doc, byAttr("data-chart", ""))
		if len(charts) == 0 {
			t.Errorf("%s: no charts", path)
		}
		for _, ch := range charts {
			id, _ := attr(ch, "data-chart")
			if !jsIdent.MatchString(id) {
				t.Errorf("%s: chart id %q is not a JS identifier", path, id)
			}
			if seen[id] && path != "/patterns" {
				t.Errorf("chart id %s is used on two pages", id)
			}
			seen[id] = true
			blocks := findAll(doc, byID(id+"-options"))
			if len(blocks) != 1 {
				t.Fatalf("%s: chart %s has %d option blocks", path, id, len(blocks))
			}
			raw := text(blocks[0])
			var env struct {
				Options map[string]any `json:"options"`
			}
			if err := json.Unmarshal([]byte(raw), &env); err != nil {
				t.Fatalf("%s: %s: %v", path, id, err)
			}
			aria, _ := env.Options["aria"].(map[string]any)
			if aria["enabled"] != true {
				t.Errorf("%s: aria is not enabled", id)
			}
			if tt, _ := env.Options["tooltip"].(map[string]any); tt["renderMode"] != "richText" {
				t.Errorf("%s: tooltip renders HTML", id)
			}
			if len(findAll(doc, byID(id))) != 1 || len(findAll(doc, byAttr("data-png", id))) != 1 {
				t.Errorf("%s: chart %s lacks its element or PNG button", path, id)
			}
			var pretty bytes.Buffer
			json.Indent(&pretty, []byte(raw), "", "  ")
			pretty.WriteByte('\n')
			golden(t, "charts/"+id+".json", pretty.Bytes())
		}
	}
}

// TestXSSPayloadsStayText sends the payloads through every place uploaded
// text reaches: chart labels, tables, excerpts, facets and the switcher.
func TestXSSPayloadsStayText(t *testing.T) {
	f := mustFakeServer(t)
	for _, path := range []string{"/", "/patterns", "/factors/FL.WORK.03", "/reviews", "/query?what=episodes", "/trends"} {
		t.Run(path, func(t *testing.T) {
			_, body := f.get(t, path)
			for _, raw := range []string{"<script>alert(1)", "<img src=x"} {
				if bytes.Contains(body, []byte(raw)) {
					t.Errorf("raw payload %q in the page", raw)
				}
			}
			doc := mustParse(t, body)
			if n := len(findAll(doc, byTag("img"))); n != 0 {
				t.Errorf("%d img elements injected", n)
			}
			for _, s := range findAll(doc, byTag("script")) {
				if typ, _ := attr(s, "type"); typ != "application/json" {
					if _, ok := attr(s, "src"); !ok {
						t.Errorf("inline script element: %q", text(s))
					}
				}
			}
			all := text(doc)
			if path != "/trends" && !strings.Contains(all, xssScript) && !strings.Contains(all, xssImg) && !strings.Contains(string(body), `\u003c/script\u003e`) {
				t.Errorf("the payload text is not shown at all")
			}
		})
	}
}

// TestSuppressedLooksSuppressed: a suppressed figure is "c" in tables and
// CSV, and "-" (no value) in chart data, never 0.
func TestSuppressedLooksSuppressed(t *testing.T) {
	f := mustFakeServer(t)
	_, body := f.get(t, "/factors")
	doc := mustParse(t, body)
	cells := findAll(doc, byAttr("data-suppressed", "true"))
	if len(cells) == 0 {
		t.Fatal("no suppressed cells on the factors page")
	}
	for _, c := range cells {
		if got := text(c); got != "c" {
			t.Errorf("suppressed cell shows %q", got)
		}
	}
	resp, csv := f.get(t, "/factors?download=factors_framework")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if !strings.HasPrefix(strings.Trim(lines[len(lines)-1], `"`), "# Source: Collate, collection UK") {
		t.Errorf("last CSV line is not the provenance: %q", lines[len(lines)-1])
	}
	if !strings.Contains(string(csv), ",c,") {
		t.Error("no suppressed cell in the CSV")
	}
	// The CSV has exactly the rows of the HTML table.
	table := findAll(doc, byID("factors_framework-table"))
	var rows int
	for _, tb := range table {
		if tb.Data == "table" {
			rows = len(findAll(tb, byTag("tr"))) - 1
		}
	}
	if got := len(lines) - 2; got != rows {
		t.Errorf("CSV has %d rows, the table %d", got, rows)
	}
}

// TestXSSReviewPage loads a review whose own text carries the payloads
// through the real ingest path and shows it.
func TestXSSReviewPage(t *testing.T) {
	f := mustFixture(t)
	resp, body := f.get(t, "/reviews/XSS-TEST-2024-01")
	if resp.StatusCode == http.StatusServiceUnavailable {
		t.Skip("analytics cannot show a review yet (503)")
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, truncate(body, 500))
	}
	if bytes.Contains(body, []byte("<script>alert(1)")) || bytes.Contains(body, []byte("<img src=x")) {
		t.Error("a raw payload is in the page")
	}
	doc := mustParse(t, body)
	if n := len(findAll(doc, byTag("img"))); n != 0 {
		t.Errorf("%d img elements", n)
	}
	titles := findAll(doc, byClass("episode-title"))
	if len(titles) == 0 || !strings.Contains(text(titles[0]), xssScript) {
		t.Errorf("the episode title is not shown as text")
	}
}

// TestRealSuppression looks at a region's boards through a researcher
// without a grant: on the real store, small boards' figures are "c" in the
// table and have no value in the chart.
func TestRealSuppression(t *testing.T) {
	f := mustFixture(t)
	s := mustServerAs(t, f.db, f.writer, slog.New(slog.DiscardHandler), suppressedViewer)
	f.http.Config.Handler = s.Handler()
	resp, body := f.get(t, "/factors/FL.WORK.03?collection=ENG-NE")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc := mustParse(t, body)
	table := findAll(doc, byID("factor_places-table"))
	if len(table) != 1 {
		t.Fatal("no places table")
	}
	sup := findAll(table[0], byAttr("data-suppressed", "true"))
	if len(sup) == 0 {
		t.Fatal("no suppressed cell among the boards of a region with a few hundred reviews in the UK")
	}
	for _, c := range sup {
		if text(c) != "c" {
			t.Errorf("suppressed cell shows %q", text(c))
		}
	}
	raw := text(findAll(doc, byID("factor_places-options"))[0])
	var env struct {
		Options struct {
			Series []struct {
				Type string `json:"type"`
				Data []struct {
					Value []any `json:"value"`
				} `json:"data"`
			} `json:"series"`
		} `json:"options"`
	}
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		t.Fatal(err)
	}
	dashes := 0
	for _, d := range env.Options.Series[0].Data {
		if len(d.Value) == 3 && d.Value[2] == "-" {
			dashes++
		}
	}
	if dashes == 0 {
		t.Error("no suppressed cell in the heatmap data")
	}
	if len(env.Options.Series) < 2 || env.Options.Series[1].Type != "scatter" {
		t.Error("suppressed heatmap cells are not labelled c")
	}
}

// regionPageAs serves the fixture to viewer v and returns the North East's
// factors page, which must answer 200.
func regionPageAs(t *testing.T, f *fixture, v analytics.Viewer) []byte {
	t.Helper()
	f.http.Config.Handler = mustServerAs(t, f.db, f.writer, slog.New(slog.DiscardHandler), v).Handler()
	resp, body := f.get(t, "/factors?collection=ENG-NE")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the North East's factors: status %d", resp.StatusCode)
	}
	return body
}

// TestYearRangesWhereWithheld: a viewer from whom figures are withheld is
// told beside the picker that such figures cover all years, and a page asked
// for a range of years explains the refusal; a viewer who sees everything
// gets the range and no note.
func TestYearRangesWhereWithheld(t *testing.T) {
	f := mustFixture(t)
	for _, tc := range []struct {
		name   string
		v      analytics.Viewer
		status int
		note   bool
	}{
		{"withheld", suppressedViewer, http.StatusUnprocessableEntity, true},
		{"sees everything", testViewer, http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := regionPageAs(t, f, tc.v)
			if got := len(findAll(mustParse(t, body), byClass("picker-note"))) == 1; got != tc.note {
				t.Errorf("note about all years shown %v, want %v", got, tc.note)
			}
			resp, body := f.get(t, "/factors?collection=ENG-NE&from=2020")
			if resp.StatusCode != tc.status {
				t.Fatalf("from 2020: status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != http.StatusOK && !strings.Contains(string(body), "cover all years") {
				t.Errorf("the refusal does not say why:\n%s", body)
			}
		})
	}
}

// TestNarrowedCollectionsWhereWithheld: a saved collection narrowed by
// agency is offered in the switcher, and answered, only to a viewer who
// sees it in full. Anyone else asking for it by URL is told why not: the
// API answers 403, and each part of a page says so in place of its figures.
func TestNarrowedCollectionsWhereWithheld(t *testing.T) {
	f := mustFixture(t)
	_, err := mustAnalytics(t, f.db, slog.New(slog.DiscardHandler)).SaveCollection(context.Background(), testViewer,
		analytics.SavedCollection{Name: "ne-police", Title: "North East police", Regions: []string{"ENG-NE"}, Agencies: []string{"Police"}})
	if err != nil {
		t.Fatal(err)
	}
	const why = "narrowed by review kind or agency"
	for _, tc := range []struct {
		name string
		v    analytics.Viewer
		open bool
	}{
		{"withheld", suppressedViewer, false},
		{"sees everything", testViewer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := regionPageAs(t, f, tc.v)
			if offered := len(findAll(mustParse(t, body), byAttr("value", "saved:ne-police"))) > 0; offered != tc.open {
				t.Errorf("the switcher offers the narrowed collection: %v, want %v", offered, tc.open)
			}
			resp, body := f.get(t, "/api/v1/recurrence?collection=saved:ne-police")
			if want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[tc.open]; resp.StatusCode != want {
				t.Fatalf("API: status %d, want %d\n%s", resp.StatusCode, want, body)
			}
			if !tc.open && !strings.Contains(string(body), why) {
				t.Errorf("the API's refusal does not say why:\n%s", body)
			}
			resp, body = f.get(t, "/factors?collection=saved:ne-police")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page: status %d", resp.StatusCode)
			}
			if told := strings.Contains(string(body), why); told == tc.open {
				t.Errorf("the page tells why the figures are withheld: %v", told)
			}
		})
	}
}
