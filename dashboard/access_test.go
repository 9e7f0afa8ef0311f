package dashboard_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// TestMain lets the test binary be the research worker, as the collate
// binary is in production (collate research-worker).
func TestMain(m *testing.M) {
	if research.IsWorker() {
		if err := research.ServeWorker(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// viewerRecorder is the dashboard's fake analytics, noting the viewer of
// every call, so the matrix can check that each request reaches analytics
// as exactly its principal: scope and suppression are applied there.
type viewerRecorder struct {
	dashboard.Analytics
	mu      sync.Mutex
	viewers []analytics.Viewer
}

func (r *viewerRecorder) note(v analytics.Viewer) {
	r.mu.Lock()
	r.viewers = append(r.viewers, v)
	r.mu.Unlock()
}

func (r *viewerRecorder) take() []analytics.Viewer {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.viewers
	r.viewers = nil
	return vs
}

func (r *viewerRecorder) Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error) {
	r.note(v)
	return r.Analytics.Collections(ctx, v)
}

func (r *viewerRecorder) Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error) {
	r.note(v)
	return r.Analytics.Overview(ctx, v, sel)
}

func (r *viewerRecorder) Process(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Process, error) {
	r.note(v)
	return r.Analytics.Process(ctx, v, sel)
}

func (r *viewerRecorder) Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.RecurrenceOptions) (*analytics.Recurrence, error) {
	r.note(v)
	return r.Analytics.Recurrence(ctx, v, sel, o)
}

func (r *viewerRecorder) Breakdown(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.BreakdownOptions) (*analytics.Breakdown, error) {
	r.note(v)
	return r.Analytics.Breakdown(ctx, v, sel, o)
}

func (r *viewerRecorder) Compare(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.CompareOptions) (*analytics.Comparison, error) {
	r.note(v)
	return r.Analytics.Compare(ctx, v, sel, o)
}

func (r *viewerRecorder) Funnel(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.FunnelOptions) (*analytics.Funnel, error) {
	r.note(v)
	return r.Analytics.Funnel(ctx, v, sel, o)
}

func (r *viewerRecorder) Trends(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.TrendOptions) (*analytics.Trends, error) {
	r.note(v)
	return r.Analytics.Trends(ctx, v, sel, o)
}

func (r *viewerRecorder) RepeatedLessons(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.RepeatedOptions) (*analytics.RepeatedLessons, error) {
	r.note(v)
	return r.Analytics.RepeatedLessons(ctx, v, sel, o)
}

func (r *viewerRecorder) CoOccurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.CoOccurrenceOptions) (*analytics.CoOccurrence, error) {
	r.note(v)
	return r.Analytics.CoOccurrence(ctx, v, sel, o)
}

func (r *viewerRecorder) Flows(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.FlowOptions) (*analytics.Flows, error) {
	r.note(v)
	return r.Analytics.Flows(ctx, v, sel, o)
}

func (r *viewerRecorder) GoodPractice(ctx context.Context, v analytics.Viewer, sel analytics.Selection, o analytics.GoodPracticeOptions) (*analytics.GoodPractice, error) {
	r.note(v)
	return r.Analytics.GoodPractice(ctx, v, sel, o)
}

func (r *viewerRecorder) Recommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Recommendations, error) {
	r.note(v)
	return r.Analytics.Recommendations(ctx, v, sel)
}

func (r *viewerRecorder) Episodes(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.EpisodePage, error) {
	r.note(v)
	return r.Analytics.Episodes(ctx, v, sel, q)
}

func (r *viewerRecorder) Reviews(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.ReviewQuery) (*analytics.ReviewPage, error) {
	r.note(v)
	return r.Analytics.Reviews(ctx, v, sel, q)
}

func (r *viewerRecorder) Review(ctx context.Context, v analytics.Viewer, id string) (*analytics.ReviewDetail, error) {
	r.note(v)
	return r.Analytics.Review(ctx, v, id)
}

const accPassword = "a long enough test pass phrase"

