package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser tests drive Debian's headless Chromium against dashboards on
// loopback. They need /usr/bin/chromium and the built assets
// (`npm ci && npm run build`); without them they skip, except under CI=true,
// where they fail.

const chromiumPath = "/usr/bin/chromium"

func requireBrowser(t testing.TB) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (apt-get install -y chromium)")
	}
	if _, err := os.Stat(filepath.Join("static", "dist", "charts.js")); err != nil {
		missing = append(missing, "dashboard/static/dist/charts.js (npm ci && npm run build)")
	}
	if _, err := os.Stat(axePath); err != nil {
		missing = append(missing, axePath+" (npm ci)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "browser tests need " + strings.Join(missing, " and ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

var axePath = filepath.Join("..", "node_modules", "axe-core", "axe.min.js")

// recorder collects what a tab does: console errors, failed requests,
// requests to other hosts and dialogs. Collectors range over chromedp's event
// iterators for the life of the tab.
type recorder struct {
	mu       sync.Mutex
	host     string
	console  []string
	failed   []string
	foreign  []string
	statuses []string
	dialogs  []string
	marks    map[string]bool
	allow    func(url string, status int) bool
	// allowConsole passes console messages a test expects, such as the
	// browser's note of a 422 answer to a bad upload.
	allowConsole func(m chromedp.ConsoleMessage) bool
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.console, r.failed, r.foreign, r.statuses, r.dialogs = nil, nil, nil, nil, nil
}

func (r *recorder) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.console {
		out = append(out, "console: "+s)
	}
	for _, s := range r.failed {
		out = append(out, "failed request: "+s)
	}
	for _, s := range r.foreign {
		out = append(out, "request to another host: "+s)
	}
	for _, s := range r.statuses {
		out = append(out, "error status: "+s)
	}
	for _, s := range r.dialogs {
		out = append(out, "dialog opened: "+s)
	}
	return out
}

// browser is a headless Chromium tab with its recorder.
type browser struct {
	ctx context.Context
	rec *recorder
}

func mustBrowser(t testing.TB, host string) *browser {
	t.Helper()
	requireBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	rec := &recorder{host: host, marks: map[string]bool{}}
	b := &browser{ctx: ctx, rec: rec}
	console := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	failures := chromedp.Events(ctx, network.LoadingFailed)
	responses := chromedp.Events(ctx, network.ResponseReceived)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			rec.mu.Lock()
			if strings.HasPrefix(m.Text, "collate-mark:") {
				rec.marks[m.Text] = true
			} else if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && (rec.allowConsole == nil || !rec.allowConsole(m)) {
				rec.console = append(rec.console, m.Text)
			}
			rec.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			u, perr := url.Parse(ev.Request.URL)
			if perr != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != host) {
				rec.mu.Lock()
				rec.foreign = append(rec.foreign, ev.Request.URL)
				rec.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range failures {
			if err != nil {
				return
			}
			rec.mu.Lock()
			rec.failed = append(rec.failed, fmt.Sprintf("%s %s", ev.Type, ev.ErrorText))
			rec.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				rec.mu.Lock()
				if rec.allow == nil || !rec.allow(ev.Response.URL, int(ev.Response.Status)) {
					rec.statuses = append(rec.statuses, fmt.Sprintf("%d %s", int(ev.Response.Status), ev.Response.URL))
				}
				rec.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			rec.mu.Lock()
			rec.dialogs = append(rec.dialogs, ev.Message)
			rec.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// settle waits until every chart on the page has drawn, then until the
// console has delivered everything logged before a marker.
func (b *browser) settle(t testing.TB) {
	t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		_, err = chromedp.Run(b.ctx, chromedp.Poll[bool](`(() => {
			const want = document.querySelectorAll('[data-chart]').length;
			if (want === 0) return document.readyState === 'complete';
			return document.readyState === 'complete' && document.querySelectorAll('[data-chart][data-drawn]').length === want;
		})()`, chromedp.WithPollingTimeout(20*time.Second)))
		// The document can still be changing hands just after a navigation,
		// which loses the execution context the poll ran in: poll again.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("page did not settle: %v", err)
	}
	mark := fmt.Sprintf("collate-mark:%d", time.Now().UnixNano())
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`console.log(`+jsString(mark)+`)`)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		b.rec.mu.Lock()
		seen := b.rec.marks[mark]
		b.rec.mu.Unlock()
		if seen {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the network event streams catch up
}

// waitPath waits for a navigation that a click started to reach a path.
func (b *browser) waitPath(t testing.TB, prefix string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		// The page is being replaced, so an evaluation can fail on the way.
		p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.pathname : ''`))
		if err == nil && strings.HasPrefix(p, prefix) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the click did not lead to %s", prefix)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// open navigates and settles.
func (b *browser) open(t testing.TB, u string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("navigate %s: %v", u, err)
	}
	b.settle(t)
}

func eval[T any](t testing.TB, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", truncate([]byte(expr), 200), err)
	}
	return v
}

// axeViolations runs axe-core (from node_modules, injected by the test; the
// server never serves it) against the WCAG 2.1 A and AA rules.
func (b *browser) axeViolations(t testing.TB, axe string) []string {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](axe+"\n;undefined")); err != nil {
		t.Fatalf("inject axe: %v", err)
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => JSON.stringify(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe: %v", err)
	}
	var out []string
	if err := json.Unmarshal([]byte(res), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustAxe(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBrowserPages opens every page of a dashboard over the real demo store
// and of one over the fake analytics (whose charts all have data): no console
// errors, no failed requests, no request off the test server, charts drawn,
// and no axe-core violations.
func TestBrowserPages(t *testing.T) {
	requireBrowser(t)
	axe := mustAxe(t)
	servers := map[string]*fixture{"real": mustFixture(t), "fake": mustFakeServer(t)}
	for _, name := range []string{"real", "fake"} {
		f := servers[name]
		u, _ := url.Parse(f.http.URL)
		b := mustBrowser(t, u.Host)
		for _, path := range pagePaths {
			t.Run(name+path, func(t *testing.T) {
				b.rec.reset()
				b.open(t, f.http.URL+path)
				for _, p := range b.rec.problems() {
					t.Error(p)
				}
				drawn := eval[bool](t, b, `Object.entries(window.collate ? window.collate.charts : {}).every(([id, c]) =>
					c.getOption().series.length > 0 && document.getElementById(id).querySelector('canvas') !== null)`)
				if !drawn {
					t.Error("a chart has no series or no canvas")
				}
				if errs := eval[[]string](t, b, `window.collate ? window.collate.errors : []`); len(errs) > 0 {
					t.Errorf("chart errors: %v", errs)
				}
				for _, v := range b.axeViolations(t, axe) {
					t.Errorf("axe: %s", v)
				}
			})
		}
	}
}

// TestBrowserCharts checks the charts of the fake-backed dashboard draw with
// data, that a bar click drills down to the factor's page, that the PNG
// download makes an image, and that the XSS payloads stay text even in a
// tooltip.
func TestBrowserCharts(t *testing.T) {
	requireBrowser(t)
	f := mustFakeServer(t)
	u, _ := url.Parse(f.http.URL)
	b := mustBrowser(t, u.Host)

	t.Run("charts draw", func(t *testing.T) {
		b.open(t, f.http.URL+"/")
		n := eval[int](t, b, `Object.values(window.collate.charts).filter(c => c.getOption().series.some(s => (s.data || s.links || []).length > 0)).length`)
		if n != 2 {
			t.Errorf("%d charts with data on the overview, want 2", n)
		}
		if eval[float64](t, b, `window.collate.firstChartMs`) <= 0 {
			t.Error("no first-chart time recorded")
		}
	})

	t.Run("drill-down from a bar", func(t *testing.T) {
		b.open(t, f.http.URL+"/")
		// The top bar: find its pixel and click it as a person would.
		want := eval[string](t, b, `(() => { const c = window.collate.charts.overview_top_factors; const cats = c.getOption().yAxis[0].data; return cats[cats.length-1].split(' ')[0]; })()`)
		if err := chromedp.Do(b.ctx, chromedp.ScrollIntoView(chromedp.ID("overview_top_factors"))); err != nil {
			t.Fatal(err)
		}
		pt := eval[[]float64](t, b, `(() => {
			const c = window.collate.charts.overview_top_factors;
			const opt = c.getOption();
			const cats = opt.yAxis[0].data;
			const value = opt.series[0].data[cats.length - 1].value;
			const [x, y] = c.convertToPixel({seriesIndex: 0}, [value / 2, cats[cats.length - 1]]);
			const r = document.getElementById('overview_top_factors').getBoundingClientRect();
			return [r.left + x, r.top + y];
		})()`)
		if err := chromedp.Do(b.ctx, chromedp.MouseClickXY(pt[0], pt[1])); err != nil {
			t.Fatal(err)
		}
		b.waitPath(t, "/factors/")
		b.settle(t)
		h1 := eval[string](t, b, `document.querySelector('h1').textContent`)
		if !strings.HasPrefix(h1, want) {
			t.Errorf("drilled to %q, want the factor %s", h1, want)
		}
		// And on down to the episodes behind it.
		if n := eval[int](t, b, `document.querySelectorAll('.episodes .excerpt').length`); n == 0 {
			t.Error("the factor page lists no episodes")
		}
	})

	t.Run("PNG download", func(t *testing.T) {
		b.open(t, f.http.URL+"/trends")
		png := eval[string](t, b, `window.collate.charts.trends_factor_types.getDataURL({type: 'png'})`)
		if !strings.HasPrefix(png, "data:image/png;base64,") {
			t.Errorf("PNG data URL starts %q", truncate([]byte(png), 40))
		}
		if eval[bool](t, b, `document.querySelector('button[data-png="trends_factor_types"]').hidden`) {
			t.Error("the PNG button is hidden")
		}
	})

	t.Run("XSS payloads stay text", func(t *testing.T) {
		for _, path := range []string{"/patterns", "/compare", "/factors/FL.WORK.03", "/reviews"} {
			b.rec.reset()
			b.open(t, f.http.URL+path)
			// Show every tooltip of every chart.
			eval[chromedp.Void](t, b, `(() => { for (const c of Object.values(window.collate ? window.collate.charts : {})) {
				const s = c.getOption().series;
				s.forEach((ser, si) => { const n = (ser.data || []).length; for (let i = 0; i < n; i++) c.dispatchAction({type: 'showTip', seriesIndex: si, dataIndex: i}); });
			} })()`)
			if n := eval[int](t, b, `document.querySelectorAll('img').length`); n != 0 {
				t.Errorf("%s: %d img elements in the page", path, n)
			}
			if n := eval[int](t, b, `document.querySelectorAll('script:not([src]):not([type="application/json"])').length`); n != 0 {
				t.Errorf("%s: %d inline scripts", path, n)
			}
			b.rec.mu.Lock()
			if len(b.rec.dialogs) > 0 {
				t.Errorf("%s: dialog opened: %v", path, b.rec.dialogs)
			}
			b.rec.mu.Unlock()
			if !eval[bool](t, b, `document.body.textContent.includes('</script><script>alert(1)</script>') || document.body.textContent.includes('"><img src=x onerror=alert(1)>')`) &&
				path != "/compare" {
				t.Errorf("%s: the payload is not shown as text", path)
			}
		}
	})
}

// TestBrowserUpload uploads through the page's script: a good file is stored
// with its receipt, a bad file shows the GOV.UK error summary with the
// validator's locations, and the plain form works with scripts off.
func TestBrowserUpload(t *testing.T) {
	requireBrowser(t)
	f := mustFixture(t)
	u, _ := url.Parse(f.http.URL)
	b := mustBrowser(t, u.Host)
	dir := t.TempDir()
	good := filepath.Join(dir, "good-review.json")
	bad := filepath.Join(dir, "bad-review.json")
	os.WriteFile(good, mustJSON(t, mustExample(t, "BROWSER-UP-2024-01")), 0o644)
	os.WriteFile(bad, []byte(`{"format": "collate.review/1", "review": {"id": 7}}`), 0o644)
	b.rec.mu.Lock()
	b.rec.allow = func(u string, status int) bool { return status == 422 && strings.HasSuffix(u, "/api/v1/reviews") }
	b.rec.allowConsole = func(m chromedp.ConsoleMessage) bool {
		return strings.Contains(m.Text, "status of 422") && strings.HasSuffix(m.URL, "/api/v1/reviews")
	}
	b.rec.mu.Unlock()

	t.Run("good file", func(t *testing.T) {
		b.rec.reset()
		b.open(t, f.http.URL+"/upload")
		if err := chromedp.Do(b.ctx, chromedp.SetUploadFiles(chromedp.ID("files"), []string{good}), chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".upload-ok .upload-hash"))); err != nil {
			t.Fatal(err)
		}
		got := eval[string](t, b, `document.querySelector('.upload-ok').textContent`)
		if !strings.Contains(got, "Stored: review BROWSER-UP-2024-01, version 1 (added)") {
			t.Errorf("result = %q", got)
		}
		if eval[string](t, b, `location.pathname`) != "/upload" {
			t.Error("the script did not keep the page")
		}
		for _, p := range b.rec.problems() {
			t.Error(p)
		}
	})

	t.Run("bad file", func(t *testing.T) {
		b.rec.reset()
		b.open(t, f.http.URL+"/upload")
		if err := chromedp.Do(b.ctx, chromedp.SetUploadFiles(chromedp.ID("files"), []string{bad, good}), chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#error-summary li a"))); err != nil {
			t.Fatal(err)
		}
		items := eval[[]string](t, b, `[...document.querySelectorAll('#error-summary li')].map(li => li.textContent)`)
		if len(items) == 0 || !strings.HasPrefix(items[0], "bad-review.json: /") {
			t.Errorf("summary = %q", items)
		}
		if focused := eval[string](t, b, `document.activeElement.id`); focused != "error-summary" {
			t.Errorf("focus is on %q, not the error summary", focused)
		}
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelectorAll('.upload-result').length === 2 && !document.body.textContent.includes('Uploading…')`,
			chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, b, `document.querySelectorAll('.upload-result')[1].textContent`); !strings.Contains(got, "(unchanged)") {
			t.Errorf("the good file's result = %q", got)
		}
		for _, p := range b.rec.problems() {
			t.Error(p)
		}
	})
}

