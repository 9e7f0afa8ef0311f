package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitNewPage waits until a form's submission has replaced the page (the old
// one carried window.collateOldPage) with a loaded page at path.
func waitNewPage(t *testing.T, b *browser, path string) {
	t.Helper()
	for range 200 {
		// The page is being replaced, so an evaluation can fail on the way.
		p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`!window.collateOldPage && document.readyState === 'complete' ? location.pathname : ''`))
		if err == nil && p == path {
			b.settle(t)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the form did not lead to a new page at %s", path)
}

// TestBrowserAccess signs in, uses the account, audit and research pages and
// signs out in headless Chromium, as a person would: the forms post with
// their CSRF tokens, pages load without console errors or failed requests,
// and axe-core finds no violations.
func TestBrowserAccess(t *testing.T) {
	requireBrowser(t)
	axe := mustAxe(t)
	s := mustAccServer(t, accOptions{})
	u, _ := url.Parse(s.url)
	b := mustBrowser(t, u.Host)
	check := func(t *testing.T) {
		t.Helper()
		for _, p := range b.rec.problems() {
			t.Error(p)
		}
		for _, v := range b.axeViolations(t, axe) {
			t.Errorf("axe: %s", v)
		}
	}
	submit := func(t *testing.T, form string, values map[string]string, path string) {
		t.Helper()
		js := "window.collateOldPage = true;\n"
		for id, v := range values {
			js += "document.getElementById(" + jsString(id) + ").value = " + jsString(v) + ";\n"
		}
		js += "document.getElementById(" + jsString(form) + ").requestSubmit(); true"
		eval[bool](t, b, js)
		waitNewPage(t, b, path)
	}

	t.Run("a visitor is sent to sign in", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/trends")
		if p := eval[string](t, b, `location.pathname + location.search`); p != "/login?next=%2Ftrends" {
			t.Fatalf("landed on %s", p)
		}
		check(t)
	})
	t.Run("sign in", func(t *testing.T) {
		b.rec.reset()
		submit(t, "login-form", map[string]string{"username": "ada", "password": accPassword}, "/trends")
		check(t)
	})
	t.Run("account and a new token", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/account")
		check(t)
		submit(t, "token-form", map[string]string{"token-name": "browser test", "token-days": "7"}, "/account/tokens")
		tok := eval[string](t, b, `(document.getElementById('new-token-value') || {}).textContent || ''`)
		if !regexp.MustCompile(`^collate_[0-9a-f]{16}_[0-9a-f]{64}$`).MatchString(tok) {
			t.Fatalf("new token on the page: %q", tok)
		}
		check(t)
	})
	t.Run("audit log", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/admin/audit")
		text := eval[string](t, b, `document.getElementById('audit').textContent`)
		if !strings.Contains(text, "login") || !strings.Contains(text, "token.create") {
			t.Fatalf("audit table lacks the sign-in and the token: %.300s", text)
		}
		check(t)
	})
	t.Run("research query", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/research")
		submit(t, "research-form", map[string]string{"sql": "SELECT nation, count(*) AS boards FROM geography GROUP BY nation ORDER BY nation"}, "/research")
		if n := eval[int](t, b, `document.querySelectorAll('#research-result tbody tr').length`); n != 4 {
			t.Fatalf("%d result rows, want 4 nations", n)
		}
		check(t)
	})
	t.Run("sign out", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/account")
		eval[bool](t, b, `window.collateOldPage = true; document.querySelector('form[action="/logout"]').requestSubmit(); true`)
		waitNewPage(t, b, "/login")
		b.open(t, s.url+"/account")
		if p := eval[string](t, b, `location.pathname`); p != "/login" {
			t.Fatalf("after signing out /account shows %s", p)
		}
		check(t)
	})
}
