package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// AccessOptions configures accounts on the server (issue 5). Zero fields take
// the defaults.
type AccessOptions struct {
	// Store holds accounts, sessions, API tokens and the audit log.
	Store *auth.Store
	// Research runs research SQL; nil switches it off.
	Research *research.Sandbox
	// OIDC, when set, offers sign-in through an OpenID Connect provider
	// beside the password form.
	OIDC *auth.OIDC
	// Public lets visitors who have not signed in see suppressed aggregate
	// pages. Off by default: then everything but sign-in needs an account.
	Public bool
	// SecureCookies marks cookies Secure even on plain HTTP, for a server
	// behind a proxy that terminates TLS. Requests over TLS always get them.
	SecureCookies bool
	Logger        *slog.Logger
	// LoginLimiter limits sign-in attempts per client address (default one
	// every 6 s, bursts of 10); AddressLimiter every request per address
	// (default 20 a second, bursts of 200); AccountLimiter every request per
	// account or token (default 10 a second, bursts of 100).
	LoginLimiter, AddressLimiter, AccountLimiter *auth.Limiter
	// MaxBodyBytes caps request bodies other than uploads (default 64 KiB);
	// MaxUploadBytes caps upload request bodies (default 50 files of
	// ingest.DefaultMaxBytes, plus 1 MiB).
	MaxBodyBytes, MaxUploadBytes int64
}

// Access puts accounts in front of the dashboard. Wire it in three places:
// Options.Authenticate = a.Authenticate, a.Mount(server) after New, and
// a.Wrap(server.Handler()) as the HTTP handler.
type Access struct {
	o       AccessOptions
	log     *slog.Logger
	xorigin *http.CrossOriginProtection
}

