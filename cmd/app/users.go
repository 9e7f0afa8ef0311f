package app

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
)

func usersCommand() command {
	return command{
		name: "users",
		usage: "[--db PATH] add --role ROLE [--region R] [--board B] [--unsuppressed] [--email E] (--password-file F | --password-stdin | --password-env VAR | --no-password) NAME\n" +
			"       | list [--json]\n" +
			"       | disable NAME | enable NAME | unlock NAME\n" +
			"       | role --role ROLE [--region R] [--board B] [--unsuppressed] NAME\n" +
			"       | grant-unsuppressed NAME | revoke-unsuppressed NAME\n" +
			"       | password (--password-file F | --password-stdin | --password-env VAR) NAME",
		summary: "Manage accounts: add, list, disable, change roles and grants. Passwords come from a file, stdin or the environment, never a flag.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "list: print JSON")
			scopeFlags(fs, c)
			c.extra["email"] = fs.String("email", "", "add: the user's e-mail address")
			c.extra["password-file"] = fs.String("password-file", "", "read the password from the first line of this file")
			c.extra["password-env"] = fs.String("password-env", "", "read the password from this environment variable")
			boolFlag(fs, c, "password-stdin", "read the password from the first line of standard input")
			boolFlag(fs, c, "no-password", "add: no password; the user signs in through single sign-on only")
		},
		run: runUsers,
	}
}

// scopeFlags registers --role, --region, --board and --unsuppressed.
func scopeFlags(fs *flag.FlagSet, c *Config) {
	c.extra["role"] = fs.String("role", "", "admin, national_researcher, regional_analyst or board_member")
	c.extra["region"] = fs.String("region", "", "regional_analyst: the region code, such as ENG-NE")
	c.extra["board"] = fs.String("board", "", "board_member: the board code, such as ENG-NE-NCL")
	boolFlag(fs, c, "unsuppressed", "grant figures without suppression (national_researcher and admin only)")
}

// boolFlag registers a boolean flag kept in Config.extra as "true" or "".
func boolFlag(fs *flag.FlagSet, c *Config, name, usage string) {
	v := new(string)
	c.extra[name] = v
	fs.Var(extraBool{v}, name, usage)
}

type extraBool struct{ s *string }

func (b extraBool) String() string {
	if b.s == nil {
		return ""
	}
	return *b.s
}

func (b extraBool) Set(v string) error {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		*b.s = "true"
	case "false", "0", "no", "":
		*b.s = ""
	default:
		return fmt.Errorf("want true or false, not %q", v)
	}
	return nil
}

func (extraBool) IsBoolFlag() bool { return true }

func (r *runner) flag(name string) string {
	if p := r.cfg.extra[name]; p != nil {
		return *p
	}
	return ""
}

// scopeFromFlags reads --role and the scope flags; role is required.
func (r *runner) scopeFromFlags() (auth.Scope, error) {
	if r.flag("role") == "" {
		return auth.Scope{}, usageError{"--role is required: admin, national_researcher, regional_analyst or board_member"}
	}
	role, err := auth.ParseRole(r.flag("role"))
	if err != nil {
		return auth.Scope{}, usageError{err.Error()}
	}
	return auth.Scope{Role: role, Region: r.flag("region"), Board: r.flag("board"), Unsuppressed: r.flag("unsuppressed") != ""}, nil
}

// readPassword takes the password from exactly one of --password-file,
// --password-stdin and --password-env: never from a flag's value, which
// would land in shell history and the process list.
func (r *runner) readPassword() (string, error) {
	file, env, stdin := r.flag("password-file"), r.flag("password-env"), r.flag("password-stdin") != ""
	n := 0
	for _, set := range []bool{file != "", env != "", stdin} {
		if set {
			n++
		}
	}
	if n != 1 {
		return "", usageError{"give the password in exactly one way: --password-file FILE, --password-stdin or --password-env VAR"}
	}
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		defer f.Close()
		return firstLine(f, file)
	case stdin:
		return firstLine(os.Stdin, "standard input")
	}
	v, ok := os.LookupEnv(env)
	if !ok || v == "" {
		return "", usageError{fmt.Sprintf("environment variable %s is not set", env)}
	}
	return v, nil
}

