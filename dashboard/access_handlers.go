package dashboard

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest/errs"
)

// Mount adds the pages of access control to s: sign-in and sign-out, the
// account page with API tokens, the admins' audit log, and research SQL.
// Call it once, right after New.
func (a *Access) Mount(s *Server) {
	r := s.engine
	r.GET("/login", s.handle(a.handleLoginPage(s)))
	r.POST("/login", s.handle(a.handleLoginPost(s)))
	r.POST("/logout", s.handle(a.handleLogout))
	if a.o.OIDC != nil {
		r.GET(oidcStartPath, s.handle(a.handleOIDCStart))
		r.GET(auth.OIDCCallbackPath, s.handle(a.handleOIDCCallback(s)))
	}
	r.GET("/account", s.handle(a.handleAccount(s)))
	r.POST("/account/tokens", s.handle(a.handleTokenCreate(s)))
	r.POST("/account/tokens/:id/revoke", s.handle(a.handleTokenRevoke))
	r.GET("/admin/audit", s.handle(a.handleAudit(s)))
	r.GET("/admin/audit.csv", s.handle(a.handleAuditExport("csv")))
	r.GET("/admin/audit.json", s.handle(a.handleAuditExport("json")))
	if a.o.Research != nil {
		r.GET("/research", s.handle(a.handleResearchPage(s)))
		r.POST("/research", s.handle(a.handleResearchPage(s)))
		r.POST("/api/v1/research", s.handle(a.handleResearchAPI))
	}
}

func principal(c *gin.Context) auth.Principal {
	p, _ := auth.PrincipalFrom(c.Request.Context())
	return p
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}

// loginPage is the view-model of the sign-in page.
type loginPage struct {
	Base
	FormToken string
	Next      string
	Username  string
	Error     string
	Public    bool
	// OIDCName names the OpenID Connect provider of the "Sign in with"
	// button; empty when there is none.
	OIDCName string
}

func (a *Access) loginView(s *Server, c *gin.Context) (loginPage, error) {
	vm := loginPage{Base: s.base(c, "Sign in"), Next: safeNext(c.Query("next")), Public: a.o.Public}
	if a.o.OIDC != nil {
		vm.OIDCName = a.o.OIDC.Name()
	}
	vm.Picker.ShowPicker = false
	// The form's CSRF secret lives in its own short-lived cookie, as there is
	// no session yet; SameSite=Strict keeps other sites from sending it.
	secret := auth.NewCSRFSecret()
	if ck, err := c.Request.Cookie(loginCookie); err == nil {
		if b, err := hexDecode(ck.Value); err == nil && len(b) == 32 {
			secret = b
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCookie, Value: hexEncode(secret), Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: secureRequest(c.Request, a.o.SecureCookies), SameSite: http.SameSiteStrictMode})
	vm.FormToken = auth.CSRFToken(secret)
	return vm, nil
}

func (a *Access) handleLoginPage(s *Server) handler {
	return func(c *gin.Context) error {
		if p := principal(c); p.Kind == auth.KindUser {
			c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
			return nil
		}
		vm, err := a.loginView(s, c)
		if err != nil {
			return err
		}
		return s.render(c, "login", &vm)
	}
}

func (a *Access) handleLoginPost(s *Server) handler {
	return func(c *gin.Context) error {
		addr := clientAddr(c.Request)
		if ok, wait := a.o.LoginLimiter.Reserve("login:" + addr); !ok {
			tooMany(c.Writer, c.Request, wait)
			c.Abort()
			return nil
		}
		ck, err := c.Request.Cookie(loginCookie)
		var secret []byte
		if err == nil {
			secret, _ = hexDecode(ck.Value)
		}
		if !auth.VerifyCSRF(secret, c.PostForm(csrfField)) {
			return errs.E(errs.Forbidden, "the sign-in form has expired or did not come from this site; reload the page and try again")
		}
		username := c.PostForm("username")
		ns, err := a.o.Store.Login(c.Request.Context(), username, c.PostForm("password"), addr)
		if err != nil {
			if errs.KindOf(err) != errs.Unauthenticated {
				return err
			}
			vm, verr := a.loginView(s, c)
			if verr != nil {
				return verr
			}
			vm.Next, vm.Username, vm.Error = safeNext(c.PostForm("next")), truncateRunes(username, 64), errs.Message(err)
			vm.Title = "There is a problem: sign in"
			return s.renderWith(c, http.StatusUnauthorized, "login", &vm)
		}
		a.clearCookie(c.Writer, c.Request, loginCookie)
		a.setSession(c.Writer, c.Request, ns.ID)
		c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
		return nil
	}
}