// NewAccess checks opts and fills in the defaults.
func NewAccess(o AccessOptions) (*Access, error) {
	if o.Store == nil {
		return nil, errors.New("dashboard: AccessOptions.Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LoginLimiter == nil {
		o.LoginLimiter = auth.NewLimiter(auth.LimiterOptions{Every: 6 * time.Second, Burst: 10})
	}
	if o.AddressLimiter == nil {
		o.AddressLimiter = auth.NewLimiter(auth.LimiterOptions{Every: 50 * time.Millisecond, Burst: 200})
	}
	if o.AccountLimiter == nil {
		o.AccountLimiter = auth.NewLimiter(auth.LimiterOptions{Every: 100 * time.Millisecond, Burst: 100})
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 50*ingest.DefaultMaxBytes + 1<<20
	}
	return &Access{o: o, log: o.Logger, xorigin: http.NewCrossOriginProtection()}, nil
}

// Cookie names. The __Host- prefix, used over TLS, makes browsers refuse the
// cookie unless it is Secure, host-only and for the whole site.
const (
	sessionCookie       = "collate_session"
	secureSessionCookie = "__Host-collate_session"
	loginCookie         = "collate_login" // the sign-in form's CSRF secret
	oidcCookie          = "collate_oidc"  // a sign-in waiting for the OpenID provider's answer
	csrfHeader          = "X-CSRF-Token"
	csrfField           = "csrf_token"
)

type accessKey struct{}

// accessState is what Wrap learnt about a request, for the handlers after it.
type accessState struct {
	access  *Access
	session *auth.Session // nil unless signed in through a browser session
	err     error         // a refusal for Authenticate to return, rendered by the dashboard
}

func stateFrom(ctx context.Context) *accessState {
	st, _ := ctx.Value(accessKey{}).(*accessState)
	return st
}

// Authenticate is the dashboard's Options.Authenticate: it maps the
// principal Wrap found to the analytics viewer. Without Wrap in front it
// refuses every request, so a half-wired server fails closed.
func (a *Access) Authenticate(r *http.Request) (analytics.Viewer, error) {
	st := stateFrom(r.Context())
	if st == nil || st.access != a {
		return analytics.Viewer{}, errs.E(errs.Internal, "access control is not wired: wrap the handler with Access.Wrap")
	}
	if st.err != nil {
		return analytics.Viewer{}, st.err
	}
	p, _ := auth.PrincipalFrom(r.Context())
	return p.Viewer(), nil
}

// openPaths are served to visitors who have not signed in even when public
// access is off: sign-in itself, assets and the health check.
func openPath(p string) bool {
	return p == "/login" || p == oidcStartPath || p == auth.OIDCCallbackPath || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") || p == "/api/v1/openapi.json"
}

func apiPath(p string) bool { return strings.HasPrefix(p, "/api/") }

func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/upload" || r.URL.Path == "/api/v1/reviews")
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// clientAddr is the address the request came from. Collate trusts no proxy
// headers: behind a proxy every client shares the proxy's limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Wrap is the outermost handler: per-address and per-account rate limits,
// body limits, who is asking (API token, session cookie or nobody), CSRF and
// cross-origin checks on every state-changing request, sign-in redirects,
// and an audit entry for every download.
func (a *Access) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if ok, wait := a.o.AddressLimiter.Reserve("addr:" + addr); !ok {
			tooMany(w, r, wait)
			return
		}
		limit := a.o.MaxBodyBytes
		if isUpload(r) {
			limit = a.o.MaxUploadBytes
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		ctx := auth.WithRemoteAddr(r.Context(), addr)
		st := &accessState{access: a}
		p, sess, err := a.identify(ctx, w, r)
		switch {
		case err != nil && errs.KindOf(err) == errs.Unauthenticated:
			st.err = err // a bad API token: 401, never a silent downgrade to anonymous
		case err != nil:
			a.log.Error("identify request", "error", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		st.session = sess
		if p.Kind != auth.KindAnonymous {
			if ok, wait := a.o.AccountLimiter.Reserve("account:" + strconv.FormatInt(p.UserID, 10)); !ok {
				tooMany(w, r, wait)
				return
			}
		}
		if st.err == nil && unsafeMethod(r.Method) {
			st.err = a.checkUnsafe(r, p, sess)
		}
		if st.err == nil && p.Kind == auth.KindAnonymous && !a.o.Public && !openPath(r.URL.Path) {
			if !apiPath(r.URL.Path) && r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			st.err = errs.E(errs.Unauthenticated, "sign in first: this server shows nothing to visitors who have not signed in")
		}
		if st.err == nil {
			st.err = routeRule(r, p)
		}
		ctx = auth.WithPrincipal(ctx, p)
		ctx = context.WithValue(ctx, accessKey{}, st)
		next.ServeHTTP(&downloadAuditor{ResponseWriter: w, r: r.WithContext(ctx), a: a}, r.WithContext(ctx))
	})
}

// identify finds the principal: an API token in the Authorization header
// first, then a session cookie; otherwise nobody. A session that has ended
// clears its cookie.
func (a *Access) identify(ctx context.Context, w http.ResponseWriter, r *http.Request) (auth.Principal, *auth.Session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return auth.Anonymous(), nil, errs.E(errs.Unauthenticated, "use an Authorization header of the form: Bearer collate_…")
		}
		p, err := a.o.Store.VerifyToken(ctx, strings.TrimSpace(token))
		if err != nil {
			return auth.Anonymous(), nil, err
		}
		return p, nil, nil
	}
	for _, name := range []string{secureSessionCookie, sessionCookie} {
		c, err := r.Cookie(name)
		if err != nil {
			continue
		}
		sess, p, err := a.o.Store.Session(ctx, c.Value)
		if errs.KindOf(err) == errs.Unauthenticated {
			a.clearCookie(w, r, name)
			continue
		}
		if err != nil {
			return auth.Anonymous(), nil, err
		}
		return p, &sess, nil
	}
	return auth.Anonymous(), nil, nil
}

// checkUnsafe guards a state-changing request: browsers must not send it
// from another origin, and a session's request must carry its CSRF token,
// in the X-CSRF-Token header or the csrf_token form field. API tokens travel
// in a header no other site can set, so they need no CSRF token. Sign-in has
// its own check (handleLoginPost).
func (a *Access) checkUnsafe(r *http.Request, p auth.Principal, sess *auth.Session) error {
	if err := a.xorigin.Check(r); err != nil {
		return errs.Wrap(errs.Forbidden, err, "this request came from another site and was refused")
	}
	if sess == nil {
		return nil
	}
	token := r.Header.Get(csrfHeader)
	if token == "" {
		token = formValue(r, csrfField)
	}
	if !sess.VerifyCSRF(token) {
		return errs.E(errs.Forbidden, "the form has expired or did not come from this site; reload the page and try again")
	}
	return nil
}

// formValue reads one field of a url-encoded or multipart body. Parsing
// caches the form on the request, so handlers read the same form after it.
func formValue(r *http.Request, key string) string {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return ""
		}
	} else if err := r.ParseForm(); err != nil {
		return ""
	}
	return r.PostFormValue(key)
}

