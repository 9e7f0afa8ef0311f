package dashboard_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/schemas"
)

// Fuzz targets for every parser of query parameters, driven through the gin
// engine as a browser or API client would reach them. Seeds live in
// testdata/fuzz/<target>; `make fuzz` runs each for FUZZTIME.
//
// The typed targets (selection, pages, codes) run over the fake analytics,
// for speed, and compare the server's answer with an independent reading of
// the documented rules: a valid request answers 200, an invalid one 422 with
// the one error body. FuzzQueryString sends any query at all to every page
// and API route over a real store and asks only that nothing fails (5xx),
// panics or echoes markup.

// fuzzHandler is the dashboard over the fake analytics, as an http.Handler.
func fuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	s, err := dashboard.New(dashboard.Options{Analytics: newFake(), Logger: slog.New(slog.DiscardHandler),
		DefaultViewer: analytics.Viewer{Role: analytics.RoleAdmin, Name: "fuzz"}, Now: fixedNow})
	if err != nil {
		f.Fatal(err)
	}
	return s.Handler()
}

// serve sends GET path?rawQuery to h.
func serve(h http.Handler, path, rawQuery string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL = &url.URL{Path: path, RawQuery: rawQuery}
	req.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// query encodes key/value pairs, leaving out empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q.Encode()
}

// checkAnswer checks what every API answer must be: 200, or the one error
// body with the kind the status stands for; never a server error.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if rec.Code == http.StatusOK {
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: 200 with a body that is not JSON", what)
		}
		return
	}
	var body dashboard.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Kind == "" || body.Error.Message == "" {
		t.Fatalf("%s: status %d without the error body: %s", what, rec.Code, rec.Body)
	}
	wantKind := map[int]string{422: "invalid", 404: "not_found", 403: "forbidden", 409: "conflict"}[rec.Code]
	if body.Error.Kind != wantKind {
		t.Fatalf("%s: status %d with kind %q", what, rec.Code, body.Error.Kind)
	}
}

// wantStatus fails unless the answer is 200 when valid and 422 when not.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, valid bool, what string) {
	t.Helper()
	checkAnswer(t, rec, what)
	want := http.StatusUnprocessableEntity
	if valid {
		want = http.StatusOK
	}
	if rec.Code != want {
		t.Fatalf("%s: status %d, want %d: %s", what, rec.Code, want, rec.Body)
	}
}

// The rules, read from the API documentation rather than the code.

var knownPlaces = func() map[string]bool {
	m := map[string]bool{analytics.UK: true}
	for _, p := range schemas.LoadGeography().Places() {
		m[p.Board], m[p.Region], m[p.Nation] = true, true, true
	}
	return m
}()

// validCollection: empty (the UK), a nation, region or board code, or
// saved:NAME.
func validCollection(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || knownPlaces[v] || (strings.HasPrefix(v, analytics.SavedPrefix) && len(v) > len(analytics.SavedPrefix))
}

// wholeNumber reads a whole number from lo to hi; trim says whether
// surrounding spaces are allowed. Empty means "not given", which is valid.
func wholeNumber(v string, lo, hi int, trim bool) (int, bool) {
	if trim {
		v = strings.TrimSpace(v)
	}
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}

func validYears(from, to string) bool {
	f, okF := wholeNumber(from, 1900, 2200, true)
	t, okT := wholeNumber(to, 1900, 2200, true)
	if !okF || !okT {
		return false
	}
	return f == 0 || t == 0 || f <= t
}

var frameCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validCodes: comma-separated frame codes; blanks between commas are skipped.
func validCodes(v string) bool {
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" && !frameCode.MatchString(c) {
			return false
		}
	}
	return true
}

