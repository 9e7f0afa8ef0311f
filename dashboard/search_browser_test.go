package dashboard_test

import (
	"net/url"
	"testing"
)

// TestBrowserQuerySearches opens the Query page's searches of recommendation
// text and pattern summaries, with facets and a stopped search's link, over
// the real demo store: no console errors or failed requests, and no axe-core
// violations.
func TestBrowserQuerySearches(t *testing.T) {
	requireBrowser(t)
	axe := mustAxe(t)
	f := mustFixture(t)
	u, _ := url.Parse(f.http.URL)
	b := mustBrowser(t, u.Host)
	for _, path := range []string{
		"/query?what=recommendations",
		"/query?what=recommendations&q=escalation&level=local",
		"/query?what=pattern_instances&q=work&nature=unsafe",
		"/query?what=pattern_instances&pattern=P4&collection=ENG-NE",
		"/query?what=episodes&q=school&before=40",
	} {
		t.Run(path, func(t *testing.T) {
			b.rec.reset()
			b.open(t, f.http.URL+path)
			for _, p := range b.rec.problems() {
				t.Error(p)
			}
			if n := eval[int](t, b, `document.querySelectorAll('#query_results-table tbody tr').length`); n == 0 {
				t.Error("no results")
			}
			for _, v := range b.axeViolations(t, axe) {
				t.Errorf("axe: %s", v)
			}
		})
	}
}
