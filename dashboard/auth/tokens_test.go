package auth_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

func TestTokens(t *testing.T) {
	s, clk, db := mustStore(t)
	ctx := context.Background()
	mustUser(t, s, "root", auth.Scope{Role: auth.RoleAdmin})
	mustUser(t, s, "nora", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true})
	mustUser(t, s, "bea", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"})
	mustUser(t, s, "ray", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"})

	t.Run("create shows the token once and stores its hash", func(t *testing.T) {
		tok, info, err := s.CreateToken(cli(), auth.TokenRequest{Username: "bea", Name: "nightly upload", TTL: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^collate_[0-9a-f]{16}_[0-9a-f]{64}$`).MatchString(tok) {
			t.Fatalf("token %q is not collate_<id>_<secret>", tok)
		}
		secret := tok[strings.LastIndexByte(tok, '_')+1:]
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM api_tokens WHERE secret_hash = ? OR id = ?`, secret, secret).Scan(&n); err != nil || n != 0 {
			t.Fatalf("secret stored in the clear (n=%d, err=%v)", n, err)
		}
		p, err := s.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		want := auth.Principal{Kind: auth.KindToken, UserID: info.UserID, Username: "bea", TokenID: info.ID,
			Scope: auth.Scope{Role: auth.RoleBoardMember, Region: "ENG-NE", Board: "ENG-NE-NCL"}}
		if p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}
		ts, err := s.Tokens(cli(), "bea")
		if err != nil || len(ts) != 1 || ts[0].LastUsedAt.IsZero() {
			t.Fatalf("tokens %+v, err %v: want one with last use recorded", ts, err)
		}
	})

	t.Run("wrong, malformed, expired, revoked and disabled", func(t *testing.T) {
		tok, info, err := s.CreateToken(cli(), auth.TokenRequest{Username: "ray", Name: "script", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		bad := func(name, token string) {
			t.Helper()
			if _, err := s.VerifyToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s: err = %v, want unauthenticated", name, err)
			}
		}
		flip := []byte(tok)
		flip[len(flip)-1] ^= 1
		bad("wrong secret", string(flip))
		bad("no prefix", strings.TrimPrefix(tok, "collate_"))
		bad("empty", "")
		bad("id only", "collate_"+info.ID)
		bad("unknown id", "collate_0000000000000000_"+strings.Repeat("0", 64))

		clk.Advance(59 * time.Minute)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clk.Advance(time.Minute)
		bad("expired", tok)

		tok2, info2, err := s.CreateToken(cli(), auth.TokenRequest{Username: "ray", Name: "script 2"})
		if err != nil {
			t.Fatal(err)
		}
		if got := info2.ExpiresAt.Sub(info2.CreatedAt); got != auth.DefaultTokenTTL {
			t.Errorf("default lifetime %v, want %v", got, auth.DefaultTokenTTL)
		}
		// Verified, and so remembered: each change below must still take effect at once.
		if _, err := s.VerifyToken(ctx, tok2); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDisabled(cli(), "ray", true); err != nil {
			t.Fatal(err)
		}
		bad("owner disabled", tok2)
		if err := s.SetDisabled(cli(), "ray", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok2); err != nil {
			t.Fatalf("owner enabled again: %v", err)
		}
		if err := s.RevokeToken(cli(), info2.ID); err != nil {
			t.Fatal(err)
		}
		bad("revoked", tok2)
	})

	t.Run("a verified token is read again after five seconds", func(t *testing.T) {
		tok, info, err := s.CreateToken(cli(), auth.TokenRequest{Username: "bea", Name: "remembered"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		// A change made behind the store's back, as no process can while the
		// server runs, is seen once the memory of the token is five seconds old.
		if _, err := db.Exec(`DELETE FROM api_tokens WHERE id = ?`, info.ID); err != nil {
			t.Fatal(err)
		}
		clk.Advance(4 * time.Second)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatalf("within five seconds of its check: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("five seconds after its check, a deleted token: err = %v", err)
		}
	})

	t.Run("scope no wider than the owner's", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			owner string
			scope auth.Scope
			ok    bool
		}{
			{"own scope", "bea", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}, true},
			{"other board", "bea", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-DUR"}, false},
			{"board member to region", "bea", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}, false},
			{"region to one board", "ray", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}, false},
			{"region to other region", "ray", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NW"}, false},
			{"researcher drops the grant", "nora", auth.Scope{Role: auth.RoleNationalResearcher}, true},
			{"researcher keeps the grant", "nora", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}, true},
			{"researcher to admin", "nora", auth.Scope{Role: auth.RoleAdmin}, false},
			{"admin to board member", "root", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NW-BOL"}, true},
			{"admin to unsuppressed researcher", "root", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.CreateToken(cli(), auth.TokenRequest{Username: tc.owner, Name: tc.name, Scope: &tc.scope})
				if (err == nil) != tc.ok {
					t.Fatalf("err = %v, want ok=%v", err, tc.ok)
				}
				if err != nil && errs.KindOf(err) != errs.Forbidden {
					t.Errorf("kind %v, want forbidden", errs.KindOf(err))
				}
			})
		}
		// An ungranted researcher cannot mint an unsuppressed token.
		if err := s.SetScope(cli(), "nora", auth.Scope{Role: auth.RoleNationalResearcher}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateToken(cli(), auth.TokenRequest{Username: "nora", Name: "x", Scope: &auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("unsuppressed token for an ungranted researcher: %v", err)
		}
	})

	t.Run("a token stops working when its owner's scope narrows", func(t *testing.T) {
		if err := s.SetScope(cli(), "nora", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := s.CreateToken(cli(), auth.TokenRequest{Username: "nora", Name: "grant", Scope: &auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.VerifyToken(ctx, tok); err != nil || !p.Unsuppressed {
			t.Fatalf("before: %+v %v", p, err)
		}
		if err := s.SetScope(cli(), "nora", auth.Scope{Role: auth.RoleNationalResearcher}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("after the grant was withdrawn: %v", err)
		}
	})

	t.Run("who may create and revoke", func(t *testing.T) {
		beaSess := mustLogin(t, s, "bea")
		rootSess := mustLogin(t, s, "root")
		asBea := auth.WithPrincipal(ctx, beaSess.User.Principal())
		asRoot := auth.WithPrincipal(ctx, rootSess.User.Principal())
		if _, _, err := s.CreateToken(asBea, auth.TokenRequest{Username: "bea", Name: "mine"}); err != nil {
			t.Fatalf("own token: %v", err)
		}
		if _, _, err := s.CreateToken(asBea, auth.TokenRequest{Username: "ray", Name: "theirs"}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("someone else's token: %v", err)
		}
		if _, _, err := s.CreateToken(context.Background(), auth.TokenRequest{Username: "bea", Name: "nobody"}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("no principal: %v", err)
		}
		tok, info, err := s.CreateToken(asRoot, auth.TokenRequest{Username: "ray", Name: "by admin"})
		if err != nil {
			t.Fatalf("admin for another: %v", err)
		}
		asToken, err := s.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateToken(auth.WithPrincipal(ctx, asToken), auth.TokenRequest{Username: "ray", Name: "from a token"}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("token minting a token: %v", err)
		}
		if err := s.RevokeToken(asBea, info.ID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("bea revokes ray's token: %v", err)
		}
		if ts, err := s.Tokens(asBea, ""); err != nil || len(ts) == 0 || ts[0].Username != "bea" {
			t.Fatalf("bea lists tokens: %v %+v", err, ts)
		} else {
			for _, tk := range ts {
				if tk.Username != "bea" {
					t.Errorf("bea sees %s's token", tk.Username)
				}
			}
		}
		if err := s.RevokeToken(asRoot, tok); err != nil { // a whole token pasted in works too
			t.Fatalf("admin revokes: %v", err)
		}
	})
}
