package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest"
)

func serveCommand() command {
	return command{
		name:    "serve",
		usage:   "[--db PATH] [--addr 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE]",
		summary: "Run the dashboard and JSON API over the store.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (env COLLATE_ADDR)")
			fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (env COLLATE_TLS_CERT)")
			fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (env COLLATE_TLS_KEY)")
			fs.BoolVar(&c.Public, "public", c.Public, "let visitors who are not signed in see suppressed aggregate pages (env COLLATE_PUBLIC=true)")
			fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve Prometheus metrics at http://ADDR/metrics on a listener of its own, such as 127.0.0.1:9464; off when empty (env COLLATE_METRICS_ADDR)")
			fs.Float64Var(&c.WriterRest, "writer-rest", c.WriterRest, "after each upload transaction the writer rests this many times as long as it took, so a stream of uploads leaves readers most of the CPU and is stored in fewer, larger transactions; 0 writes without rest (env COLLATE_WRITER_REST)")
			fs.DurationVar(&c.StaleFor, "stale-for", c.StaleFor, "while every query slot is busy and as many computations wait, a figure an upload made out of date may be answered from before it for this long after the upload (each result names its data version; lists of reviews and episodes are always current); 0 never (env COLLATE_STALE_FOR)")
			fs.IntVar(&c.DBThreads, "db-threads", c.DBThreads, "DuckDB worker threads; 0 keeps DuckDB's default of one per core. 1 suits many small concurrent reads (each query then runs on one core, with less contention between them) at the cost of large queries using one core (env COLLATE_DB_THREADS)")
			fs.BoolVar(&c.DemoUsers, "demo-users", false, "create one demo account of each role with fresh passwords and print them (local demos only)")
			oidcFlags(fs, c)
		},
		run: runServe,
	}
}

// Ready, when set by a test, receives the address the server listens on.
type readyKey struct{}

// WithReady returns a context that makes serve report its listening address on ch.
func WithReady(ctx context.Context, ch chan<- string) context.Context {
	return context.WithValue(ctx, readyKey{}, ch)
}

