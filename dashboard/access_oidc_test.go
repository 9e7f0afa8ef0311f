package dashboard_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collate-project/collate/dashboard/auth"
)

// testIdP is a small OpenID Connect provider on a loopback port: discovery,
// a JWKS, an authorization endpoint that signs in whoever the test says is
// at the keyboard, and a token endpoint that checks the client secret, the
// redirect URI and the PKCE verifier and returns an RS256-signed ID token.
// It is a real protocol peer for Collate's sign-in, not a stand-in for any
// Collate code.
type testIdP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	client string
	secret string

	// consent makes the authorization endpoint show a page with a link
	// back, instead of redirecting at once.
	consent bool

	mu    sync.Mutex
	user  map[string]any // the claims of whoever signs in next
	tweak func(claims map[string]any)
	codes map[string]idpCode
	// hide names claims given only at the userinfo endpoint, not in the ID
	// token; infoTweak spoils the userinfo answer.
	hide      []string
	infoTweak func(claims map[string]any)
	access    map[string]map[string]any // access token → userinfo claims
}

type idpCode struct {
	redirect, challenge, nonce string
	claims                     map[string]any
}

func newTestIdP(t *testing.T) *testIdP { return newTestIdPAt(t, "127.0.0.1:0") }

// newTestIdPAt listens on addr: 127.0.0.2 makes the provider another site
// than Collate on 127.0.0.1, as a council's provider is.
func newTestIdPAt(t *testing.T, addr string) *testIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{t: t, key: key, client: "collate-test", secret: "idp client secret for tests", codes: map[string]idpCode{}, access: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.Listener.Close()
	p.srv.Listener = ln
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testIdP) issuer() string { return p.srv.URL }

func (p *testIdP) config() *auth.OIDCConfig {
	rules, err := auth.ParseRoleRules(`collate-admins=admin; researchers=national_researcher;
		researchers-full=national_researcher+unsuppressed; ne-analysts=regional_analyst:ENG-NE;
		cn=ncl-board,ou=groups=board_member:ENG-NE-NCL`)
	if err != nil {
		p.t.Fatal(err)
	}
	return &auth.OIDCConfig{Name: "Test Council ID", Issuer: p.issuer(), ClientID: p.client, ClientSecret: p.secret, Rules: rules}
}

// signIn sets who signs in next and how their ID token is spoiled, if at all.
func (p *testIdP) signIn(claims map[string]any, tweak func(map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user, p.tweak, p.hide, p.infoTweak = claims, tweak, nil, nil
}

// viaUserInfo makes the next sign-in's hidden claims come from the userinfo
// endpoint only, spoiled by tweak if set.
func (p *testIdP) viaUserInfo(hide []string, tweak func(map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hide, p.infoTweak = hide, tweak
}

func (p *testIdP) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	claims, ok := p.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	p.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

func (p *testIdP) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": p.issuer(), "authorization_endpoint": p.issuer() + "/authorize", "token_endpoint": p.issuer() + "/token",
		"jwks_uri": p.issuer() + "/jwks", "userinfo_endpoint": p.issuer() + "/userinfo", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *testIdP) jwks(w http.ResponseWriter, r *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "kid": "test-1", "use": "sig", "alg": "RS256",
		"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
}

func (p *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != p.client, q.Get("response_type") != "code", !strings.Contains(" "+q.Get("scope")+" ", " openid "),
		q.Get("code_challenge_method") != "S256", q.Get("code_challenge") == "", q.Get("state") == "", q.Get("nonce") == "":
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	code := randomHex(p.t, 16)
	p.codes[code] = idpCode{redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), claims: p.user}
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	if p.consent {
		// A page of the provider's own: following its link is a navigation
		// that another site starts, as after typing a password there.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Test Council ID</title><link rel="icon" href="data:,"><main><a id="continue" href="%s">Continue to Collate</a></main></html>`,
			html.EscapeString(back.String()))
		return
	}
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *testIdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.client || secret != p.secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	c, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // a code works once
	tweak := p.tweak
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok, r.PostForm.Get("grant_type") != "authorization_code", r.PostForm.Get("redirect_uri") != c.redirect,
		base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.issuer(), "aud": p.client, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": c.nonce}
	for k, v := range c.claims {
		claims[k] = v
	}
	if tweak != nil {
		tweak(claims)
	}
	info := map[string]any{}
	for k, v := range c.claims {
		info[k] = v
	}
	p.mu.Lock()
	for _, k := range p.hide {
		delete(claims, k)
	}
	if p.infoTweak != nil {
		p.infoTweak(info)
	}
	at := randomHex(p.t, 16)
	p.access[at] = info
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300,
		"id_token": p.sign(claims)})
}

