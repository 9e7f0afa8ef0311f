package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/collate-project/collate/ingest/errs"
)

// OIDCCallbackPath is where the provider sends the browser back; the
// redirect URL registered with the provider must end in it.
const OIDCCallbackPath = "/login/oidc/callback"

// OIDCConfig configures sign-in through an OpenID Connect provider, such as a
// council's identity service. Zero fields take the defaults.
type OIDCConfig struct {
	// Name is the provider as people know it, on the "Sign in with" button.
	Name string
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration.
	Issuer       string
	ClientID     string
	ClientSecret string // from a file or the environment, never a flag
	// RedirectURL is Collate's own address followed by OIDCCallbackPath,
	// exactly as registered with the provider.
	RedirectURL string
	// Scopes asked for besides openid; default profile, email and groups.
	Scopes []string
	// UsernameClaim names the claim that becomes the local user name;
	// default preferred_username.
	UsernameClaim string
	// RolesClaim names the claim holding the user's groups or roles (a
	// string or a list of strings); a dotted path reaches into objects, as
	// in realm_access.roles. Default groups.
	RolesClaim string
	// Rules map values of RolesClaim to scopes; the first rule whose value
	// the user has wins. A user matching no rule is refused.
	Rules []RoleRule
	// HTTPClient talks to the provider; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock for token expiry and pending sign-ins; default time.Now.
	Now func() time.Time
}

// RoleRule gives users whose roles claim holds Value the scope Scope.
type RoleRule struct {
	Value string
	Scope Scope
}

// ParseRoleRules reads claim-to-role rules written as
// VALUE=ROLE[:PLACE][+unsuppressed], separated by semicolons or new lines:
//
//	collate-admins=admin; researchers=national_researcher;
//	ne-analysts=regional_analyst:ENG-NE; ncl=board_member:ENG-NE-NCL
//
// A value may itself hold '=' (an LDAP group name, say): the last '=' splits.
func ParseRoleRules(text string) ([]RoleRule, error) {
	var out []RoleRule
	for i, item := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k := strings.LastIndex(item, "=")
		if k <= 0 || k == len(item)-1 {
			return nil, errs.E(errs.Invalid, "role rule %d %q: write VALUE=ROLE, such as collate-admins=admin or ne-analysts=regional_analyst:ENG-NE", i+1, item)
		}
		value, spec := strings.TrimSpace(item[:k]), strings.TrimSpace(item[k+1:])
		var sc Scope
		if base, ok := strings.CutSuffix(spec, "+unsuppressed"); ok {
			sc.Unsuppressed, spec = true, base
		}
		roleText, place, _ := strings.Cut(spec, ":")
		role, err := ParseRole(roleText)
		if err != nil {
			return nil, errs.E(errs.Invalid, "role rule %d %q: %s", i+1, item, errs.Message(err))
		}
		sc.Role = role
		switch role {
		case RoleRegionalAnalyst:
			sc.Region = place
		case RoleBoardMember:
			sc.Board = place
		default:
			if place != "" {
				return nil, errs.E(errs.Invalid, "role rule %d %q: a %s covers every collection; leave out :%s", i+1, item, role, place)
			}
		}
		out = append(out, RoleRule{Value: value, Scope: sc})
	}
	return out, nil
}

// OIDC signs people in through an OpenID Connect provider with the
// authorization code flow, state, nonce and PKCE (S256). The provider is
// discovered on first use, so a provider that is down at start-up does not
// stop Collate from serving password sign-in.
type OIDC struct {
	cfg   OIDCConfig
	store *Store
	key   []byte // seals pending sign-ins kept in the browser's cookie

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

// NewOIDC checks cfg against the geography and the rules of scopes. It
// makes no network request.
func NewOIDC(store *Store, cfg OIDCConfig) (*OIDC, error) {
	if store == nil {
		return nil, errors.New("auth: NewOIDC needs a store")
	}
	problems := []string{}
	if u, err := url.Parse(cfg.Issuer); cfg.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems = append(problems, "the issuer URL (--oidc-issuer) must be an http(s) URL such as https://login.example.gov.uk/realms/council")
	}
	if cfg.ClientID == "" {
		problems = append(problems, "the client ID (--oidc-client-id) is missing")
	}
	if cfg.ClientSecret == "" {
		problems = append(problems, "the client secret is missing: give --oidc-client-secret-file or COLLATE_OIDC_CLIENT_SECRET")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || u.Host == "" || u.Path != OIDCCallbackPath {
		problems = append(problems, "the redirect URL (--oidc-redirect-url) must be Collate's address followed by "+OIDCCallbackPath+", as registered with the provider")
	}
	if len(cfg.Rules) == 0 {
		problems = append(problems, "no role rules (--oidc-role-map): nobody could sign in")
	}
	cfg.Rules = append([]RoleRule(nil), cfg.Rules...) // normalised below; the caller's stay as given
	for i, r := range cfg.Rules {
		sc, err := r.Scope.normalize(store.geo)
		if err != nil {
			problems = append(problems, fmt.Sprintf("role rule %d (%s): %s", i+1, r.Value, errs.Message(err)))
			continue
		}
		cfg.Rules[i].Scope = sc
	}
	if len(problems) > 0 {
		return nil, errs.E(errs.Invalid, "OpenID Connect: %s", strings.Join(problems, "; "))
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email", "groups"}
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OIDC{cfg: cfg, store: store, key: NewCSRFSecret()}, nil
}

// Name is the provider as people know it.
func (o *OIDC) Name() string { return o.cfg.Name }

// discover fetches the provider's configuration once it answers.
func (o *OIDC) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
		if err != nil {
			return nil, nil, errs.Wrap(errs.Unavailable, err, "%s cannot be reached just now; try again in a while, or sign in with a password", o.cfg.Name)
		}
		o.provider = p
		// The key set keeps the client of the context it is made with.
		o.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), o.cfg.HTTPClient),
			&oidc.Config{ClientID: o.cfg.ClientID, Now: o.cfg.Now})
		o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: o.cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...)}
	}
	return o.oauth, o.verifier, nil
}