// oidcStartPath starts a sign-in through the OpenID Connect provider.
const oidcStartPath = "/login/oidc"

// handleOIDCStart sends the browser to the provider, keeping the sign-in's
// state, nonce and PKCE verifier sealed in a short-lived cookie. The cookie
// is SameSite=Lax: the provider's answer is a cross-site navigation, which a
// Strict cookie would miss.
func (a *Access) handleOIDCStart(c *gin.Context) error {
	if ok, wait := a.o.LoginLimiter.Reserve("login:" + clientAddr(c.Request)); !ok {
		tooMany(c.Writer, c.Request, wait)
		c.Abort()
		return nil
	}
	authURL, sealed, err := a.o.OIDC.Begin(c.Request.Context(), safeNext(c.Query("next")))
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: sealed, Path: oidcStartPath, MaxAge: 600,
		HttpOnly: true, Secure: secureRequest(c.Request, a.o.SecureCookies), SameSite: http.SameSiteLaxMode})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, authURL)
	return nil
}

// handleOIDCCallback finishes a sign-in when the provider sends the browser
// back. A refusal (no role for the user's groups, a token that fails a
// check) is shown on the sign-in page, with the password form beside it.
func (a *Access) handleOIDCCallback(s *Server) handler {
	return func(c *gin.Context) error {
		ctx := c.Request.Context()
		var sealed string
		if ck, err := c.Request.Cookie(oidcCookie); err == nil {
			sealed = ck.Value
		}
		a.clearCookie(c.Writer, c.Request, oidcCookie)
		c.Header("Cache-Control", "no-store")
		var ns auth.NewSession
		p, err := a.o.OIDC.Pending(sealed)
		switch {
		case err != nil:
		case c.Query("error") != "":
			err = errs.E(errs.Unauthenticated, "%s did not sign you in (%s); start again, or ask your Collate administrator",
				a.o.OIDC.Name(), truncateRunes(c.Query("error"), 64))
		default:
			ns, err = a.o.OIDC.Finish(ctx, p, c.Query("code"), c.Query("state"), clientAddr(c.Request))
		}
		if err != nil {
			kind := errs.KindOf(err)
			if kind != errs.Unauthenticated && kind != errs.Forbidden && kind != errs.Unavailable {
				return err
			}
			vm, verr := a.loginView(s, c)
			if verr != nil {
				return verr
			}
			vm.Next, vm.Error, vm.Title = p.Next, errs.Message(err), "There is a problem: sign in"
			if vm.Next == "" {
				vm.Next = "/"
			}
			status := http.StatusUnauthorized
			switch kind {
			case errs.Forbidden:
				status = http.StatusForbidden
			case errs.Unavailable:
				status = http.StatusServiceUnavailable
			}
			return s.renderWith(c, status, "login", &vm)
		}
		a.setSession(c.Writer, c.Request, ns.ID)
		c.Redirect(http.StatusSeeOther, safeNext(p.Next))
		return nil
	}
}

func (a *Access) handleLogout(c *gin.Context) error {
	for _, name := range []string{secureSessionCookie, sessionCookie} {
		if ck, err := c.Request.Cookie(name); err == nil {
			if err := a.o.Store.Logout(c.Request.Context(), ck.Value); err != nil {
				return err
			}
			a.clearCookie(c.Writer, c.Request, name)
		}
	}
	c.Redirect(http.StatusSeeOther, "/login")
	return nil
}

