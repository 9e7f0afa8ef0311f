// Package app is the collate command: it turns a Config into work. Every
// subcommand lives in its own file and is wired here; app builds the DuckDB
// handle, the ingest writer, the analytics store and the dashboard server and
// passes them in. End-to-end tests call Parse and Run directly.
package app

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the duckdb database/sql driver

	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
)

// Config is everything a run of collate needs. Defaults are set in code,
// environment variables (COLLATE_*) override them and flags override both.
type Config struct {
	Command string
	Args    []string // positional arguments after the subcommand's flags

	DB        string // COLLATE_DB
	LogFormat string // COLLATE_LOG_FORMAT: text or json
	LogLevel  string // COLLATE_LOG_LEVEL: debug, info, warn, error
	JSON      bool   // machine-readable output where a command offers it

	// validate, ingest
	Batch int
	By    string
	// WAL is whether ingest writes DuckDB's write-ahead log: "auto" (not
	// for a large load), "on" or "off".
	WAL string
	// CheckpointEvery is how many reviews an ingest without a write-ahead
	// log stores between checkpoints, each of which makes them durable.
	CheckpointEvery int

	// withdraw
	Reason string

	// demo
	Out     string
	Reviews int
	Seed    int64

	// serve
	Addr      string // COLLATE_ADDR
	TLSCert   string // COLLATE_TLS_CERT
	TLSKey    string // COLLATE_TLS_KEY
	Public    bool   // COLLATE_PUBLIC
	DemoUsers bool
	// MetricsAddr is where Prometheus metrics are served; empty is off.
	MetricsAddr string // COLLATE_METRICS_ADDR
	// WriterRest paces the upload writer (ingest.WriterOptions.Rest).
	WriterRest float64 // COLLATE_WRITER_REST
	// DBThreads is DuckDB's worker threads for serve; 0 leaves DuckDB's
	// default (one per core).
	DBThreads int // COLLATE_DB_THREADS
	// StaleFor is dashboard.Options.StaleFor; 0 turns it off.
	StaleFor time.Duration // COLLATE_STALE_FOR

	// extra holds flags of commands wired by other files.
	extra map[string]*string
}

// command is one subcommand.
type command struct {
	name    string
	usage   string // after "collate NAME"
	summary string
	flags   func(fs *flag.FlagSet, c *Config)
	run     func(ctx context.Context, r *runner) error
}

func commands() []command {
	return []command{
		validateCommand(),
		ingestCommand(),
		withdrawCommand(),
		framesCommand(),
		demoCommand(),
		templateCommand(),
		convertCommand(),
		serveCommand(),
		queryCommand(),
		usersCommand(),
		tokensCommand(),
		auditCommand(),
		researchWorkerCommand(),
		backupCommand(),
		restoreCommand(),
		exportCommand(),
		importCommand(),
	}
}

// usageError means the command line was wrong; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// failedError means the command ran but found problems (invalid files, say);
// it exits with status 1 and its message is already printed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

// ExitCode maps an error from Parse or Run to the process exit status.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func defaults() Config {
	return Config{
		DB:              "collate.duckdb",
		LogFormat:       "text",
		LogLevel:        "info",
		Batch:           1000,
		WAL:             "auto",
		CheckpointEvery: 20000,
		Addr:            "127.0.0.1:8080",
		Out:             "demo-data",
		Reviews:         2000,
		Seed:            1,
		WriterRest:      1,
		StaleFor:        dashboard.DefaultStaleFor,
		extra:           map[string]*string{},
	}
}