func runServe(ctx context.Context, r *runner) error {
	db, err := r.openStore(ctx)
	if err != nil {
		return err
	}
	// Closing the database last folds the WAL into the file.
	defer db.Close()

	frames, err := ingest.LoadFrames(ctx, db)
	if err != nil {
		return err
	}
	validator, err := ingest.NewValidator(ingest.ValidatorOptions{Frames: frames})
	if err != nil {
		return err
	}
	if r.cfg.StaleFor < 0 {
		return usageError{"--stale-for: give a duration, 0 or more"}
	}
	if r.cfg.DBThreads < 0 {
		return usageError{"--db-threads: give a whole number, 0 or more"}
	}
	if r.cfg.DBThreads > 0 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", r.cfg.DBThreads)); err != nil {
			return fmt.Errorf("set DuckDB threads to %d: %w", r.cfg.DBThreads, err)
		}
	}
	if r.cfg.WriterRest < 0 {
		return usageError{"--writer-rest: give a number, 0 or more"}
	}
	writer := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: r.log, Rest: r.cfg.WriterRest})
	// Every write while serving goes through this process's upload writer,
	// which announces it (dashboard: dataChanged).
	store, err := analytics.New(analytics.Options{DB: db, Logger: r.log, WritesAnnounced: true})
	if err != nil {
		return err
	}
	accounts := auth.New(auth.Options{DB: db, Logger: r.log})
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the collate binary for research workers: %w", err)
	}
	sandbox, err := research.New(research.Options{Source: db, Audit: accounts, Logger: r.log,
		Worker: []string{exe, "research-worker"}, Published: research.PublishedTables(store)})
	if err != nil {
		return err
	}
	defer sandbox.Close()
	oidcSignIn, err := r.oidc(accounts)
	if err != nil {
		return err
	}
	access, err := dashboard.NewAccess(dashboard.AccessOptions{Store: accounts, Research: sandbox, OIDC: oidcSignIn,
		Public: r.cfg.Public, SecureCookies: r.cfg.TLSCert != "", Logger: r.log})
	if err != nil {
		return err
	}
	var metrics *dashboard.Metrics
	if r.cfg.MetricsAddr != "" {
		metrics = dashboard.NewMetrics(dashboard.MetricsOptions{DBPath: r.cfg.DB})
	}
	srv, err := dashboard.New(dashboard.Options{
		Analytics:    store,
		Writer:       writer,
		Validator:    validator,
		Logger:       r.log,
		Authenticate: access.Authenticate,
		Ready:        storeReady(db),
		Metrics:      metrics,
		StaleFor:     staleFor(r.cfg.StaleFor),
	})
	if err != nil {
		return err
	}
	access.Mount(srv)
	handler := access.Wrap(srv.Handler())
	if r.cfg.DemoUsers {
		creds, err := accounts.DemoUsers(cliContext(ctx))
		if err != nil {
			return err
		}
		if err := auth.PrintDemoUsers(r.stdout, creds); err != nil {
			return err
		}
	} else if users, err := accounts.Users(cliContext(ctx)); err == nil && len(users) == 0 {
		fmt.Fprintln(r.stdout, "No accounts yet: create the first admin with\n  collate users add --db "+r.cfg.DB+" --role admin --password-stdin NAME")
	}

	ln, err := net.Listen("tcp", r.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", r.cfg.Addr, err)
	}
	scheme := "http"
	if r.cfg.TLSCert != "" {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s/", scheme, ln.Addr().String())
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // uploads of many files
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() {
		if r.cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, r.cfg.TLSCert, r.cfg.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	if metrics != nil {
		stopMetrics, err := serveMetrics(r, r.cfg.MetricsAddr, metrics)
		if err != nil {
			_ = hs.Close()
			return err
		}
		defer stopMetrics()
	}
	r.log.Info("serving", "url", url, "db", r.cfg.DB)
	fmt.Fprintf(r.stdout, "Collate is serving %s on %s\n", r.cfg.DB, url)
	if ch, ok := ctx.Value(readyKey{}).(chan<- string); ok {
		ch <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Stop taking requests and let in-flight ones (uploads among them) finish;
	// the writer commits or rolls back each batch before its handler returns.
	r.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	r.log.Info("stopped")
	return nil
}

// oidcSettings are serve's OpenID Connect flags, each with its environment
// variable. The client secret has no flag of its own: it comes from a file
// or from COLLATE_OIDC_CLIENT_SECRET.
var oidcSettings = []struct{ flag, env, usage string }{
	{"oidc-issuer", "COLLATE_OIDC_ISSUER", "OpenID Connect issuer URL; sign-in through it is offered when set"},
	{"oidc-client-id", "COLLATE_OIDC_CLIENT_ID", "OpenID Connect client ID"},
	{"oidc-client-secret-file", "COLLATE_OIDC_CLIENT_SECRET_FILE", "file holding the client secret (or set COLLATE_OIDC_CLIENT_SECRET)"},
	{"oidc-redirect-url", "COLLATE_OIDC_REDIRECT_URL", "Collate's address + " + auth.OIDCCallbackPath + ", as registered with the provider"},
	{"oidc-name", "COLLATE_OIDC_NAME", "the provider's name on the \"Sign in with\" button"},
	{"oidc-role-map", "COLLATE_OIDC_ROLE_MAP", "claim values to roles: VALUE=ROLE[:PLACE][+unsuppressed];... (first match wins)"},
	{"oidc-roles-claim", "COLLATE_OIDC_ROLES_CLAIM", "claim holding groups or roles, dotted for nested (default groups)"},
	{"oidc-username-claim", "COLLATE_OIDC_USERNAME_CLAIM", "claim naming the local account (default preferred_username)"},
	{"oidc-scopes", "COLLATE_OIDC_SCOPES", "scopes besides openid, comma-separated (default profile,email,groups)"},
}

func oidcFlags(fs *flag.FlagSet, c *Config) {
	for _, o := range oidcSettings {
		c.extra[o.flag] = fs.String(o.flag, "", o.usage+" (env "+o.env+")")
	}
}

// oidcSetting is a flag's value, else its environment variable's.
func (r *runner) oidcSetting(name string) string {
	if v := r.flag(name); v != "" {
		return v
	}
	for _, o := range oidcSettings {
		if o.flag == name {
			return strings.TrimSpace(os.Getenv(o.env))
		}
	}
	return ""
}

// oidc builds OpenID Connect sign-in from the flags and environment, or
// returns nil when no issuer is set.
func (r *runner) oidc(accounts *auth.Store) (*auth.OIDC, error) {
	issuer := r.oidcSetting("oidc-issuer")
	if issuer == "" {
		return nil, nil
	}
	secret := os.Getenv("COLLATE_OIDC_CLIENT_SECRET")
	if file := r.oidcSetting("oidc-client-secret-file"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usageError{fmt.Sprintf("read the OpenID Connect client secret: %v", err)}
		}
		secret = strings.TrimSpace(string(b))
	}
	rules, err := auth.ParseRoleRules(r.oidcSetting("oidc-role-map"))
	if err != nil {
		return nil, usageError{"--oidc-role-map: " + err.Error()}
	}
	var scopes []string
	for _, sc := range strings.FieldsFunc(r.oidcSetting("oidc-scopes"), func(c rune) bool { return c == ',' || c == ' ' }) {
		scopes = append(scopes, sc)
	}
	o, err := auth.NewOIDC(accounts, auth.OIDCConfig{Name: r.oidcSetting("oidc-name"), Issuer: issuer,
		ClientID: r.oidcSetting("oidc-client-id"), ClientSecret: secret, RedirectURL: r.oidcSetting("oidc-redirect-url"),
		Scopes: scopes, UsernameClaim: r.oidcSetting("oidc-username-claim"), RolesClaim: r.oidcSetting("oidc-roles-claim"), Rules: rules})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	r.log.Info("openid connect sign-in", "issuer", issuer, "name", o.Name(), "rules", len(rules))
	return o, nil
}

// staleFor turns the --stale-for setting, where 0 means never, into
// dashboard.Options.StaleFor, where 0 means the default.
func staleFor(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