// allUTF8: every parameter must be UTF-8 text (params.go refuses others).
func allUTF8(vs ...string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

func oneOf(v string, allowed ...string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func validBool(v string) bool {
	switch v {
	case "", "true", "false", "1", "0":
		return true
	}
	return false
}

// site is a dashboard handler plus, per path, what its pages hold anyway
// (the page, and its error page), so an echo check can tell markup the
// templates wrote from markup a request carried in.
type site struct {
	h        http.Handler
	baseline map[string]string
}

func newSite(h http.Handler) *site { return &site{h: h, baseline: map[string]string{}} }

// noMarkup fails if the page answered for path echoes a value carrying
// markup that the template did not write itself.
func (s *site) noMarkup(t *testing.T, path string, rec *httptest.ResponseRecorder, values ...string) {
	t.Helper()
	base, ok := s.baseline[path]
	if !ok {
		base = serve(s.h, path, "").Body.String() + serve(s.h, path, "collection=NOWHERE&page=x&what=x").Body.String()
		s.baseline[path] = base
	}
	for _, v := range values {
		if strings.Contains(v, "<") && strings.Contains(rec.Body.String(), v) && !strings.Contains(base, v) {
			t.Fatalf("%s echoes %q unescaped", path, v)
		}
	}
}

// FuzzSelection fuzzes ?collection=&from=&to=, the collection reference and
// year range every page and API call reads.
func FuzzSelection(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", ""}, {"ENG-NE", "2019", "2023"}, {"UK", "2023", "2019"}, {"saved:north", "", "2024"},
		{"saved:", "", ""}, {" WLS ", " 2020 ", ""}, {"ENG-XX", "", ""}, {"ENG", "1899", "2201"}, {"ENG", "+2020", "02021"},
		{"ENG", "2020.0", ""}, {"<script>", "", ""}, {"NIR-SBNI-BEL", "99999999999999999999", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	h := fuzzHandler(f)
	st := newSite(h)
	f.Fuzz(func(t *testing.T, collection, from, to string) {
		q := query("collection", collection, "from", from, "to", to)
		valid := validCollection(collection) && validYears(from, to) && allUTF8(collection, from, to)
		wantStatus(t, serve(h, "/api/v1/overview", q), valid, "/api/v1/overview?"+q)
		page := serve(h, "/", q)
		if page.Code >= 500 || (valid && page.Code != 200) || (!valid && page.Code != 422) {
			t.Fatalf("/?%s: status %d (valid %v)", q, page.Code, valid)
		}
		st.noMarkup(t, "/", page, collection, from, to)
	})
}

// FuzzPages fuzzes page numbers: ?page= on the pages (from 1) and
// ?page=&per_page= on the API (0 means the first page and the default size).
func FuzzPages(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"1", "25"}, {"0", "0"}, {"100000", "500"}, {"100001", "501"}, {"-1", "-1"},
		{" 2 ", " 10 "}, {"2a", "x"}, {"9223372036854775808", ""}, {"١", ""}} {
		f.Add(s[0], s[1])
	}
	h := fuzzHandler(f)
	st := newSite(h)
	f.Fuzz(func(t *testing.T, page, perPage string) {
		_, okPage := wholeNumber(page, 0, 100000, true)
		_, okPer := wholeNumber(perPage, 0, 100, true)
		for _, path := range []string{"/api/v1/reviews", "/api/v1/episodes"} {
			q := query("page", page, "per_page", perPage)
			wantStatus(t, serve(h, path, q), okPage && okPer, path+"?"+q)
		}
		_, okPage = wholeNumber(page, 1, 100000, false)
		for _, path := range []string{"/reviews", "/query"} {
			q := query("page", page, "what", map[string]string{"/reviews": "", "/query": "reviews"}[path])
			rec := serve(h, path, q)
			want := map[bool]int{true: 200, false: 422}[okPage]
			if rec.Code != want {
				t.Fatalf("%s?%s: status %d, want %d", path, q, rec.Code, want)
			}
			st.noMarkup(t, path, rec, page)
		}
	})
}

// FuzzCodes fuzzes frame codes and the options read with them: ?codes= (a
// list), ?tree=, ?depth=, ?splits= on recurrence; ?code=&by= on the funnel;
// and the code in a factor page's path.
func FuzzCodes(f *testing.F) {
	for _, s := range [][4]string{
		{"", "", "", ""}, {"FL.WORK.03", "factor", "3", "true"}, {"FL,LS, NG", "factor", "1", "0"}, {"P2.1", "pattern", "", "1"},
		{",,", "", "0", "false"}, {"FL WORK", "", "", ""}, {"-FL", "tree", "11", "yes"}, {strings.Repeat("A", 65), "", "", ""},
		{"FL.WORK.03,<img>", "", " 2", "TRUE"}, {"Ω", "factor", "-1", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	h := fuzzHandler(f)
	st := newSite(h)
	f.Fuzz(func(t *testing.T, codes, tree, depth, splits string) {
		_, okDepth := wholeNumber(depth, 0, 10, true)
		valid := validCodes(codes) && oneOf(tree, "factor", "pattern") && okDepth && validBool(splits)
		q := query("codes", codes, "tree", tree, "depth", depth, "splits", splits)
		wantStatus(t, serve(h, "/api/v1/recurrence", q), valid, "/api/v1/recurrence?"+q)

		// The funnel takes exactly one code.
		n := 0
		for _, c := range strings.Split(codes, ",") {
			if strings.TrimSpace(c) != "" {
				n++
			}
		}
		q = query("code", codes, "tree", tree, "by", depth)
		valid = validCodes(codes) && n == 1 && oneOf(tree, "factor", "pattern") && oneOf(depth, "nation", "region", "board")
		wantStatus(t, serve(h, "/api/v1/funnel", q), valid, "/api/v1/funnel?"+q)

		// A factor's page: a code that is not a frame code is not found.
		// (An empty code or one with a slash is another route.)
		if codes != "" && !strings.Contains(codes, "/") {
			rec := serve(h, "/factors/"+codes, "")
			want := http.StatusNotFound
			if !utf8.ValidString(codes) {
				want = http.StatusUnprocessableEntity
			}
			if rec.Code >= 500 || (!frameCode.MatchString(codes) && rec.Code != want) {
				t.Fatalf("/factors/%s: status %d", codes, rec.Code)
			}
			st.noMarkup(t, "/factors/FL.WORK.03", rec, codes)
		}
	})
}

// FuzzFilters fuzzes the remaining filters and options: the faceted search
// (what, q, code, with, adequacy, tree), the drill-down (dim, value,
// adequacy), comparisons (reference), repeated lessons (k, m, y, nature)
// and co-occurrence (within, min_support, limit).
func FuzzFilters(f *testing.F) {
	for _, s := range [][4]string{
		{"episodes", "neglect", "FL.WORK.03", "good"}, {"factors", "", "", ""}, {"patterns", "unsafe", "P2", "problematic"},
		{"reviews", strings.Repeat("x", 201), "", "mixed"}, {"everything", "", "", ""}, {"", "<b>", "FL..", "not_judged"},
		{"episodes", "", "saved:x", "ENG-NE"}, {"", "", "", "bad"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	h := fuzzHandler(f)
	st := newSite(h)
	f.Fuzz(func(t *testing.T, what, text, code, adequacy string) {
		// The Query page.
		okWhat := what == "" || what == "episodes" || what == "recommendations" || what == "pattern_instances" ||
			what == "factors" || what == "patterns" || what == "reviews"
		valid := okWhat && (code == "" || frameCode.MatchString(code)) && len(strings.TrimSpace(text)) <= 200 &&
			allUTF8(what, text, code, adequacy)
		q := query("what", what, "q", text, "code", code, "adequacy", adequacy)
		rec := serve(h, "/query", q)
		if want := map[bool]int{true: 200, false: 422}[valid]; rec.Code != want {
			t.Fatalf("/query?%s: status %d, want %d", q, rec.Code, want)
		}
		st.noMarkup(t, "/query", rec, what, text, code, adequacy)

		// The drill-down API.
		okAdequacy := oneOf(adequacy, "good", "problematic", "mixed", "not_judged")
		okDim := oneOf(what, "influence", "adequacy", "nature", "priority")
		valid = okAdequacy && okDim && validCodes(code) && len(strings.TrimSpace(text)) <= 200 && allUTF8(what, text, adequacy, code)
		q = query("dim", what, "value", text, "adequacy", adequacy, "code", code, "with", code)
		wantStatus(t, serve(h, "/api/v1/episodes", q), valid && len(strings.TrimSpace(text)) <= 200, "/api/v1/episodes?"+q)

		// Comparison with a reference collection.
		q = query("reference", adequacy)
		valid = (strings.TrimSpace(adequacy) == "" || validCollection(adequacy)) && allUTF8(adequacy)
		if strings.TrimSpace(adequacy) != "" && len(strings.TrimSpace(adequacy)) > 200 {
			valid = false
		}
		wantStatus(t, serve(h, "/api/v1/compare", q), valid, "/api/v1/compare?"+q)

		// Repeated lessons and co-occurrence: numbers and choices.
		_, okK := wholeNumber(what, 0, 1000000, true)
		_, okM := wholeNumber(code, 0, 10000, true)
		q = query("k", what, "m", code, "nature", adequacy)
		wantStatus(t, serve(h, "/api/v1/repeated-lessons", q), okK && okM && oneOf(adequacy, "constructive", "unsafe"), "/api/v1/repeated-lessons?"+q)
		_, okSupport := wholeNumber(code, 0, 1000000, true)
		q = query("within", what, "min_support", code, "focus", adequacy)
		wantStatus(t, serve(h, "/api/v1/cooccurrence", q), oneOf(what, "episode", "review") && okSupport && validCodes(adequacy),
			"/api/v1/cooccurrence?"+q)
	})
}

// getRoutes are the GET routes FuzzQueryString sends queries to.
var getRoutes = []string{
	"/", "/factors", "/factors/FL.WORK.03", "/patterns", "/compare", "/trends", "/recommendations", "/reviews",
	"/reviews/NO-SUCH-REVIEW", "/query", "/upload",
	"/api/v1/collections", "/api/v1/frame", "/api/v1/overview", "/api/v1/process", "/api/v1/recurrence", "/api/v1/breakdown",
	"/api/v1/compare", "/api/v1/funnel", "/api/v1/trends", "/api/v1/repeated-lessons", "/api/v1/cooccurrence", "/api/v1/flows",
	"/api/v1/good-practice", "/api/v1/recommendations", "/api/v1/episodes", "/api/v1/episodes.csv", "/api/v1/reviews",
	"/api/v1/reviews/NO-SUCH-REVIEW",
}

// FuzzQueryString sends an arbitrary raw query string to a page or API
// route of a dashboard over a real store: whatever the query, the answer is
// never a server error, API errors have the one error body, and no value is
// echoed with its markup.
func FuzzQueryString(f *testing.F) {
	for i, q := range []string{
		"", "collection=ENG-NE&from=2019&to=2023", "tree=pattern&depth=2&splits=true", "codes=FL.WORK.03,FL.WORK.01&by=board",
		"page=2&per_page=500", "collection=%ZZ", "download=overview_totals", "download=nope", "code=FL.WORK.03&dim=influence&value=x",
		"q=%3Cscript%3E&what=reviews", "kind=statutory&kind=%00&agency=Police", "frame=scie-lt@2008.1", "frame=nope@1",
		"reference=ENG&tree=factor", "k=1&m=1&y=1&depth=1&nature=unsafe", "within=review&min_support=1&limit=1000&focus=FL",
		"last_years=50&codes=FL", ";;&&==", "collection=saved:north&from=2020",
	} {
		f.Add(uint8(i), q)
	}
	fx := mustFixture(f)
	h := fx.server.Handler()
	st := newSite(h)
	f.Fuzz(func(t *testing.T, route uint8, raw string) {
		path := getRoutes[int(route)%len(getRoutes)]
		rec := serve(h, path, raw)
		what := path + "?" + raw
		if strings.HasPrefix(path, "/api/") && !strings.HasSuffix(path, ".csv") {
			checkAnswer(t, rec, what)
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%s: status %d", what, rec.Code)
		}
		if values, err := url.ParseQuery(raw); err == nil {
			for _, vs := range values {
				st.noMarkup(t, path, rec, vs...)
			}
		}
	})
}
