package auth_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

// TestNoHTTPFramework keeps the package usable from the command line and
// testable without a server.
func TestNoHTTPFramework(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/gin-gonic/") || strings.HasPrefix(dep, "github.com/go-echarts/") {
			t.Errorf("package auth depends on %s", dep)
		}
	}
}

func TestLimiter(t *testing.T) {
	clk := newClock()
	l := auth.NewLimiter(auth.LimiterOptions{Every: 6 * time.Second, Burst: 3, Now: clk.Now})
	for i := range 3 {
		if !l.Allow("127.0.0.1") {
			t.Fatalf("attempt %d within the burst refused", i+1)
		}
	}
	ok, wait := l.Reserve("127.0.0.1")
	if ok || wait != 6*time.Second {
		t.Fatalf("4th attempt: ok=%v wait=%v, want refused for 6s", ok, wait)
	}
	if !l.Allow("127.0.0.2") {
		t.Fatal("another address shares the first one's bucket")
	}
	clk.Advance(6 * time.Second)
	if !l.Allow("127.0.0.1") || l.Allow("127.0.0.1") {
		t.Fatal("after 6 s exactly one attempt should be allowed")
	}

	t.Run("bounded memory", func(t *testing.T) {
		l := auth.NewLimiter(auth.LimiterOptions{Every: time.Second, Burst: 1, MaxKeys: 100, Now: clk.Now})
		for i := range 1000 {
			l.Allow(strings.Repeat("k", i%7) + string(rune('a'+i%26)) + string(rune(i)))
		}
		// A key still limited must stay limited: sweeping drops only
		// idle or oldest keys, never the one just used.
		l.Allow("hot")
		if l.Allow("hot") {
			t.Fatal("a key just used was forgotten")
		}
	})
}

func TestViewer(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want analytics.Viewer
	}{
		{"admin", auth.Principal{Kind: auth.KindUser, Username: "a", Scope: auth.Scope{Role: auth.RoleAdmin}},
			analytics.Viewer{Role: analytics.RoleAdmin, Name: "a"}},
		{"granted researcher", auth.Principal{Kind: auth.KindUser, Username: "n", Scope: auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}},
			analytics.Viewer{Role: analytics.RoleNationalResearcher, Unsuppressed: true, Name: "n"}},
		{"regional analyst", auth.Principal{Kind: auth.KindUser, Username: "r", Scope: auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}},
			analytics.Viewer{Role: analytics.RoleRegionalAnalyst, Region: "ENG-NE", Name: "r"}},
		{"board member by token", auth.Principal{Kind: auth.KindToken, Username: "b", TokenID: "t1", Scope: auth.Scope{Role: auth.RoleBoardMember, Region: "ENG-NE", Board: "ENG-NE-NCL"}},
			analytics.Viewer{Role: analytics.RoleBoardMember, Board: "ENG-NE-NCL", Name: "b (token t1)"}},
		{"board member cannot carry a grant", auth.Principal{Kind: auth.KindUser, Username: "b", Scope: auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL", Unsuppressed: true}},
			analytics.Viewer{Role: analytics.RoleBoardMember, Board: "ENG-NE-NCL", Name: "b"}},
		{"anonymous", auth.Anonymous(), analytics.Viewer{Role: analytics.RolePublic, Name: "anonymous"}},
		{"zero principal", auth.Principal{}, analytics.Viewer{Role: analytics.RolePublic}},
		{"unknown role with a grant", auth.Principal{Scope: auth.Scope{Role: "superuser", Unsuppressed: true}}, analytics.Viewer{Role: analytics.RolePublic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Viewer()
			if got != tc.want {
				t.Fatalf("Viewer() = %+v, want %+v", got, tc.want)
			}
			if err := got.Check(); err != nil {
				t.Errorf("analytics refuses the viewer: %v", err)
			}
		})
	}
}