// userInfoURL is the provider's userinfo endpoint, if it has one.
func (o *OIDC) userInfoURL() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		return ""
	}
	return o.provider.UserInfoEndpoint()
}

// PendingOIDC is a sign-in between the redirect to the provider and its
// answer. The browser keeps it sealed in a cookie.
type PendingOIDC struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"` // the PKCE code verifier
	Next     string    `json:"x"` // where to go after signing in
	Expires  time.Time `json:"e"`
}

// pendingFor is how long a person may take at the provider.
const pendingFor = 10 * time.Minute

// Begin starts a sign-in: it returns the provider's authorization URL and
// the sealed pending sign-in for the browser's cookie.
func (o *OIDC) Begin(ctx context.Context, next string) (authURL, sealed string, err error) {
	cfg, _, err := o.discover(ctx)
	if err != nil {
		return "", "", err
	}
	p := PendingOIDC{State: randomToken(24), Nonce: randomToken(24), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: o.cfg.Now().Add(pendingFor).UTC()}
	authURL = cfg.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	return authURL, o.seal(p), nil
}

func (o *OIDC) seal(p PendingOIDC) string {
	b, _ := json.Marshal(p)
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(o.mac(body))
}

func (o *OIDC) mac(body string) []byte {
	m := hmac.New(sha256.New, o.key)
	m.Write([]byte("collate oidc v1\x00" + body))
	return m.Sum(nil)
}

