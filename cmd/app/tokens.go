package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
)

func tokensCommand() command {
	return command{
		name: "tokens",
		usage: "[--db PATH] create --user NAME --name TEXT [--expires 90d] [--role ROLE [--region R] [--board B] [--unsuppressed]]\n" +
			"       | list [--user NAME] [--json]\n" +
			"       | revoke ID",
		summary: "Create, list and revoke API tokens. A new token is printed once and never again.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "list: print JSON")
			c.extra["user"] = fs.String("user", "", "the user the token acts for")
			c.extra["name"] = fs.String("name", "", "create: what the token is for")
			c.extra["expires"] = fs.String("expires", "90d", "create: lifetime, such as 30d, 12h or 1y (at most 366d)")
			scopeFlags(fs, c)
		},
		run: runTokens,
	}
}

// parseLifetime reads 90d, 2w, 1y or a Go duration such as 12h.
func parseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	for suffix, unit := range units {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				break
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Sprintf("--expires %q: use a lifetime such as 30d, 2w, 12h or 1y", s)}
	}
	return d, nil
}

func runTokens(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) == 0 {
		return usageError{"say create, list or revoke ID"}
	}
	action, args := r.cfg.Args[0], r.cfg.Args[1:]
	switch action {
	case "create", "list":
		if len(args) != 0 {
			return usageError{fmt.Sprintf("tokens %s takes flags only, not %q", action, args[0])}
		}
	case "revoke":
		if len(args) != 1 {
			return usageError{"tokens revoke takes one token ID"}
		}
	default:
		return usageError{fmt.Sprintf("unknown tokens action %q", action)}
	}
	var req auth.TokenRequest
	if action == "create" {
		req = auth.TokenRequest{Username: r.flag("user"), Name: r.flag("name")}
		if req.Username == "" || req.Name == "" {
			return usageError{"tokens create needs --user and --name"}
		}
		ttl, err := parseLifetime(r.flag("expires"))
		if err != nil {
			return err
		}
		req.TTL = ttl
		if r.flag("role") != "" {
			scope, err := r.scopeFromFlags()
			if err != nil {
				return err
			}
			req.Scope = &scope
		} else if r.flag("region") != "" || r.flag("board") != "" || r.flag("unsuppressed") != "" {
			return usageError{"--region, --board and --unsuppressed narrow a token only together with --role"}
		}
	}
	s, ctx, done, err := r.openAuth(ctx)
	if err != nil {
		return err
	}
	defer done()
	switch action {
	case "create":
		tok, info, err := s.CreateToken(ctx, req)
		if err != nil {
			return err
		}
		// The token alone goes to stdout, so scripts can capture it; the
		// rest is for the person at the terminal.
		fmt.Fprintln(r.stdout, tok)
		fmt.Fprintf(r.stderr, "token %s for %s (%s), expires %s. It is shown only now: store it in a secret store.\n",
			info.ID, info.Username, info.Scope, info.ExpiresAt.Format("2006-01-02 15:04 MST"))
		return nil
	case "list":
		ts, err := s.Tokens(ctx, r.flag("user"))
		if err != nil {
			return err
		}
		if r.cfg.JSON {
			if ts == nil {
				ts = []auth.Token{}
			}
			enc := json.NewEncoder(r.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Tokens []auth.Token `json:"tokens"`
			}{ts})
		}
		tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tSCOPE\tSTATUS\tEXPIRES\tLAST USED")
		now := time.Now()
		for _, t := range ts {
			status := "active"
			switch {
			case !t.RevokedAt.IsZero():
				status = "revoked"
			case !now.Before(t.ExpiresAt):
				status = "expired"
			}
			used := "never"
			if !t.LastUsedAt.IsZero() {
				used = t.LastUsedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, t.Scope, status, t.ExpiresAt.Format("2006-01-02"), used)
		}
		return tw.Flush()
	case "revoke":
		if err := s.RevokeToken(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "revoked token %s\n", args[0])
		return nil
	}
	return nil
}