// Parse reads the subcommand, environment and flags into a Config.
func Parse(args, environ []string, stderr io.Writer) (Config, error) {
	cfg := defaults()
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for key, dst := range map[string]*string{
		"COLLATE_DB": &cfg.DB, "COLLATE_LOG_FORMAT": &cfg.LogFormat, "COLLATE_LOG_LEVEL": &cfg.LogLevel,
		"COLLATE_ADDR": &cfg.Addr, "COLLATE_TLS_CERT": &cfg.TLSCert, "COLLATE_TLS_KEY": &cfg.TLSKey,
		"COLLATE_METRICS_ADDR": &cfg.MetricsAddr,
	} {
		if v, ok := env[key]; ok && v != "" {
			*dst = v
		}
	}
	if v := env["COLLATE_PUBLIC"]; v == "true" || v == "1" {
		cfg.Public = true
	}
	if v := env["COLLATE_STALE_FOR"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return cfg, usageError{fmt.Sprintf("COLLATE_STALE_FOR=%q: give a duration such as 30s, or 0 for never", v)}
		}
		cfg.StaleFor = d
	}
	if v := env["COLLATE_DB_THREADS"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, usageError{fmt.Sprintf("COLLATE_DB_THREADS=%q: give a whole number, 0 or more", v)}
		}
		cfg.DBThreads = n
	}
	if v := env["COLLATE_WRITER_REST"]; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return cfg, usageError{fmt.Sprintf("COLLATE_WRITER_REST=%q: give a number, 0 or more", v)}
		}
		cfg.WriterRest = f
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		return cfg, usageError{"a subcommand is required"}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		printUsage(stderr)
		return cfg, usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
	}
	cfg.Command = cmd.name
	fs := flag.NewFlagSet("collate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: collate %s %s\n\n%s\n\nflags:\n", cmd.name, cmd.usage, cmd.summary)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json (env COLLATE_LOG_FORMAT)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn or error (env COLLATE_LOG_LEVEL)")
	if cmd.flags != nil {
		cmd.flags(fs, &cfg)
	}
	if err := fs.Parse(interleave(args[1:], fs)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err.Error()}
	}
	cfg.Args = fs.Args()
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "collate:", err)
		return cfg, usageError{err.Error()}
	}
	return cfg, nil
}

// interleave moves flags written after positional arguments to the front, so
// `collate ingest dir --db x.duckdb` works as people expect.
func interleave(args []string, fs *flag.FlagSet) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := fs.Lookup(name); f != nil {
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
					continue
				}
				if i+1 < len(args) {
					flags = append(flags, args[i+1])
					i++
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func (c Config) validate() error {
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.Batch < 1 || c.Batch > 10000 {
		return fmt.Errorf("--batch must be between 1 and 10000")
	}
	switch c.WAL {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("--wal must be auto, on or off, not %q", c.WAL)
	}
	if c.CheckpointEvery < 1 {
		return fmt.Errorf("--checkpoint-every must be at least 1")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	return nil
}

// String prints the configuration with secrets masked, for logs and `collate config`.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command=%s db=%s addr=%s log_format=%s log_level=%s", c.Command, c.DB, c.Addr, c.LogFormat, c.LogLevel)
	if c.TLSCert != "" {
		fmt.Fprintf(&b, " tls_cert=%s tls_key=****", c.TLSCert)
	}
	return b.String()
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: collate <command> [flags] [arguments]\n\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'collate <command> -h' for a command's flags.")
}

// runner carries what a command needs while it runs.
type runner struct {
	cfg    Config
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// Run carries out the command in cfg.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	r := &runner{cfg: cfg, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}
	for _, c := range commands() {
		if c.name == cfg.Command {
			return c.run(ctx, r)
		}
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", cfg.Command)}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the DuckDB file and brings its schema up to date. The
// caller closes it, which folds the WAL into the file.
func (r *runner) openStore(ctx context.Context) (*sql.DB, error) {
	return r.openStoreWith(ctx, openDuckDB)
}

// openDuckDB opens a DuckDB file the usual way, writing its write-ahead log.
func openDuckDB(path string) (*sql.DB, error) { return sql.Open("duckdb", path) }

// openStoreWith is openStore, opening the file with open: sql.Open, or
// ingest.OpenWithoutWAL for a bulk load.
func (r *runner) openStoreWith(ctx context.Context, open func(path string) (*sql.DB, error)) (*sql.DB, error) {
	if dir := filepath.Dir(r.cfg.DB); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	db, err := open(r.cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", r.cfg.DB, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", r.cfg.DB, err)
	}
	// Fold a write-ahead log left by a crash into the file before anything
	// reads: DuckDB 1.5.6 can otherwise persist indexes that miss replayed
	// rows (duckdb/duckdb#23788), and a later ingest would not see them.
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: checkpoint: %w", r.cfg.DB, err)
	}
	if err := ingest.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", r.cfg.DB, err)
	}
	// Count the reviews of a bulk load that stopped before it finished:
	// each was acknowledged once its batch committed.
	n, err := ingest.FinishLoading(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", r.cfg.DB, err)
	}
	if n > 0 {
		r.log.Info("completed an interrupted bulk load", "reviews", n)
	}
	return db, nil
}
