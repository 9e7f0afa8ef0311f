package auth

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/collate-project/collate/ingest/errs"
)

// DemoCredential is one demo account and its fresh password.
type DemoCredential struct {
	Username string
	Password string
	Scope    Scope
}

// demoAccounts are one account of each role, scoped to the demo data's
// first region and board.
var demoAccounts = []struct {
	name  string
	scope Scope
}{
	{"demo-admin", Scope{Role: RoleAdmin}},
	{"demo-researcher", Scope{Role: RoleNationalResearcher, Unsuppressed: true}},
	{"demo-researcher-suppressed", Scope{Role: RoleNationalResearcher}},
	{"demo-analyst", Scope{Role: RoleRegionalAnalyst, Region: "ENG-NE"}},
	{"demo-board", Scope{Role: RoleBoardMember, Board: "ENG-NE-NCL"}},
}

// DemoUsers creates one account of each role with a new random password,
// or gives an existing demo account a new one, and returns the credentials.
// It is for the demo command on a local machine only: the passwords are
// printed, so they must never guard real data.
func (s *Store) DemoUsers(ctx context.Context) ([]DemoCredential, error) {
	var out []DemoCredential
	for _, d := range demoAccounts {
		pw := randomToken(15) // 20 characters
		_, err := s.AddUser(ctx, NewUser{Username: d.name, Password: pw, Scope: d.scope})
		if errs.KindOf(err) == errs.Conflict {
			if err = s.SetScope(ctx, d.name, d.scope); err == nil {
				err = s.SetPassword(ctx, d.name, pw)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", d.name, err)
		}
		scope, _ := d.scope.normalize(s.geo)
		out = append(out, DemoCredential{Username: d.name, Password: pw, Scope: scope})
	}
	return out, nil
}

// PrintDemoUsers writes the credentials as a table, with a warning.
func PrintDemoUsers(w io.Writer, creds []DemoCredential) error {
	fmt.Fprintln(w, "Demo accounts (local use only; run the demo again for new passwords):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USER\tPASSWORD\tROLE")
	for _, c := range creds {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Username, c.Password, c.Scope)
	}
	return tw.Flush()
}
