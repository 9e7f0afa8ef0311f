package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

// discoveryOnly serves an OpenID provider's discovery document, and fails
// with 503 while down is set. Begin needs nothing more.
func discoveryOnly(t *testing.T, down *atomic.Bool) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() || r.URL.Path != "/.well-known/openid-configuration" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOIDCBeginAndPending(t *testing.T) {
	store, clk, _ := mustStore(t)
	var down atomic.Bool
	down.Store(true)
	idp := discoveryOnly(t, &down)
	rules, err := auth.ParseRoleRules("g=admin")
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.OIDCConfig{Name: "Council ID", Issuer: idp.URL, ClientID: "collate", ClientSecret: "s",
		RedirectURL: "https://collate.example" + auth.OIDCCallbackPath, Rules: rules, Now: clk.Now}
	o, err := auth.NewOIDC(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A provider that is down is a clear, retryable refusal, not a failure to start.
	if _, _, err := o.Begin(ctx, "/trends"); errs.KindOf(err) != errs.Unavailable || !strings.Contains(errs.Message(err), "Council ID cannot be reached") {
		t.Fatalf("provider down: %v", err)
	}
	down.Store(false)
	authURL, sealed, err := o.Begin(ctx, "/trends")
	if err != nil {
		t.Fatalf("provider back up: %v", err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for key, want := range map[string]string{"client_id": "collate", "response_type": "code", "code_challenge_method": "S256",
		"redirect_uri": "https://collate.example/login/oidc/callback", "scope": "openid profile email groups"} {
		if q.Get(key) != want {
			t.Errorf("authorization URL %s = %q, want %q", key, q.Get(key), want)
		}
	}
	p, err := o.Pending(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != q.Get("state") || p.Nonce != q.Get("nonce") || p.Next != "/trends" || len(p.Verifier) < 43 || q.Get("code_challenge") == "" {
		t.Fatalf("pending %+v does not match the authorization URL %s", p, authURL)
	}
	if strings.Contains(authURL, p.Verifier) {
		t.Fatal("the PKCE verifier went to the provider")
	}

	other, err := auth.NewOIDC(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	body, sig, _ := strings.Cut(sealed, ".")
	for name, s := range map[string]string{
		"empty":    "",
		"altered":  body[:len(body)-2] + "AA." + sig,
		"no seal":  body,
		"reforged": body + "." + strings.Repeat("A", len(sig)),
	} {
		if _, err := o.Pending(s); errs.KindOf(err) != errs.Unauthenticated {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := other.Pending(sealed); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("sealed by another server process: %v", err)
	}
	clk.Advance(11 * time.Minute)
	if _, err := o.Pending(sealed); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("eleven minutes later: %v", err)
	}
}