// Pending opens a sealed pending sign-in, refusing one that was altered,
// made by another server process, or is too old.
func (o *OIDC) Pending(sealed string) (PendingOIDC, error) {
	var p PendingOIDC
	body, sig, ok := strings.Cut(sealed, ".")
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(raw, o.mac(body)) {
		return p, errOIDCExpired
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(b, &p) != nil || !o.cfg.Now().Before(p.Expires) {
		return p, errOIDCExpired
	}
	return p, nil
}

var errOIDCExpired = errs.E(errs.Unauthenticated, "the sign-in took too long or did not start here; start again from the sign-in page")

// Identity is who the provider says signed in.
type Identity struct {
	Issuer   string
	Subject  string
	Username string
	Email    string
	Roles    []string
}

// Finish completes a sign-in when the provider sends the browser back with
// code and state: it checks state against the pending sign-in, exchanges the
// code (with the PKCE verifier), verifies the ID token's signature, issuer,
// audience, expiry and nonce, maps the roles claim to a scope, creates or
// updates the local account, and starts a session. Every outcome is audited.
// remote is the client address.
func (o *OIDC) Finish(ctx context.Context, p PendingOIDC, code, state, remote string) (NewSession, error) {
	ctx = WithRemoteAddr(ctx, remote)
	id, err := o.identify(ctx, p, code, state)
	if err != nil {
		reason := errs.Message(err)
		o.store.log.Warn("oidc sign-in refused", "provider", o.cfg.Name, "error", err)
		if aerr := o.store.Audit(ctx, Entry{Actor: truncate(id.Username, 64), ActorKind: KindAnonymous, Action: ActionLogin,
			Target: truncate(id.Username, 64), Outcome: OutcomeDenied,
			Detail: map[string]any{"method": "oidc", "issuer": o.cfg.Issuer, "subject": id.Subject, "reason": reason}}); aerr != nil {
			return NewSession{}, aerr
		}
		return NewSession{}, err
	}
	return o.store.signInOIDC(ctx, o.cfg, id, remote)
}

// identify runs the protocol steps of Finish. The identity it returns on an
// error holds what was learnt, for the audit log.
func (o *OIDC) identify(ctx context.Context, p PendingOIDC, code, state string) (Identity, error) {
	var id Identity
	fail := func(format string, args ...any) (Identity, error) {
		return id, errs.E(errs.Unauthenticated, "sign-in through %s failed: %s; start again from the sign-in page", o.cfg.Name, fmt.Sprintf(format, args...))
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(p.State)) != 1 {
		return fail("the answer did not match this browser's sign-in (state)")
	}
	if code == "" {
		return fail("the provider sent no authorization code")
	}
	cfg, verifier, err := o.discover(ctx)
	if err != nil {
		return id, err
	}
	tok, err := cfg.Exchange(oidc.ClientContext(ctx, o.cfg.HTTPClient), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		o.store.log.Warn("oidc code exchange", "error", err)
		return fail("the provider did not accept the authorization code")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("the provider sent no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return fail("the ID token has expired")
		}
		o.store.log.Warn("oidc id token", "error", err)
		return fail("the ID token could not be verified (%s)", verifyReason(err))
	}
	id.Issuer, id.Subject = idt.Issuer, idt.Subject
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		return fail("the ID token was not issued for this sign-in (nonce)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fail("the ID token's claims could not be read")
	}
	// Some providers keep groups (or even the user name) out of the ID
	// token and give them at the userinfo endpoint instead.
	if (claimAt(claims, o.cfg.RolesClaim) == nil || claimAt(claims, o.cfg.UsernameClaim) == nil) && o.userInfoURL() != "" {
		info, err := o.provider.UserInfo(oidc.ClientContext(ctx, o.cfg.HTTPClient), oauth2.StaticTokenSource(tok))
		if err != nil {
			o.store.log.Warn("oidc userinfo", "error", err)
			return fail("the provider's userinfo endpoint did not answer")
		}
		// The answer must be about the same person (OpenID Connect Core 5.3.2).
		if info.Subject != idt.Subject {
			return fail("the provider's userinfo is about someone else")
		}
		var more map[string]any
		if err := info.Claims(&more); err != nil {
			return fail("the provider's userinfo could not be read")
		}
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	name, _ := claimAt(claims, o.cfg.UsernameClaim).(string)
	id.Email, _ = claims["email"].(string)
	id.Roles = claimStrings(claimAt(claims, o.cfg.RolesClaim))
	if name == "" {
		return fail("the ID token has no %s claim to name the account", o.cfg.UsernameClaim)
	}
	id.Username = name
	return id, nil
}

// verifyReason names what an ID token got wrong, without the token.
func verifyReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "audience"):
		return "issued for another application"
	case strings.Contains(msg, "issued by a different provider"):
		return "issued by another provider"
	case strings.Contains(msg, "signature"):
		return "bad signature"
	}
	return "malformed"
}