// firstLine reads the first line of r without its line ending.
func firstLine(r io.Reader, name string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from %s: %w", name, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{fmt.Sprintf("no password in %s", name)}
	}
	return line, nil
}

// openAuth opens the store and returns an access-control store and a
// context carrying the command-line principal, named after the OS user.
func (r *runner) openAuth(ctx context.Context) (*auth.Store, context.Context, func(), error) {
	db, err := r.openStore(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	s := auth.New(auth.Options{DB: db, Logger: r.log})
	return s, cliContext(ctx), func() { db.Close() }, nil
}

func runUsers(ctx context.Context, r *runner) error {
	args := r.cfg.Args
	if len(args) == 0 {
		return usageError{"say add, list, disable, enable, unlock, role, grant-unsuppressed, revoke-unsuppressed or password"}
	}
	action, args := args[0], args[1:]
	want := 1
	if action == "list" {
		want = 0
	}
	if len(args) != want {
		if want == 0 {
			return usageError{"users list takes no arguments"}
		}
		return usageError{fmt.Sprintf("users %s takes one user name", action)}
	}
	// Read the password before opening the store, so a mistake costs nothing.
	var password string
	switch action {
	case "add":
		if r.flag("no-password") == "" {
			p, err := r.readPassword()
			if err != nil {
				return err
			}
			password = p
		}
	case "password":
		p, err := r.readPassword()
		if err != nil {
			return err
		}
		password = p
	case "list", "disable", "enable", "unlock", "role", "grant-unsuppressed", "revoke-unsuppressed":
	default:
		return usageError{fmt.Sprintf("unknown users action %q", action)}
	}
	s, ctx, done, err := r.openAuth(ctx)
	if err != nil {
		return err
	}
	defer done()
	switch action {
	case "add":
		scope, err := r.scopeFromFlags()
		if err != nil {
			return err
		}
		u, err := s.AddUser(ctx, auth.NewUser{Username: args[0], Email: r.flag("email"), Password: password, Scope: scope})
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "added user %s (%s)\n", u.Username, u.Scope)
		return nil
	case "list":
		us, err := s.Users(ctx)
		if err != nil {
			return err
		}
		if r.cfg.JSON {
			if us == nil {
				us = []auth.User{}
			}
			enc := json.NewEncoder(r.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Users []auth.User `json:"users"`
			}{us})
		}
		tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tROLE\tSCOPE\tUNSUPPRESSED\tSTATUS\tCREATED")
		now := time.Now()
		for _, u := range us {
			place := u.Board
			if place == "" {
				place = u.Region
			}
			if place == "" {
				place = "all"
			}
			status := "active"
			switch {
			case u.Disabled:
				status = "disabled"
			case now.Before(u.LockedUntil):
				status = "locked until " + u.LockedUntil.Local().Format("15:04")
			case !u.HasPassword:
				status = "sso only"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, place, yesNo(u.Unsuppressed), status, u.CreatedAt.Format("2006-01-02"))
		}
		return tw.Flush()
	case "disable", "enable":
		if err := s.SetDisabled(ctx, args[0], action == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "%sd user %s\n", action, strings.ToLower(args[0]))
		return nil
	case "unlock":
		if err := s.Unlock(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "unlocked user %s\n", strings.ToLower(args[0]))
		return nil
	case "role":
		scope, err := r.scopeFromFlags()
		if err != nil {
			return err
		}
		if err := s.SetScope(ctx, args[0], scope); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "user %s is now %s\n", strings.ToLower(args[0]), scope)
		return nil
	case "grant-unsuppressed", "revoke-unsuppressed":
		u, err := s.User(ctx, args[0])
		if err != nil {
			return err
		}
		scope := u.Scope
		scope.Unsuppressed = action == "grant-unsuppressed"
		if err := s.SetScope(ctx, u.Username, scope); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "user %s is now %s\n", u.Username, scope)
		return nil
	case "password":
		if err := s.SetPassword(ctx, args[0], password); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "changed the password of %s; their sessions have ended\n", strings.ToLower(args[0]))
		return nil
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