// accountPage is the view-model of the account page.
type accountPage struct {
	Base
	Principal auth.Principal
	Tokens    []auth.Token
	NewToken  string // shown once, right after creation
	NewInfo   *auth.Token
	Now       time.Time
}

func (a *Access) accountView(s *Server, c *gin.Context) (accountPage, error) {
	p := principal(c)
	vm := accountPage{Base: s.base(c, "Your account"), Principal: p, Now: time.Now()}
	vm.Picker.ShowPicker = false
	vm.CSRFToken = csrfTokenFrom(c.Request.Context())
	if p.Kind == auth.KindUser {
		ts, err := a.o.Store.Tokens(c.Request.Context(), p.Username)
		if err != nil {
			return vm, err
		}
		vm.Tokens = ts
	}
	return vm, nil
}

func (a *Access) handleAccount(s *Server) handler {
	return func(c *gin.Context) error {
		if principal(c).Kind == auth.KindAnonymous {
			c.Redirect(http.StatusSeeOther, "/login?next=/account")
			return nil
		}
		vm, err := a.accountView(s, c)
		if err != nil {
			return err
		}
		return s.render(c, "account", &vm)
	}
}

func (a *Access) handleTokenCreate(s *Server) handler {
	return func(c *gin.Context) error {
		p := principal(c)
		days, err := strconv.Atoi(strings.TrimSpace(c.DefaultPostForm("days", "90")))
		if err != nil || days < 1 || days > 366 {
			return errs.E(errs.Invalid, "a token lasts from 1 to 366 days")
		}
		req := auth.TokenRequest{Username: p.Username, Name: c.PostForm("name"), TTL: time.Duration(days) * 24 * time.Hour}
		if c.PostForm("suppressed_only") != "" && p.Unsuppressed {
			scope := p.Scope
			scope.Unsuppressed = false
			req.Scope = &scope
		}
		tok, info, err := a.o.Store.CreateToken(c.Request.Context(), req)
		if err != nil {
			return err
		}
		vm, err := a.accountView(s, c)
		if err != nil {
			return err
		}
		vm.NewToken, vm.NewInfo = tok, &info
		return s.renderWith(c, http.StatusCreated, "account", &vm)
	}
}

func (a *Access) handleTokenRevoke(c *gin.Context) error {
	if err := a.o.Store.RevokeToken(c.Request.Context(), c.Param("id")); err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/account")
	return nil
}

// auditPage is the view-model of the audit log page.
type auditPage struct {
	Base
	Entries     []auth.Entry
	Since       string
	Action      string
	Actor       string
	Outcome     string
	Limit       int
	ExportQuery string
}

// auditFilter reads the audit filters from the query string.
func auditFilter(c *gin.Context) (auth.AuditFilter, error) {
	f := auth.AuditFilter{Action: auth.Action(c.Query("action")), Actor: c.Query("actor"), Target: c.Query("target"),
		Outcome: auth.Outcome(c.Query("outcome")), Limit: 200}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return f, errs.E(errs.Invalid, "since %q: use a date such as 2026-01-31", v)
		}
		f.Since = t
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return f, errs.E(errs.Invalid, "limit must be a number from 1 to 100000")
		}
		f.Limit = n
	}
	return f, nil
}

func (a *Access) handleAudit(s *Server) handler {
	return func(c *gin.Context) error {
		f, err := auditFilter(c)
		if err != nil {
			return err
		}
		es, err := a.o.Store.AuditLog(c.Request.Context(), f)
		if err != nil {
			return err
		}
		vm := auditPage{Base: s.base(c, "Audit log"), Entries: es, Since: c.Query("since"), Action: c.Query("action"),
			Actor: c.Query("actor"), Outcome: c.Query("outcome"), Limit: f.Limit, ExportQuery: c.Request.URL.RawQuery}
		vm.Picker.ShowPicker = false
		vm.CSRFToken = csrfTokenFrom(c.Request.Context())
		return s.render(c, "audit", &vm)
	}
}