func TestUserManagement(t *testing.T) {
	s, _, _ := mustStore(t)
	ctx := cli()
	t.Run("scope rules", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			scope auth.Scope
			ok    bool
		}{
			{"admin", auth.Scope{Role: auth.RoleAdmin}, true},
			{"admin with a region", auth.Scope{Role: auth.RoleAdmin, Region: "ENG-NE"}, false},
			{"researcher with grant", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}, true},
			{"analyst", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}, true},
			{"analyst without region", auth.Scope{Role: auth.RoleRegionalAnalyst}, false},
			{"analyst in unknown region", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "XX"}, false},
			{"analyst with grant", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE", Unsuppressed: true}, false},
			{"board member", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}, true},
			{"board member, right region", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL", Region: "ENG-NE"}, true},
			{"board member, wrong region", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL", Region: "ENG-NW"}, false},
			{"board member, unknown board", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-XXX"}, false},
			{"public", auth.Scope{Role: auth.RolePublic}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				name := strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", "-"), ",", "")
				_, err := s.AddUser(ctx, auth.NewUser{Username: name, Password: pw, Scope: tc.scope})
				if (err == nil) != tc.ok {
					t.Fatalf("err = %v, want ok=%v", err, tc.ok)
				}
				if err != nil && errs.KindOf(err) != errs.Invalid {
					t.Errorf("kind %v, want invalid", errs.KindOf(err))
				}
			})
		}
	})
	t.Run("names", func(t *testing.T) {
		if _, err := s.AddUser(ctx, auth.NewUser{Username: "Admin", Password: pw, Scope: auth.Scope{Role: auth.RoleAdmin}}); errs.KindOf(err) != errs.Conflict {
			t.Errorf("case-insensitive duplicate: %v", err)
		}
		for _, bad := range []string{"", " ", "-x", "a b", "<script>", strings.Repeat("a", 65)} {
			if _, err := s.AddUser(ctx, auth.NewUser{Username: bad, Password: pw, Scope: auth.Scope{Role: auth.RoleAdmin}}); errs.KindOf(err) != errs.Invalid {
				t.Errorf("name %q: %v", bad, err)
			}
		}
		if _, err := s.AddUser(ctx, auth.NewUser{Username: "weak", Password: "short", Scope: auth.Scope{Role: auth.RoleAdmin}}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("short password: %v", err)
		}
	})
	t.Run("no password means no password login", func(t *testing.T) {
		if _, err := s.AddUser(ctx, auth.NewUser{Username: "sso", Scope: auth.Scope{Role: auth.RoleAdmin}}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"", pw} {
			if _, err := s.Login(context.Background(), "sso", p, "127.0.0.1"); err != auth.ErrLoginFailed {
				t.Errorf("password %q: %v", p, err)
			}
		}
	})
	t.Run("the last admin stays", func(t *testing.T) {
		s, _, _ := mustStore(t)
		mustUser(t, s, "only", auth.Scope{Role: auth.RoleAdmin})
		if err := s.SetDisabled(ctx, "only", true); errs.KindOf(err) != errs.Conflict {
			t.Errorf("disable the last admin: %v", err)
		}
		if err := s.SetScope(ctx, "only", auth.Scope{Role: auth.RoleNationalResearcher}); errs.KindOf(err) != errs.Conflict {
			t.Errorf("demote the last admin: %v", err)
		}
		mustUser(t, s, "second", auth.Scope{Role: auth.RoleAdmin})
		if err := s.SetDisabled(ctx, "only", true); err != nil {
			t.Errorf("disable one of two admins: %v", err)
		}
	})
	t.Run("only admin sessions and the command line manage", func(t *testing.T) {
		for _, p := range []auth.Principal{
			auth.Anonymous(),
			{Kind: auth.KindUser, Username: "n", Scope: auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}},
			{Kind: auth.KindToken, Username: "a", TokenID: "x", Scope: auth.Scope{Role: auth.RoleAdmin}},
		} {
			c := auth.WithPrincipal(context.Background(), p)
			if err := s.SetScope(c, "admin", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("%s %s changes a role: %v", p.Kind, p.Role, err)
			}
		}
		if err := s.SetDisabled(context.Background(), "admin", true); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("no principal disables a user: %v", err)
		}
	})
}

func TestDemoUsers(t *testing.T) {
	s, _, _ := mustStore(t)
	first, err := s.DemoUsers(cli())
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.DemoUsers(cli())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 5 || len(again) != 5 {
		t.Fatalf("%d and %d demo users, want 5", len(first), len(again))
	}
	for i, c := range again {
		if c.Password == first[i].Password {
			t.Errorf("%s kept its password", c.Username)
		}
		if _, err := s.Login(context.Background(), c.Username, c.Password, "127.0.0.1"); err != nil {
			t.Errorf("%s cannot sign in with the printed password: %v", c.Username, err)
		}
		if _, err := s.Login(context.Background(), c.Username, first[i].Password, "127.0.0.1"); err != auth.ErrLoginFailed {
			t.Errorf("%s still accepts the old password: %v", c.Username, err)
		}
	}
	var b strings.Builder
	if err := auth.PrintDemoUsers(&b, again); err != nil || !strings.Contains(b.String(), again[0].Password) || !strings.Contains(b.String(), "board_member ENG-NE-NCL") {
		t.Fatalf("printed:\n%s", b.String())
	}
}