// routeRule refuses what a role may never do, before any handler runs.
// Data scope is analytics' business; these are whole features.
func routeRule(r *http.Request, p auth.Principal) error {
	path := r.URL.Path
	switch {
	case path == "/upload" || (path == "/api/v1/reviews" && r.Method == http.MethodPost):
		if p.Role != auth.RoleAdmin && p.Role != auth.RoleBoardMember {
			return errs.E(errs.Forbidden, "uploading is for board members and admins")
		}
	case strings.HasPrefix(path, "/admin/"):
		if !p.IsAdmin() || p.Kind == auth.KindToken {
			return errs.E(errs.Forbidden, "the audit log is for admins")
		}
	case path == "/research" || path == "/api/v1/research":
		if !p.CanResearchQuery() {
			return errs.E(errs.Forbidden, "research queries are for national researchers")
		}
	case strings.HasPrefix(path, "/account"):
		if p.Kind != auth.KindUser && r.Method != http.MethodGet {
			return errs.E(errs.Forbidden, "manage API tokens from a signed-in browser session")
		}
	}
	return nil
}

func tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait.Seconds() + 0.999)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	if apiPath(r.URL.Path) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"kind":"rate_limited","message":"too many requests; wait a moment and try again"}}` + "\n"))
		return
	}
	http.Error(w, "Too many requests: wait a moment and try again.", http.StatusTooManyRequests)
}

func secureRequest(r *http.Request, force bool) bool { return force || r.TLS != nil }

// setSession sets the session cookie: HttpOnly, SameSite=Lax, and Secure
// (with the __Host- prefix) under TLS. It has no expiry of its own: the
// store ends the session.
func (a *Access) setSession(w http.ResponseWriter, r *http.Request, id string) {
	name := sessionCookie
	secure := secureRequest(r, a.o.SecureCookies)
	if secure {
		name = secureSessionCookie
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (a *Access) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	path := "/"
	switch name {
	case loginCookie:
		path = "/login"
	case oidcCookie:
		path = oidcStartPath
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true,
		Secure: secureRequest(r, a.o.SecureCookies) || strings.HasPrefix(name, "__Host-"), SameSite: http.SameSiteLaxMode})
}

// downloadAuditor records a download when a handler answers with an
// attachment. If the entry cannot be written the download is refused.
type downloadAuditor struct {
	http.ResponseWriter
	r       *http.Request
	a       *Access
	decided bool
	refused bool
}

func (d *downloadAuditor) Unwrap() http.ResponseWriter { return d.ResponseWriter }

func (d *downloadAuditor) WriteHeader(status int) {
	if d.decided {
		d.ResponseWriter.WriteHeader(status)
		return
	}
	d.decided = true
	cd := d.Header().Get("Content-Disposition")
	if status < 300 && strings.HasPrefix(strings.ToLower(cd), "attachment") && !strings.HasPrefix(d.r.URL.Path, "/admin/audit") {
		err := d.a.o.Store.Audit(d.r.Context(), auth.Entry{Action: auth.ActionDownload, Target: d.r.URL.RequestURI(),
			Detail: map[string]any{"content_disposition": cd, "content_type": d.Header().Get("Content-Type")}})
		if err != nil {
			d.a.log.Error("audit download", "error", err)
			d.refused = true
			d.Header().Del("Content-Disposition")
			d.Header().Set("Content-Type", "text/plain; charset=utf-8")
			d.ResponseWriter.WriteHeader(http.StatusInternalServerError)
			_, _ = d.ResponseWriter.Write([]byte("internal server error\n"))
			return
		}
	}
	d.ResponseWriter.WriteHeader(status)
}

func (d *downloadAuditor) Write(b []byte) (int, error) {
	if !d.decided {
		d.WriteHeader(http.StatusOK)
	}
	if d.refused {
		return len(b), nil
	}
	return d.ResponseWriter.Write(b)
}

// Flush lets streamed responses (large CSV downloads) flush.
func (d *downloadAuditor) Flush() {
	if f, ok := d.ResponseWriter.(http.Flusher); ok && !d.refused {
		f.Flush()
	}
}

// csrfTokenFrom returns a CSRF token for the request's session, or "" when
// there is none. Base (viewmodel.go) puts it in every page.
func csrfTokenFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil && st.session != nil {
		return st.session.CSRFToken()
	}
	return ""
}

// uploadAllowed refuses an export of a board the principal may not upload
// for. Without Access in front (a local server without accounts) it allows.
func uploadAllowed(ctx context.Context, e *ingest.Export) error {
	if stateFrom(ctx) == nil {
		return nil
	}
	p, _ := auth.PrincipalFrom(ctx)
	if !p.CanUpload(e.Review.Board) {
		return errs.E(errs.Forbidden, "you may upload reviews of board %s only; %s is review %s's board", p.Board, e.Review.Board, e.Review.ID)
	}
	return nil
}

// auditUploads records what an upload stored.
func auditUploads(ctx context.Context, receipts []ingest.Receipt) error {
	st := stateFrom(ctx)
	if st == nil {
		return nil
	}
	return st.access.o.Store.AuditReceipts(ctx, receipts)
}