func (a *Access) handleAuditExport(format string) handler {
	return func(c *gin.Context) error {
		f, err := auditFilter(c)
		if err != nil {
			return err
		}
		if c.Query("limit") == "" {
			f.Limit = 100000
		}
		ctx := c.Request.Context()
		es, err := a.o.Store.AuditLog(ctx, f)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		ctype := "text/csv; charset=utf-8"
		if format == "json" {
			ctype = "application/json"
			err = auth.WriteAuditJSON(&buf, es)
		} else {
			err = auth.WriteAuditCSV(&buf, es)
		}
		if err != nil {
			return err
		}
		if err := a.o.Store.Audit(ctx, auth.Entry{Action: auth.ActionAuditExport, Target: format,
			Detail: map[string]any{"entries": len(es), "query": c.Request.URL.RawQuery}}); err != nil {
			return err
		}
		c.Header("Content-Disposition", `attachment; filename="collate-audit.`+format+`"`)
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusOK, ctype, buf.Bytes())
		return nil
	}
}

// researchPage is the view-model of the research SQL page.
type researchPage struct {
	Base
	SQL    string
	Result *research.Result
	Error  string
	Tier   research.Tier
	Shown  int // rows shown on the page; the API returns them all
	Cells  [][]researchCell
}

// researchCell is one value as the page shows it.
type researchCell struct {
	Text string
	Null bool
}

func researchCells(res *research.Result, n int) [][]researchCell {
	out := make([][]researchCell, 0, n)
	for _, row := range res.Rows[:n] {
		cells := make([]researchCell, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case nil:
				cells[i].Null = true
			case string:
				cells[i].Text = x
			default:
				b, err := json.Marshal(x)
				if err != nil {
					cells[i].Text = fmt.Sprint(x)
				} else {
					cells[i].Text = string(b)
				}
			}
		}
		out = append(out, cells)
	}
	return out
}

// maxResearchRowsShown keeps the page light; downloads and the API have the rest.
const maxResearchRowsShown = 500

func (a *Access) handleResearchPage(s *Server) handler {
	return func(c *gin.Context) error {
		p := principal(c)
		tier, _ := research.TierFor(p)
		vm := researchPage{Base: s.base(c, "Research query"), Tier: tier}
		vm.Picker.ShowPicker = false
		vm.CSRFToken = csrfTokenFrom(c.Request.Context())
		status := http.StatusOK
		if c.Request.Method == http.MethodPost {
			vm.SQL = c.PostForm("sql")
			res, err := a.o.Research.Query(c.Request.Context(), p, vm.SQL)
			switch {
			case err == nil:
				vm.Result, vm.Shown = res, min(len(res.Rows), maxResearchRowsShown)
				vm.Cells = researchCells(res, vm.Shown)
			case errs.KindOf(err) == errs.Invalid || errs.KindOf(err) == errs.Unavailable:
				vm.Error, vm.Title = errs.Message(err), "There is a problem: research query"
				status = http.StatusUnprocessableEntity
				if errs.KindOf(err) == errs.Unavailable {
					status = http.StatusServiceUnavailable
				}
			default:
				return err
			}
		}
		return s.renderWith(c, status, "research", &vm)
	}
}

// ResearchRequest is the body of POST /api/v1/research.
type ResearchRequest struct {
	SQL string `json:"sql"`
}

func (a *Access) handleResearchAPI(c *gin.Context) error {
	var req ResearchRequest
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return errs.Wrap(errs.Invalid, err, "the request body is too large")
		}
		return errs.Wrap(errs.Invalid, err, `send {"sql": "SELECT …"} as JSON`)
	}
	if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
		return errs.Wrap(errs.Invalid, err, "the request body is too large")
	}
	res, err := a.o.Research.Query(c.Request.Context(), principal(c), req.SQL)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func hexEncode(b []byte) string { return hex.EncodeToString(b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