// TestBrowserJourney is the "done when", on the real demo store: a
// person picks their region, sees what recurs, compares it with the nation,
// drills down to the episodes and a review behind a figure, and downloads
// what they see.
func TestBrowserJourney(t *testing.T) {
	requireBrowser(t)
	f := mustFixture(t)
	u, _ := url.Parse(f.http.URL)
	b := mustBrowser(t, u.Host)
	b.open(t, f.http.URL+"/")

	// Pick a region in the switcher.
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("picker-collection"), "ENG-NW"),
		chromedp.Click(chromedp.CSS(`form.picker button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	b.waitQuery(t, "collection=ENG-NW")
	b.settle(t)
	if h1 := eval[string](t, b, `document.querySelector('h1').textContent`); !strings.Contains(h1, "North West") {
		t.Errorf("after picking the region the heading is %q", h1)
	}
	if n := eval[int](t, b, `Object.values(window.collate.charts).filter(c => c.getOption().series[0].data.length > 0).length`); n == 0 {
		t.Error("no chart with data for the region")
	}

	// Compare it with the rest of the nation, keeping the region.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`nav a[href^="/compare"]`))); err != nil {
		t.Fatal(err)
	}
	b.waitPath(t, "/compare")
	b.settle(t)
	lead := eval[string](t, b, `document.querySelector('main .lead') ? document.querySelector('main .lead').textContent : ''`)
	if !strings.Contains(lead, "Compared with") || !strings.Contains(lead, "England") {
		t.Errorf("compare page says %q", lead)
	}

	// Download what they see: the ranked factors as CSV.
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => {
		const a = document.querySelector('#compare_ranked-title').closest('section').querySelector('a[download]');
		const r = await fetch(a.href);
		return r.status + ' ' + r.headers.get('content-type') + '\n' + await r.text();
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "200 text/csv") || !strings.Contains(got, "\nFactor,Reviews,") || !strings.Contains(got, "# Source: Collate, collection ENG-NW") {
		t.Errorf("CSV download = %q", truncate([]byte(got), 300))
	}

	// Drill down from the top factor to its episodes and a review.
	b.open(t, f.http.URL+"/?collection=ENG-NW")
	// The table is behind its "Table of the figures" toggle: open it as a person would.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`#overview_top_factors-title ~ details summary`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`#overview_top_factors-table tbody tr th a`))); err != nil {
		t.Fatal(err)
	}
	b.waitPath(t, "/factors/")
	b.settle(t)
	if n := eval[int](t, b, `document.querySelectorAll('.episodes .excerpt').length`); n == 0 {
		t.Fatal("the factor page lists no episodes")
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.episodes .excerpt .episode-meta a`))); err != nil {
		t.Fatal(err)
	}
	b.waitPath(t, "/reviews/")
	b.settle(t)
	if h1 := eval[string](t, b, `document.querySelector('h1').textContent`); !strings.HasPrefix(h1, "Review ") {
		t.Errorf("the review page heading is %q", h1)
	}
	for _, p := range b.rec.problems() {
		t.Error(p)
	}
}

// waitQuery waits for a navigation to reach a URL with the query part.
func (b *browser) waitQuery(t testing.TB, part string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		q, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.search : ''`))
		if err == nil && strings.Contains(q, part) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the page did not reach a URL with %s", part)
}