// sign makes a compact RS256 JWS of claims.
func (p *testIdP) sign(claims map[string]any) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			p.t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": "RS256", "kid": "test-1", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		p.t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(b))
}

// oidcSignIn walks a browser through sign-in: Collate's login page and its
// button, the redirect to the provider, the provider's redirect back, and
// Collate's answer to it. spoil, when set, changes the callback URL first.
func (c *accClient) oidcSignIn(next string, spoil func(*url.URL)) (*http.Response, []byte) {
	c.t.Helper()
	_, page := c.get("/login?next=" + url.QueryEscape(next))
	doc := mustParse(c.t, page)
	buttons := findAll(doc, byID("oidc-sign-in"))
	if len(buttons) != 1 || !strings.Contains(text(buttons[0]), "Sign in with Test Council ID") {
		c.t.Fatalf("no \"Sign in with Test Council ID\" button on the login page")
	}
	href, _ := attr(buttons[0], "href")
	resp, body := c.get(href)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("start: %d %.300s", resp.StatusCode, body)
	}
	// At the provider: a plain client, as the provider's cookies are its own.
	idpResp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(resp.Header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	idpResp.Body.Close()
	if idpResp.StatusCode != http.StatusFound {
		c.t.Fatalf("provider's authorization endpoint: %d", idpResp.StatusCode)
	}
	back, err := url.Parse(idpResp.Header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	if spoil != nil {
		spoil(back)
	}
	return c.get(back.RequestURI())
}

func TestOIDCSignIn(t *testing.T) {
	idp := newTestIdP(t)
	s := mustAccServer(t, accOptions{oidc: idp.config()})
	ctx := auth.WithPrincipal(context.Background(), auth.CLI("test"))
	person := func(name string, groups ...string) map[string]any {
		return map[string]any{"sub": "sub-" + name, "preferred_username": name, "email": name + "@council.example", "groups": groups}
	}

	t.Run("each mapped group gets its role and scope", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			groups []string
			want   auth.Scope
			paths  map[string]int // what the new account may and may not open
		}{
			{"olga", []string{"staff", "collate-admins"}, auth.Scope{Role: auth.RoleAdmin}, map[string]int{"/admin/audit": 200, "/research": 200}},
			{"rita", []string{"researchers"}, auth.Scope{Role: auth.RoleNationalResearcher}, map[string]int{"/research": 200, "/admin/audit": 403, "/upload": 403}},
			{"rex", []string{"researchers-full"}, auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}, map[string]int{"/research": 200}},
			{"nell", []string{"ne-analysts"}, auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}, map[string]int{"/research": 403, "/upload": 403}},
			{"bob", []string{"cn=ncl-board,ou=groups"}, auth.Scope{Role: auth.RoleBoardMember, Region: "ENG-NE", Board: "ENG-NE-NCL"}, map[string]int{"/upload": 200, "/research": 403}},
			// The first matching rule wins, in the order the rules are written.
			{"two", []string{"ne-analysts", "researchers"}, auth.Scope{Role: auth.RoleNationalResearcher}, map[string]int{"/research": 200}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				idp.signIn(person(tc.name, tc.groups...), nil)
				c := s.client(t)
				resp, body := c.oidcSignIn("/account", nil)
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
					t.Fatalf("callback: %d %s\n%.400s", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				u, err := s.store.User(ctx, tc.name)
				if err != nil {
					t.Fatal(err)
				}
				if u.Scope != tc.want || u.HasPassword || u.Email != tc.name+"@council.example" {
					t.Errorf("account %+v: want scope %+v, no password, the e-mail from the token", u, tc.want)
				}
				resp, page := c.get("/account")
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), tc.name) {
					t.Fatalf("account page: %d", resp.StatusCode)
				}
				for path, want := range tc.paths {
					if resp, _ := c.get(path); resp.StatusCode != want {
						t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
					}
				}
				// An account made by single sign-on has no password to guess.
				if resp := s.client(t).login(tc.name, accPassword); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("password login to an OIDC account: %d", resp.StatusCode)
				}
			})
		}
	})

	t.Run("a later sign-in follows the provider's groups", func(t *testing.T) {
		idp.signIn(person("rita", "ne-analysts"), nil)
		if resp, body := s.client(t).oidcSignIn("/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d %.300s", resp.StatusCode, body)
		}
		u, err := s.store.User(ctx, "rita")
		if err != nil || u.Scope != (auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}) {
			t.Fatalf("rita after moving group: %+v %v", u.Scope, err)
		}
		es, err := s.store.AuditLog(ctx, auth.AuditFilter{Action: auth.ActionPermission, Target: "rita"})
		if err != nil || len(es) != 1 || es[0].Detail["via"] != "oidc" {
			t.Fatalf("permission change audit: %+v %v", es, err)
		}
	})

	t.Run("refused: a user name tied to another identity", func(t *testing.T) {
		// A provider may give a departed person's user name to somebody new.
		idp.signIn(map[string]any{"sub": "sub-newcomer", "preferred_username": "rita", "groups": []string{"collate-admins"}}, nil)
		resp, body := s.client(t).oidcSignIn("/", nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "belongs to another") {
			t.Fatalf("%d %.500s", resp.StatusCode, body)
		}
		u, err := s.store.User(ctx, "rita")
		if err != nil || u.Scope.Role != auth.RoleRegionalAnalyst {
			t.Fatalf("rita's account changed: %+v %v", u.Scope, err)
		}
	})
	t.Run("a renamed person keeps their account", func(t *testing.T) {
		idp.signIn(map[string]any{"sub": "sub-rita", "preferred_username": "rita.new", "groups": []string{"ne-analysts"}}, nil)
		c := s.client(t)
		if resp, body := c.oidcSignIn("/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d %.300s", resp.StatusCode, body)
		}
		if _, err := s.store.User(ctx, "rita.new"); err == nil {
			t.Fatal("a second account was made for the same identity")
		}
		if resp, page := c.get("/account"); resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "rita") {
			t.Fatalf("account page: %d", resp.StatusCode)
		}
	})

	t.Run("groups from the userinfo endpoint", func(t *testing.T) {
		idp.signIn(person("gus", "ne-analysts"), nil)
		idp.viaUserInfo([]string{"groups"}, nil)
		if resp, body := s.client(t).oidcSignIn("/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d %.300s", resp.StatusCode, body)
		}
		u, err := s.store.User(ctx, "gus")
		if err != nil || u.Scope != (auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}) {
			t.Fatalf("gus: %+v %v", u.Scope, err)
		}
	})
	t.Run("refused: userinfo about someone else", func(t *testing.T) {
		idp.signIn(person("hal", "collate-admins"), nil)
		idp.viaUserInfo([]string{"groups"}, func(c map[string]any) { c["sub"] = "sub-someone-else" })
		resp, body := s.client(t).oidcSignIn("/", nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "userinfo is about someone else") {
			t.Fatalf("%d %.500s", resp.StatusCode, body)
		}
		if _, err := s.store.User(ctx, "hal"); err == nil {
			t.Fatal("the account was created")
		}
	})

	refusals := []struct {
		name   string
		claims map[string]any
		tweak  func(map[string]any)
		spoil  func(*url.URL)
		status int
		say    string
	}{
		{"no mapped group", person("uma", "staff", "finance"), nil, nil, http.StatusForbidden, "has no role in Collate"},
		{"no groups at all", map[string]any{"sub": "sub-ulf", "preferred_username": "ulf"}, nil, nil, http.StatusForbidden, "has no role in Collate"},
		{"wrong nonce", person("wes", "researchers"), func(c map[string]any) { c["nonce"] = "another-sign-in" }, nil, http.StatusUnauthorized, "(nonce)"},
		{"wrong state", person("sal", "researchers"), nil, func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged-state")
			u.RawQuery = q.Encode()
		}, http.StatusUnauthorized, "(state)"},
		{"expired token", person("eve", "researchers"), func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}, nil, http.StatusUnauthorized, "has expired"},
		{"wrong audience", person("ava", "researchers"), func(c map[string]any) { c["aud"] = "another-application" }, nil, http.StatusUnauthorized, "issued for another application"},
		{"wrong issuer", person("ida", "researchers"), func(c map[string]any) { c["iss"] = "http://127.0.0.2:1" }, nil, http.StatusUnauthorized, "issued by another provider"},
		{"provider error", person("pat", "researchers"), nil, func(u *url.URL) { u.RawQuery = "error=access_denied&state=x" }, http.StatusUnauthorized, "access_denied"},
		{"a password account is never taken over", person("nick", "collate-admins"), nil, nil, http.StatusForbidden, "signs in with a password"},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			idp.signIn(tc.claims, tc.tweak)
			c := s.client(t)
			resp, body := c.oidcSignIn("/account", tc.spoil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%.500s", resp.StatusCode, tc.status, body)
			}
			doc := mustParse(t, body)
			summary := findAll(doc, byID("error-summary"))
			if len(summary) != 1 || !strings.Contains(text(summary[0]), tc.say) {
				t.Fatalf("the page does not say %q:\n%.800s", tc.say, body)
			}
			for _, ck := range resp.Cookies() {
				if strings.Contains(ck.Name, "collate_session") && ck.MaxAge >= 0 {
					t.Fatalf("a refused sign-in set a session cookie")
				}
			}
			if resp, _ := c.get("/account"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("after a refused sign-in /account answers %d, want a redirect to sign in", resp.StatusCode)
			}
			name, _ := tc.claims["preferred_username"].(string)
			if name != "nick" {
				if _, err := s.store.User(ctx, name); err == nil {
					t.Fatalf("a refused sign-in created the account %s", name)
				}
			}
		})
	}

	t.Run("every sign-in is audited", func(t *testing.T) {
		es, err := s.store.AuditLog(ctx, auth.AuditFilter{Action: auth.ActionLogin, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ok, denied := 0, 0
		for _, e := range es {
			if e.Detail["method"] != "oidc" {
				continue
			}
			switch e.Outcome {
			case auth.OutcomeOK:
				ok++
			case auth.OutcomeDenied:
				denied++
				if e.Detail["reason"] == nil {
					t.Errorf("denied sign-in without a reason: %+v", e)
				}
			}
		}
		// Nine sign-ins; the provider-error refusal never reaches Finish,
		// and the userinfo and reused-name refusals come on top of the table.
		if ok != 9 || denied != len(refusals)+1 {
			t.Fatalf("audited oidc sign-ins: %d ok, %d denied; want 9 and %d", ok, denied, len(refusals)+1)
		}
		adds, err := s.store.AuditLog(ctx, auth.AuditFilter{Action: auth.ActionUserAdd, Actor: "olga"})
		if err != nil || len(adds) != 1 || adds[0].Detail["via"] != "oidc" || adds[0].Detail["subject"] != "sub-olga" {
			t.Fatalf("account creation audit: %+v %v", adds, err)
		}
	})

	t.Run("no button without a provider", func(t *testing.T) {
		plain := mustAccServer(t, accOptions{})
		_, page := plain.client(t).get("/login")
		if len(findAll(mustParse(t, page), byID("oidc-sign-in"))) != 0 {
			t.Fatal("a sign-in button for a provider that is not configured")
		}
		if resp, _ := plain.client(t).get("/login/oidc"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("/login/oidc without a provider: %d", resp.StatusCode)
		}
	})
}

func TestParseRoleRules(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []auth.RoleRule
		err  string
	}{
		{"a=admin", []auth.RoleRule{{Value: "a", Scope: auth.Scope{Role: auth.RoleAdmin}}}, ""},
		{"r=national_researcher+unsuppressed;\nx=regional-analyst:ENG-NE", []auth.RoleRule{
			{Value: "r", Scope: auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}},
			{Value: "x", Scope: auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}}}, ""},
		{"cn=b,ou=g=board_member:ENG-NE-NCL", []auth.RoleRule{{Value: "cn=b,ou=g", Scope: auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}}}, ""},
		{"admin", nil, "write VALUE=ROLE"},
		{"a=boss", nil, "unknown role"},
		{"a=admin:ENG", nil, "covers every collection"},
	} {
		got, err := auth.ParseRoleRules(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%q: %+v %v", tc.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q rule %d: %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestOIDCConfigChecked(t *testing.T) {
	s := mustAccServer(t, accOptions{})
	rules, _ := auth.ParseRoleRules("x=regional_analyst:XXX-YY")
	_, err := auth.NewOIDC(s.store, auth.OIDCConfig{Issuer: "ftp://x", RedirectURL: "http://127.0.0.1/elsewhere", Rules: rules})
	if err == nil {
		t.Fatal("a bad configuration was accepted")
	}
	for _, want := range []string{"issuer URL", "client ID", "client secret", auth.OIDCCallbackPath, "unknown region"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q: %v", want, err)
		}
	}
}