// accServer is a dashboard with accounts, on a loopback port.
type accServer struct {
	url      string
	db       *sql.DB
	store    *auth.Store
	recorder *viewerRecorder
	tokens   map[string]string // user → API token
	hs       *httptest.Server
}

type accOptions struct {
	public bool
	tls    bool
	limits dashboard.AccessOptions
	// oidc, when set, offers sign-in through that provider; its RedirectURL
	// is filled in with the server's own address.
	oidc *auth.OIDCConfig
	// demo loads the demo collection through the real ingest path and
	// serves it through the real analytics store instead of the fake.
	demo bool
}

func mustAccServer(t *testing.T, o accOptions) *accServer {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := ingest.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	store := auth.New(auth.Options{DB: db, Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}})
	cli := auth.WithPrincipal(ctx, auth.CLI("test"))
	for name, scope := range map[string]auth.Scope{
		"ada":  {Role: auth.RoleAdmin},
		"nora": {Role: auth.RoleNationalResearcher, Unsuppressed: true},
		"nick": {Role: auth.RoleNationalResearcher},
		"ray":  {Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"},
		"bea":  {Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"},
		"zed":  {Role: auth.RoleNationalResearcher}, // for failed logins, whose back-off would slow the others
	} {
		if _, err := store.AddUser(cli, auth.NewUser{Username: name, Password: accPassword, Scope: scope}); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := store.CreateToken(cli, auth.TokenRequest{Username: "bea", Name: "machine upload"})
	if err != nil {
		t.Fatal(err)
	}
	ao := o.limits
	ao.Store, ao.Public = store, o.public
	// Tests send hundreds of requests from one address; TestRateAndBodyLimits
	// sets tight limits of its own.
	generous := func() *auth.Limiter {
		return auth.NewLimiter(auth.LimiterOptions{Every: time.Millisecond, Burst: 100000})
	}
	if ao.LoginLimiter == nil {
		ao.LoginLimiter = generous()
	}
	if ao.AddressLimiter == nil {
		ao.AddressLimiter = generous()
	}
	if ao.AccountLimiter == nil {
		ao.AccountLimiter = generous()
	}
	writer := ingest.NewWriter(ingest.WriterOptions{DB: db})
	var data dashboard.Analytics = newFake()
	if o.demo {
		mustLoad(t, writer, demoExports(t)...)
		data = mustAnalytics(t, db, slog.New(slog.DiscardHandler))
	}
	ropts := research.Options{Source: db, Audit: store, Worker: []string{os.Args[0]}, TempDir: dir}
	if real, ok := data.(*analytics.Store); ok {
		ropts.Published = research.PublishedTables(real)
	}
	sandbox, err := research.New(ropts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sandbox.Close() })
	ao.Research = sandbox
	// The listener comes first: the OpenID redirect URL needs its address.
	hs := httptest.NewUnstartedServer(nil)
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	base := scheme + "://" + hs.Listener.Addr().String()
	if o.oidc != nil {
		cfg := *o.oidc
		cfg.RedirectURL = base + auth.OIDCCallbackPath
		if ao.OIDC, err = auth.NewOIDC(store, cfg); err != nil {
			t.Fatal(err)
		}
	}
	access, err := dashboard.NewAccess(ao)
	if err != nil {
		t.Fatal(err)
	}
	rec := &viewerRecorder{Analytics: data}
	srv, err := dashboard.New(dashboard.Options{Analytics: rec, Writer: writer,
		Logger: slog.New(slog.DiscardHandler), Authenticate: access.Authenticate, Now: fixedNow,
		CacheEntries: -1}) // the matrix counts the calls that reach analytics, so nothing is served from the cache
	if err != nil {
		t.Fatal(err)
	}
	access.Mount(srv)
	hs.Config.Handler = access.Wrap(srv.Handler())
	if o.tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
	return &accServer{url: hs.URL, db: db, store: store, recorder: rec, tokens: map[string]string{"bea": tok}, hs: hs}
}

// accClient is one browser (cookie jar, no automatic redirects) or one
// API client (bearer token).
type accClient struct {
	t      *testing.T
	s      *accServer
	c      *http.Client
	bearer string
	csrf   string
	header http.Header // extra headers for every request
}

func (s *accServer) client(t *testing.T) *accClient {
	jar, _ := cookiejar.New(nil)
	return &accClient{t: t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *accServer) tokenClient(t *testing.T, user string) *accClient {
	c := s.client(t)
	c.bearer = s.tokens[user]
	return c
}

func (c *accClient) do(method, path string, body io.Reader, ctype string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

func (c *accClient) get(path string) (*http.Response, []byte) {
	return c.do(http.MethodGet, path, nil, "")
}

func (c *accClient) postForm(path string, v url.Values) (*http.Response, []byte) {
	return c.do(http.MethodPost, path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// inputValue finds the value of the input named name in a page.
func inputValue(t *testing.T, page []byte, name string) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			var nm, val string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					nm = a.Val
				case "value":
					val = a.Val
				}
			}
			if nm == name && found == "" {
				found = val
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return found
}

// login signs in through the form, as a person does, and keeps the page's
// CSRF token for later state-changing requests.
func (c *accClient) login(user, password string) *http.Response {
	c.t.Helper()
	_, page := c.get("/login")
	token := inputValue(c.t, page, "csrf_token")
	resp, _ := c.postForm("/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {token}, "next": {"/account"}})
	if resp.StatusCode == http.StatusSeeOther {
		_, acct := c.get("/account")
		c.csrf = inputValue(c.t, acct, "csrf_token")
		if c.csrf == "" {
			c.t.Fatalf("no CSRF token on the account page of %s", user)
		}
	}
	return resp
}

func (s *accServer) signedIn(t *testing.T, user string) *accClient {
	t.Helper()
	c := s.client(t)
	if resp := c.login(user, accPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d", user, resp.StatusCode)
	}
	return c
}

// exportJSON is the shipped example as review id of board.
func exportJSON(t *testing.T, id, board, region, nation string) []byte {
	t.Helper()
	e := mustExample(t, id)
	e.Review.Board, e.Review.Region, e.Review.Nation = board, region, nation
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAccessMatrix asks every endpoint as every role, for a collection in
// and out of the role's scope, and checks the answer: allowed, or refused
// with 401, 403 or a redirect to sign-in, as designed. Where a request
// reaches analytics, it must arrive as exactly the principal's viewer, since
// analytics applies scope and suppression from it.
func TestAccessMatrix(t *testing.T) {
	private := mustAccServer(t, accOptions{})
	public := mustAccServer(t, accOptions{public: true})

	type role struct {
		name   string
		srv    *accServer
		client func(t *testing.T) *accClient
		viewer analytics.Viewer
		own    string // a collection in scope
	}
	roles := []role{
		{"anonymous", private, private.client, analytics.Viewer{Role: analytics.RolePublic, Name: "anonymous"}, "UK"},
		{"public", public, public.client, analytics.Viewer{Role: analytics.RolePublic, Name: "anonymous"}, "UK"},
		{"admin", private, func(t *testing.T) *accClient { return private.signedIn(t, "ada") },
			analytics.Viewer{Role: analytics.RoleAdmin, Name: "ada"}, "UK"},
		{"researcher+grant", private, func(t *testing.T) *accClient { return private.signedIn(t, "nora") },
			analytics.Viewer{Role: analytics.RoleNationalResearcher, Unsuppressed: true, Name: "nora"}, "UK"},
		{"researcher", private, func(t *testing.T) *accClient { return private.signedIn(t, "nick") },
			analytics.Viewer{Role: analytics.RoleNationalResearcher, Name: "nick"}, "UK"},
		{"regional analyst", private, func(t *testing.T) *accClient { return private.signedIn(t, "ray") },
			analytics.Viewer{Role: analytics.RoleRegionalAnalyst, Region: "ENG-NE", Name: "ray"}, "ENG-NE"},
		{"board member", private, func(t *testing.T) *accClient { return private.signedIn(t, "bea") },
			analytics.Viewer{Role: analytics.RoleBoardMember, Board: "ENG-NE-NCL", Name: "bea"}, "ENG-NE-NCL"},
		{"board token", private, func(t *testing.T) *accClient { return private.tokenClient(t, "bea") },
			analytics.Viewer{Role: analytics.RoleBoardMember, Board: "ENG-NE-NCL"}, "ENG-NE-NCL"},
	}
	const other = "WLS-CV" // out of every scoped role's scope

	// Expected statuses, one column per role in the order above:
	// anonymous, public, admin, researcher+grant, researcher, regional analyst, board member, board token.
	type endpoint struct {
		method, path string
		scoped       bool // add ?collection=own or other
		want         string
		analytics    bool // a 2xx/404 here went through analytics
	}
	endpoints := []endpoint{
		{"GET", "/", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/factors", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/factors/FL.WORK.03", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/patterns", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/compare", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/trends", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/recommendations", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/reviews", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/reviews/R-1", false, "303 404 404 404 404 404 404 404", true},
		{"GET", "/query", true, "303 200 200 200 200 200 200 200", true},
		{"GET", "/upload", false, "303 403 200 403 403 403 200 200", false},
		{"GET", "/account", false, "303 303 200 200 200 200 200 200", false},
		{"GET", "/admin/audit", false, "303 403 200 403 403 403 403 403", false},
		{"GET", "/admin/audit.csv", false, "303 403 200 403 403 403 403 403", false},
		{"GET", "/research", false, "303 403 200 200 200 403 403 403", false},
		{"GET", "/login", false, "200 200 303 303 303 303 303 200", false},
		{"GET", "/api/v1/overview", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/recurrence", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/compare", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/trends", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/reviews", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/reviews/R-1", false, "401 404 404 404 404 404 404 404", true},
		{"GET", "/api/v1/episodes", true, "401 200 200 200 200 200 200 200", true},
		{"GET", "/api/v1/episodes.csv", true, "401 200 200 200 200 200 200 200", true},
		{"POST", "/api/v1/research", false, "401 403 200 200 200 403 403 403", false},
		{"POST", "/api/v1/reviews", false, "401 403 201 403 403 403 201 201", false},
	}
	uploads := 0
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			c := r.client(t)
			wantViewer := r.viewer
			if r.name == "board token" {
				wantViewer.Name = "bea (token " + strings.Split(r.srv.tokens["bea"], "_")[1] + ")"
			}
			for _, ep := range endpoints {
				for _, coll := range []string{r.own, other} {
					if !ep.scoped && coll == other {
						continue
					}
					path := ep.path
					if ep.scoped {
						path += "?collection=" + coll
					}
					var resp *http.Response
					var body []byte
					r.srv.recorder.take()
					switch {
					case ep.method == "POST" && ep.path == "/api/v1/research":
						resp, body = c.do("POST", path, strings.NewReader(`{"sql": "SELECT count(*) AS boards FROM geography"}`), "application/json")
					case ep.method == "POST" && ep.path == "/api/v1/reviews":
						uploads++
						resp, body = c.do("POST", path+"?name=r.json", bytes.NewReader(exportJSON(t, fmt.Sprintf("M-%d", uploads), "ENG-NE-NCL", "ENG-NE", "ENG")), "application/json")
					default:
						resp, body = c.do(ep.method, path, nil, "")
					}
					want := strings.Fields(ep.want)[indexOf(roles, r.name, func(x role) string { return x.name })]
					if got := fmt.Sprint(resp.StatusCode); got != want {
						t.Errorf("%s %s: status %s, want %s\n%.300s", ep.method, path, got, want, body)
						continue
					}
					if want == "303" && resp.Header.Get("Location") == "" {
						t.Errorf("%s %s: redirect without a location", ep.method, path)
					}
					viewers := r.srv.recorder.take()
					if resp.StatusCode >= 300 && resp.StatusCode != 404 {
						continue // refused before any handler: error pages ask nothing as the principal
					}
					if ep.analytics && len(viewers) == 0 {
						t.Errorf("%s %s: analytics was not asked", ep.method, path)
					}
					for _, v := range viewers {
						if v != wantViewer {
							t.Errorf("%s %s: analytics asked as %+v, want %+v", ep.method, path, v, wantViewer)
							break
						}
					}
				}
			}
		})
	}
}

func indexOf[T any](xs []T, name string, key func(T) string) int {
	for i, x := range xs {
		if key(x) == name {
			return i
		}
	}
	panic("no " + name)
}

// TestUploadScope checks that a board member uploads for their own board only
// and that every upload is audited. It needs the two hook lines in
// upload.go's store (see docs/access.md, "Wiring").
func TestUploadScope(t *testing.T) {
	s := mustAccServer(t, accOptions{})
	bea := s.tokenClient(t, "bea")
	resp, body := bea.do("POST", "/api/v1/reviews?name=own.json", bytes.NewReader(exportJSON(t, "U-1", "ENG-NE-NCL", "ENG-NE", "ENG")), "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("own board: %d %s", resp.StatusCode, body)
	}
	es, err := s.store.AuditLog(auth.WithPrincipal(context.Background(), auth.CLI("t")), auth.AuditFilter{Action: auth.ActionUpload})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		t.Fatal("the upload left no audit entry")
	}
	if es[0].Target != "U-1" || !strings.HasPrefix(es[0].Actor, "bea (token ") || es[0].ActorKind != auth.KindToken {
		t.Errorf("upload audit entry %+v", es[0])
	}
	resp, body = bea.do("POST", "/api/v1/reviews?name=other.json", bytes.NewReader(exportJSON(t, "U-2", "WLS-CV-CRF", "WLS-CV", "WLS")), "application/json")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other board: %d %s", resp.StatusCode, body)
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM reviews WHERE review_id = 'U-2'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused review was stored (%d, %v)", n, err)
	}
}

func TestSessionsAndCSRF(t *testing.T) {
	s := mustAccServer(t, accOptions{})

	t.Run("cookie attributes", func(t *testing.T) {
		c := s.client(t)
		resp := c.login("nick", accPassword)
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "collate_session" {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure on plain HTTP", sess)
		}
		if loc := resp.Header.Get("Location"); loc != "/account" {
			t.Errorf("redirect to %q", loc)
		}
	})
	t.Run("wrong password: same answer for unknown users", func(t *testing.T) {
		r1 := s.client(t).login("zed", "not the password at all")
		r2 := s.client(t).login("nobody-here", "not the password at all")
		if r1.StatusCode != http.StatusUnauthorized || r2.StatusCode != http.StatusUnauthorized {
			t.Fatalf("statuses %d, %d; want 401 for both", r1.StatusCode, r2.StatusCode)
		}
	})
	t.Run("login form needs its CSRF token", func(t *testing.T) {
		c := s.client(t)
		c.get("/login")
		resp, _ := c.postForm("/login", url.Values{"username": {"nick"}, "password": {accPassword}, "csrf_token": {"forged"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged login CSRF token: %d", resp.StatusCode)
		}
	})
	t.Run("state-changing requests need the session's token", func(t *testing.T) {
		c := s.signedIn(t, "nora")
		good := c.csrf
		for _, tc := range []struct {
			name, token string
			header      http.Header
			want        int
		}{
			{"no token", "", nil, http.StatusForbidden},
			{"forged token", "AAAA" + good[4:], nil, http.StatusForbidden},
			{"another session's token", s.signedIn(t, "nick").csrf, nil, http.StatusForbidden},
			{"right token", good, nil, http.StatusOK},
			{"right token, but sent from another site", good, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
			{"right token, foreign Origin", good, http.Header{"Origin": {"http://127.0.0.2:9"}}, http.StatusForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.csrf, c.header = tc.token, tc.header
				resp, body := c.do("POST", "/api/v1/research", strings.NewReader(`{"sql": "SELECT 1"}`), "application/json")
				if resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.want, body)
				}
			})
		}
		c.csrf, c.header = good, nil
		// The form field works as well as the header.
		c.csrf = ""
		resp, _ := c.postForm("/research", url.Values{"sql": {"SELECT 42 AS answer"}, "csrf_token": {good}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("research form with csrf_token field: %d", resp.StatusCode)
		}
	})
	t.Run("a multipart form carries the token as a field", func(t *testing.T) {
		c := s.signedIn(t, "bea")
		token := c.csrf
		for _, withToken := range []bool{false, true} {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			if withToken {
				_ = mw.WriteField("csrf_token", token)
			}
			fw, _ := mw.CreateFormFile("files", "form.json")
			fw.Write(exportJSON(t, "F-1", "ENG-NE-NCL", "ENG-NE", "ENG"))
			mw.Close()
			c.csrf = ""
			resp, page := c.do("POST", "/upload", bytes.NewReader(body.Bytes()), mw.FormDataContentType())
			want := http.StatusForbidden
			if withToken {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Fatalf("token field %v: status %d, want %d\n%.300s", withToken, resp.StatusCode, want, page)
			}
		}
	})
	t.Run("API tokens need no CSRF token", func(t *testing.T) {
		resp, body := s.tokenClient(t, "bea").do("POST", "/api/v1/reviews?name=t.json", bytes.NewReader(exportJSON(t, "T-1", "ENG-NE-NCL", "ENG-NE", "ENG")), "application/json")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("a bad token is refused, not treated as anonymous", func(t *testing.T) {
		c := s.client(t)
		c.bearer = "collate_0000000000000000_" + strings.Repeat("0", 64)
		if resp, _ := c.get("/api/v1/overview"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		c := s.signedIn(t, "ray")
		if resp, _ := c.postForm("/logout", url.Values{"csrf_token": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("after logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("tokens from the account page", func(t *testing.T) {
		c := s.signedIn(t, "nora")
		resp, page := c.postForm("/account/tokens", url.Values{"name": {"laptop"}, "days": {"30"}, "suppressed_only": {"1"}, "csrf_token": {c.csrf}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %.300s", resp.StatusCode, page)
		}
		tok := regexpFind(`collate_[0-9a-f]{16}_[0-9a-f]{64}`, page)
		if tok == "" {
			t.Fatal("the new token is not on the page")
		}
		p, err := s.store.VerifyToken(context.Background(), tok)
		if err != nil || p.Unsuppressed || p.Role != auth.RoleNationalResearcher {
			t.Fatalf("token principal %+v, %v: want a suppressed-only researcher", p, err)
		}
		if _, again := c.get("/account"); strings.Contains(string(again), tok) {
			t.Fatal("the token is shown a second time")
		}
		id := strings.Split(tok, "_")[1]
		if resp, _ := c.postForm("/account/tokens/"+id+"/revoke", url.Values{"csrf_token": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if _, err := s.store.VerifyToken(context.Background(), tok); errs.KindOf(err) != errs.Unauthenticated {
			t.Fatalf("revoked token: %v", err)
		}
	})
	t.Run("safe redirects only", func(t *testing.T) {
		c := s.client(t)
		_, page := c.get("/login")
		resp, _ := c.postForm("/login", url.Values{"username": {"nick"}, "password": {accPassword}, "csrf_token": {inputValue(t, page, "csrf_token")}, "next": {"//evil.example/"}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Fatalf("next=//evil.example/ redirected to %q", loc)
		}
	})
}

func regexpFind(pattern string, b []byte) string {
	return string(regexp.MustCompile(pattern).Find(b))
}

func TestSecureCookiesUnderTLS(t *testing.T) {
	s := mustAccServer(t, accOptions{tls: true})
	c := s.client(t)
	c.c.Transport = s.hs.Client().Transport
	resp := c.login("nick", accPassword)
	var names []string
	for _, ck := range resp.Cookies() {
		names = append(names, ck.Name)
		if ck.Name == "__Host-collate_session" && (!ck.Secure || !ck.HttpOnly || ck.Path != "/") {
			t.Fatalf("cookie %+v", ck)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "__Host-collate_session") {
		t.Fatalf("cookies %v: want __Host-collate_session", names)
	}
	if resp, _ := c.get("/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in over TLS: %d", resp.StatusCode)
	}
}

func TestRateAndBodyLimits(t *testing.T) {
	s := mustAccServer(t, accOptions{limits: dashboard.AccessOptions{
		LoginLimiter:   auth.NewLimiter(auth.LimiterOptions{Every: time.Hour, Burst: 3}),
		AccountLimiter: auth.NewLimiter(auth.LimiterOptions{Every: time.Hour, Burst: 20}),
	}})
	t.Run("sign-in attempts per address", func(t *testing.T) {
		c := s.client(t)
		var codes []int
		for range 4 {
			codes = append(codes, c.login("zed", "wrong wrong wrong").StatusCode)
		}
		if fmt.Sprint(codes) != "[401 401 401 429]" {
			t.Fatalf("statuses %v, want three refusals then 429", codes)
		}
	})
	t.Run("requests per account", func(t *testing.T) {
		c := s.tokenClient(t, "bea")
		last := 0
		for range 21 {
			resp, _ := c.get("/api/v1/overview")
			last = resp.StatusCode
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("21st request: %d, want 429", last)
		}
	})
	t.Run("body size", func(t *testing.T) {
		c := mustAccServer(t, accOptions{}).signedIn(t, "nora")
		big := `{"sql": "SELECT '` + strings.Repeat("x", 70<<10) + `'"}`
		resp, body := c.do("POST", "/api/v1/research", strings.NewReader(big), "application/json")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "too large") {
			t.Fatalf("%d %.200s", resp.StatusCode, body)
		}
	})
}

func TestResearchOverHTTP(t *testing.T) {
	s := mustAccServer(t, accOptions{})
	query := func(c *accClient, sql string) (int, map[string]any) {
		t.Helper()
		resp, body := c.do("POST", "/api/v1/research", strings.NewReader(`{"sql": `+jsonString(sql)+`}`), "application/json")
		var out map[string]any
		_ = json.Unmarshal(body, &out)
		return resp.StatusCode, out
	}
	nora, nick := s.signedIn(t, "nora"), s.signedIn(t, "nick")
	code, out := query(nora, "SELECT count(*) AS n FROM reviews")
	if code != http.StatusOK || out["tier"] != "row_level" {
		t.Fatalf("granted: %d %v", code, out)
	}
	code, out = query(nick, "SELECT count(*) AS n FROM reviews")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("ungranted researcher reached reviews: %d %v", code, out)
	}
	code, out = query(nick, "COPY geography TO '/tmp/x.csv'")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("COPY: %d %v", code, out)
	}
	es, err := s.store.AuditLog(auth.WithPrincipal(context.Background(), auth.CLI("t")), auth.AuditFilter{Action: auth.ActionResearchQuery})
	if err != nil || len(es) != 3 {
		t.Fatalf("research audit entries: %d, %v", len(es), err)
	}
}

func TestAuditPagesAndDownloads(t *testing.T) {
	s := mustAccServer(t, accOptions{})
	ada := s.signedIn(t, "ada")
	if resp, _ := ada.get("/api/v1/episodes.csv?collection=UK"); resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	resp, page := ada.get("/admin/audit?action=download")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "/api/v1/episodes.csv?collection=UK") {
		t.Fatalf("audit page does not list the download: %d\n%.500s", resp.StatusCode, page)
	}
	resp, csvBody := ada.get("/admin/audit.csv?action=login")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(csvBody), "id,at,actor") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv export: %d %q\n%.300s", resp.StatusCode, resp.Header.Get("Content-Disposition"), csvBody)
	}
	resp, jsonBody := ada.get("/admin/audit.json")
	var doc struct{ Entries []auth.Entry }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(jsonBody, &doc) != nil || len(doc.Entries) == 0 {
		t.Fatalf("json export: %d %.300s", resp.StatusCode, jsonBody)
	}
	es, err := s.store.AuditLog(auth.WithPrincipal(context.Background(), auth.CLI("t")), auth.AuditFilter{Action: auth.ActionAuditExport})
	if err != nil || len(es) != 2 {
		t.Fatalf("exports audited: %d %v", len(es), err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