// claimAt follows a dotted path into the claims.
func claimAt(claims map[string]any, path string) any {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimStrings reads a claim holding a string or a list of strings.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mapRoles returns the scope of the first rule whose value id holds.
func (c OIDCConfig) mapRoles(roles []string) (Scope, bool) {
	for _, r := range c.Rules {
		for _, have := range roles {
			if have == r.Value {
				return r.Scope, true
			}
		}
	}
	return Scope{}, false
}

// signInOIDC maps id to a scope, creates or updates the account and starts
// a session. An account that has a password is never taken over by single
// sign-on, and a disabled one stays out.
func (s *Store) signInOIDC(ctx context.Context, cfg OIDCConfig, id Identity, remote string) (NewSession, error) {
	detail := map[string]any{"method": "oidc", "issuer": cfg.Issuer, "subject": id.Subject}
	refuse := func(reason string, err error) (NewSession, error) {
		detail["reason"] = reason
		if aerr := s.Audit(ctx, Entry{Actor: truncate(id.Username, 64), ActorKind: KindAnonymous, Action: ActionLogin,
			Target: truncate(id.Username, 64), Outcome: OutcomeDenied, Detail: detail}); aerr != nil {
			return NewSession{}, aerr
		}
		return NewSession{}, err
	}
	name, err := normalizeUsername(id.Username)
	if err != nil {
		return refuse("bad_username", errs.E(errs.Forbidden, "%s gave the user name %q, which Collate cannot use (%s); ask your Collate administrator",
			cfg.Name, truncate(id.Username, 64), errs.Message(err)))
	}
	scope, ok := cfg.mapRoles(id.Roles)
	if !ok {
		detail["roles"] = id.Roles
		return refuse("no_role", errs.E(errs.Forbidden, "your %s account (%s) has no role in Collate: none of its groups is mapped to one. Ask your Collate administrator to give your group a role",
			cfg.Name, name))
	}
	detail["scope"] = scope.String()
	s.mu.Lock()
	// The account is the one tied to this identity (issuer and subject),
	// whatever user name the provider gives now; a name tied to another
	// identity is never handed over, since providers may reuse names.
	var linked sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT u.username FROM oidc_identities i JOIN users u ON u.id = i.user_id
		WHERE i.issuer = ? AND i.subject = ?`, id.Issuer, id.Subject).Scan(&linked)
	switch {
	case err == nil:
		name = linked.String
	case errors.Is(err, sql.ErrNoRows):
		var bound int
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM oidc_identities i JOIN users u ON u.id = i.user_id
			WHERE u.username = ?`, name).Scan(&bound)
		if err == nil && bound > 0 {
			s.mu.Unlock()
			return refuse("name_taken", errs.E(errs.Forbidden, "the Collate account %s belongs to another %s identity, so it cannot be yours; ask your Collate administrator",
				name, cfg.Name))
		}
	default:
		s.mu.Unlock()
		return NewSession{}, fmt.Errorf("oidc sign-in %s: %w", name, err)
	}
	u, err := s.userByName(ctx, name)
	// change is the account change to audit: none, added, or a new scope.
	var change Action
	from := ""
	switch {
	case errs.KindOf(err) == errs.NotFound:
		now := s.clock()
		_, err = s.db.ExecContext(ctx, `INSERT INTO users (username, email, password_hash, role, scope_region, scope_board,
			unsuppressed_grant, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
			name, nullString(id.Email), string(scope.Role), nullString(scope.Region), nullString(scope.Board), scope.Unsuppressed, now, now)
		if err == nil {
			u, err = s.userByName(ctx, name)
			change = ActionUserAdd
		}
		if err == nil {
			_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_identities VALUES (?, ?, ?)`, u.ID, id.Issuer, id.Subject)
		}
	case err != nil:
	case u.HasPassword:
		s.mu.Unlock()
		return refuse("password_account", errs.E(errs.Forbidden, "the Collate account %s signs in with a password, so it cannot sign in through %s; ask your Collate administrator", name, cfg.Name))
	case u.Disabled:
		s.mu.Unlock()
		return refuse("disabled", errs.E(errs.Forbidden, "the Collate account %s is disabled; ask your Collate administrator", name))
	case !linked.Valid:
		// An account made by single sign-on before accounts were tied to
		// identities: tie it now, and bring its scope up to date.
		_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_identities VALUES (?, ?, ?)`, u.ID, id.Issuer, id.Subject)
		if err == nil {
			_, err = s.db.ExecContext(ctx, `UPDATE users SET role = ?, scope_region = ?, scope_board = ?, unsuppressed_grant = ?,
				email = coalesce(?, email), updated_at = ? WHERE id = ?`,
				string(scope.Role), nullString(scope.Region), nullString(scope.Board), scope.Unsuppressed,
				nullString(id.Email), s.clock(), u.ID)
		}
		if err == nil && u.Scope != scope {
			change = ActionPermission
		}
		from = u.Scope.String()
		if err == nil {
			u, err = s.userByName(ctx, name)
		}
	case u.Scope != scope || (id.Email != "" && id.Email != u.Email):
		_, err = s.db.ExecContext(ctx, `UPDATE users SET role = ?, scope_region = ?, scope_board = ?, unsuppressed_grant = ?,
			email = coalesce(?, email), updated_at = ? WHERE id = ?`,
			string(scope.Role), nullString(scope.Region), nullString(scope.Board), scope.Unsuppressed, nullString(id.Email), s.clock(), u.ID)
		if err == nil && u.Scope != scope {
			change = ActionPermission
		}
		from = u.Scope.String()
		if err == nil {
			u, err = s.userByName(ctx, name)
		}
	}
	s.tokens.forget() // the account's scope may have changed
	s.mu.Unlock()
	if err != nil {
		return NewSession{}, fmt.Errorf("oidc sign-in %s: %w", name, err)
	}
	as := WithPrincipal(ctx, u.Principal())
	if change != "" {
		e := Entry{Action: change, Target: name,
			Detail: map[string]any{"via": "oidc", "issuer": cfg.Issuer, "subject": id.Subject, "scope": scope.String()}}
		if change == ActionPermission {
			e.Detail["from"], e.Detail["to"] = from, scope.String()
		}
		if err := s.Audit(as, e); err != nil {
			return NewSession{}, err
		}
	}
	ns, err := s.createSession(ctx, u, remote)
	if err != nil {
		return NewSession{}, err
	}
	if err := s.Audit(as, Entry{Action: ActionLogin, Target: name, Detail: detail}); err != nil {
		return NewSession{}, err
	}
	return ns, nil
}