// TestBrowserOIDC signs in through the provider in headless Chromium, as a
// person would: the button on the sign-in page, the provider on another site
// (127.0.0.2), and back. The pending sign-in's cookie must survive that
// cross-site return, which is why it is SameSite=Lax and not Strict.
func TestBrowserOIDC(t *testing.T) {
	requireBrowser(t)
	axe := mustAxe(t)
	idp := newTestIdPAt(t, "127.0.0.2:0")
	idp.consent = true
	s := mustAccServer(t, accOptions{oidc: idp.config()})
	u, _ := url.Parse(s.url)
	b := mustBrowser(t, u.Host)
	idpHost := strings.TrimPrefix(idp.issuer(), "http://")
	check := func(t *testing.T) {
		t.Helper()
		for _, p := range b.rec.problems() {
			if !strings.Contains(p, idpHost) { // the trip to the provider is the point
				t.Error(p)
			}
		}
		for _, v := range b.axeViolations(t, axe) {
			t.Errorf("axe: %s", v)
		}
	}
	t.Run("the sign-in page offers the provider", func(t *testing.T) {
		b.rec.reset()
		b.open(t, s.url+"/trends")
		if got := eval[string](t, b, `(document.getElementById('oidc-sign-in') || {}).textContent || ''`); got != "Sign in with Test Council ID" {
			t.Fatalf("button %q", got)
		}
		check(t)
	})
	t.Run("through the provider and back, signed in", func(t *testing.T) {
		idp.signIn(map[string]any{"sub": "sub-nell", "preferred_username": "nell", "groups": []string{"ne-analysts"}}, nil)
		b.rec.reset()
		eval[bool](t, b, `document.getElementById('oidc-sign-in').click(); true`)
		atProvider(t, b)
		b.waitPath(t, "/trends")
		b.settle(t)
		b.open(t, s.url+"/account")
		if text := eval[string](t, b, `document.querySelector('main').textContent`); !strings.Contains(text, "nell") || !strings.Contains(text, "ENG-NE") {
			t.Fatalf("account page after single sign-on: %.300s", text)
		}
		check(t)
	})
	t.Run("a user with no role is told so", func(t *testing.T) {
		b.open(t, s.url+"/account")
		eval[bool](t, b, `window.collateOldPage = true; document.querySelector('form[action="/logout"]').requestSubmit(); true`)
		waitNewPage(t, b, "/login")
		idp.signIn(map[string]any{"sub": "sub-uma", "preferred_username": "uma", "groups": []string{"finance"}}, nil)
		b.rec.reset()
		// The refusal is a 403 page, which Chromium also reports on the console.
		b.rec.allow = func(u string, status int) bool { return strings.Contains(u, "/login/oidc/callback") && status == 403 }
		b.rec.allowConsole = func(m chromedp.ConsoleMessage) bool { return strings.Contains(m.Text, "status of 403") }
		eval[bool](t, b, `document.getElementById('oidc-sign-in').click(); true`)
		atProvider(t, b)
		b.waitPath(t, "/login/oidc/callback")
		b.settle(t)
		if text := eval[string](t, b, `document.getElementById('error-summary').textContent`); !strings.Contains(text, "has no role in Collate") {
			t.Fatalf("refusal page: %.300s", text)
		}
		check(t)
	})
}

// atProvider waits for the provider's page and follows its link back.
func atProvider(t *testing.T, b *browser) {
	t.Helper()
	b.waitPath(t, "/authorize")
	for range 100 {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const a = document.getElementById('continue'); if (!a) return false; a.click(); return true })()`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the provider's page has no link back")
}
