package dashboard_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pagePaths is every page of the dashboard, as a person reaches them.
var pagePaths = []string{
	"/",
	"/?collection=ENG-NE&from=2020&to=2023",
	"/factors",
	"/factors/FL.WORK.03",
	"/factors/FL.WORK.03?collection=ENG-NE",
	"/patterns",
	"/compare?collection=ENG-NE",
	"/trends",
	"/recommendations",
	"/reviews",
	"/query",
	"/query?what=episodes&q=school",
	"/query?what=factors&q=work",
	"/upload",
}

func TestPagesRender(t *testing.T) {
	f := mustFixture(t)
	for _, path := range pagePaths {
		t.Run(path, func(t *testing.T) {
			resp, body := f.get(t, path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, truncate(body, 2000))
			}
			checkHeaders(t, resp)
			doc := mustParse(t, body)
			checkPage(t, doc)
		})
	}
}

// checkHeaders asserts the security headers every response carries.
func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "img-src 'self' data: blob:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline or eval: %q", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got == "" {
		t.Error("no Referrer-Policy")
	}
}

// checkPage asserts what every page has: one h1, a main landmark, labelled
// form controls, no inline script or handlers, and chart options that parse
// and belong to a chart element.
func checkPage(t *testing.T, doc *html.Node) {
	t.Helper()
	if n := len(findAll(doc, byTag("h1"))); n != 1 {
		t.Errorf("%d h1 elements, want 1", n)
	}
	if n := len(findAll(doc, byTag("main"))); n != 1 {
		t.Errorf("%d main elements, want 1", n)
	}
	if html, ok := attr(findAll(doc, byTag("html"))[0], "lang"); !ok || html == "" {
		t.Error("html has no lang")
	}
	labels := map[string]bool{}
	for _, l := range findAll(doc, byTag("label")) {
		if v, ok := attr(l, "for"); ok {
			labels[v] = true
		}
	}
	for _, tag := range []string{"input", "select", "textarea"} {
		for _, in := range findAll(doc, byTag(tag)) {
			if typ, _ := attr(in, "type"); typ == "hidden" || typ == "submit" {
				continue
			}
			id, _ := attr(in, "id")
			if _, aria := attr(in, "aria-label"); !labels[id] && !aria {
				t.Errorf("%s id=%q has no label", tag, id)
			}
		}
	}
	for _, s := range findAll(doc, byTag("script")) {
		typ, _ := attr(s, "type")
		src, hasSrc := attr(s, "src")
		switch {
		case typ == "application/json":
			id, _ := attr(s, "id")
			var env struct {
				Options map[string]any    `json:"options"`
				Drill   map[string]string `json:"drill"`
			}
			if err := json.Unmarshal([]byte(text(s)), &env); err != nil {
				t.Errorf("options block %s does not parse: %v", id, err)
			}
			chart := strings.TrimSuffix(id, "-options")
			if len(findAll(doc, byAttr("data-chart", chart))) != 1 {
				t.Errorf("options block %s has no chart element", id)
			}
		case hasSrc && strings.HasPrefix(src, "/static/"):
		default:
			t.Errorf("inline or foreign script: type=%q src=%q", typ, src)
		}
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("<%s %s=…>: inline handlers and styles are refused by the CSP", n.Data, a.Key)
			}
		}
	}
}

func TestNotFoundAndErrors(t *testing.T) {
	f := mustFixture(t)
	cases := []struct {
		name, path string
		status     int
		json       bool
	}{
		{"unknown page", "/no-such-page", http.StatusNotFound, false},
		{"unknown factor", "/factors/ZZ.NOPE.99", http.StatusNotFound, false},
		{"bad collection", "/?collection=NOWHERE", http.StatusUnprocessableEntity, false},
		{"bad years", "/?from=2023&to=2020", http.StatusUnprocessableEntity, false},
		{"api bad collection", "/api/v1/overview?collection=NOWHERE", http.StatusUnprocessableEntity, true},
		{"api bad tree", "/api/v1/recurrence?tree=nope", http.StatusUnprocessableEntity, true},
		{"api unknown", "/api/v1/nothing", http.StatusNotFound, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.get(t, tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.status, truncate(body, 1000))
			}
			checkHeaders(t, resp)
			if tc.json {
				var e struct {
					Error struct{ Kind, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Kind == "" || e.Error.Message == "" {
					t.Errorf("error body %s: %v", body, err)
				}
				return
			}
			doc := mustParse(t, body)
			if len(findAll(doc, byTag("h1"))) != 1 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("not an HTML error page: %s", truncate(body, 500))
			}
		})
	}
}

func TestStaticAssets(t *testing.T) {
	f := mustFixture(t)
	_, body := f.get(t, "/")
	doc := mustParse(t, body)
	links := findAll(doc, byAttr("rel", "stylesheet"))
	if len(links) != 1 {
		t.Fatalf("%d stylesheets", len(links))
	}
	href, _ := attr(links[0], "href")
	resp, css := f.get(t, href)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/css") || len(css) == 0 {
		t.Fatalf("%s: status %d type %q", href, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable for the current version", cc)
	}
	stale := strings.Replace(href, strings.Split(href, "/")[2], "000000000000", 1)
	resp, _ = f.get(t, stale)
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stale version: status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, _ = f.get(t, "/static/x/dist/README.txt")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("README.txt served: %d", resp.StatusCode)
	}
}
