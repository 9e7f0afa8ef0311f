package app

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest"
)

func auditCommand() command {
	return command{
		name:    "audit",
		usage:   "[--db PATH] [--since 7d|2026-01-31] [--until ...] [--action A] [--actor NAME] [--target T] [--outcome ok|denied|failed] [--limit N] [--format table|csv|json] [--out FILE]",
		summary: "Show or export the audit log: who did what, when, from where. Exporting is itself audited.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			c.extra["since"] = fs.String("since", "", "entries from this long ago (7d, 12h) or this date or time (2026-01-31, RFC 3339)")
			c.extra["until"] = fs.String("until", "", "entries before this long ago or this date or time")
			c.extra["action"] = fs.String("action", "", "one action (login, review.upload) or a family ending in a dot (user.)")
			c.extra["actor"] = fs.String("actor", "", "entries by this actor")
			c.extra["target"] = fs.String("target", "", "entries about this target (a user name, review ID or token ID)")
			c.extra["outcome"] = fs.String("outcome", "", "ok, denied or failed")
			c.extra["limit"] = fs.String("limit", "1000", "at most this many entries, newest first")
			c.extra["format"] = fs.String("format", "table", "table, csv or json")
			c.extra["out"] = fs.String("out", "", "write to this file instead of standard output")
		},
		run: runAudit,
	}
}

// parseWhen reads a time ago (7d, 12h) or a date or RFC 3339 time.
func parseWhen(flagName, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseLifetime(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: use a time ago such as 7d or 12h, a date such as 2026-01-31, or an RFC 3339 time", flagName, s)}
}

func runAudit(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) != 0 {
		return usageError{"audit takes flags only"}
	}
	now := time.Now()
	var f auth.AuditFilter
	var err error
	if f.Since, err = parseWhen("since", r.flag("since"), now); err != nil {
		return err
	}
	if f.Until, err = parseWhen("until", r.flag("until"), now); err != nil {
		return err
	}
	f.Action, f.Actor, f.Target = auth.Action(r.flag("action")), r.flag("actor"), r.flag("target")
	switch o := auth.Outcome(r.flag("outcome")); o {
	case "", auth.OutcomeOK, auth.OutcomeDenied, auth.OutcomeFailed:
		f.Outcome = o
	default:
		return usageError{fmt.Sprintf("--outcome %q: use ok, denied or failed", o)}
	}
	if f.Limit, err = strconv.Atoi(r.flag("limit")); err != nil || f.Limit < 1 || f.Limit > 100000 {
		return usageError{"--limit must be a number from 1 to 100000"}
	}
	format := r.flag("format")
	switch format {
	case "table", "csv", "json":
	default:
		return usageError{fmt.Sprintf("--format %q: use table, csv or json", format)}
	}
	s, ctx, done, err := r.openAuth(ctx)
	if err != nil {
		return err
	}
	defer done()
	entries, err := s.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	var w io.Writer = r.stdout
	out := r.flag("out")
	if out != "" {
		file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		defer file.Close()
		w = file
	}
	switch format {
	case "csv":
		err = auth.WriteAuditCSV(w, entries)
	case "json":
		err = auth.WriteAuditJSON(w, entries)
	default:
		err = writeAuditTable(w, entries)
	}
	if err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if out != "" {
		if err := w.(*os.File).Close(); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if format != "table" || out != "" {
		return s.Audit(ctx, auth.Entry{Action: auth.ActionAuditExport, Target: format,
			Detail: map[string]any{"entries": len(entries), "filter": filterText(f)}})
	}
	return nil
}

func filterText(f auth.AuditFilter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if !f.Since.IsZero() {
		add("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("until", f.Until.UTC().Format(time.RFC3339))
	}
	add("action", string(f.Action))
	add("actor", f.Actor)
	add("target", f.Target)
	add("outcome", string(f.Outcome))
	add("limit", strconv.Itoa(f.Limit))
	return strings.Join(parts, " ")
}

// writeAuditTable prints entries for a terminal, with control characters in
// attacker-chosen text (user names typed at login) made visible.
func writeAuditTable(w io.Writer, entries []auth.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tACTOR\tKIND\tACTION\tTARGET\tOUTCOME\tFROM")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), printable(e.Actor), e.ActorKind,
			e.Action, printable(e.Target), e.Outcome, printable(e.RemoteAddr))
	}
	return tw.Flush()
}

func printable(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s {
		return s
	}
	return q
}

// cliContext is ctx carrying the command-line principal, named after the
// OS user who ran collate.
func cliContext(ctx context.Context) context.Context {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	return auth.WithPrincipal(ctx, auth.CLI(name))
}

// auditReceipts records what a command-line ingest stored (ingest, import).
func (r *runner) auditReceipts(ctx context.Context, db *sql.DB, receipts []ingest.Receipt) error {
	return auth.New(auth.Options{DB: db, Logger: r.log}).AuditReceipts(cliContext(ctx), receipts)
}

// auditWithdraw records a withdrawal made on the command line.
func (r *runner) auditWithdraw(ctx context.Context, db *sql.DB, reviewID, reason string) error {
	return auth.New(auth.Options{DB: db, Logger: r.log}).AuditWithdraw(cliContext(ctx), reviewID, reason)
}
