package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

func TestSessionLifetime(t *testing.T) {
	s, clk, db := mustStore(t)
	ctx := context.Background()
	mustUser(t, s, "alice", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"})

	t.Run("id is random, 32 bytes, and stored only hashed", func(t *testing.T) {
		a, b := mustLogin(t, s, "alice"), mustLogin(t, s, "alice")
		if a.ID == b.ID || len(a.ID) != 43 {
			t.Fatalf("ids %q and %q: want two different 43-character (32-byte) ids", a.ID, b.ID)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE id_hash = ? OR id_hash = ?`, a.ID, b.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a session id is stored in the clear (n=%d, err=%v)", n, err)
		}
		_, p, err := s.Session(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := auth.Principal{Kind: auth.KindUser, UserID: a.User.ID, Username: "alice", Scope: auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}}
		if p != want {
			t.Errorf("principal %+v, want %+v", p, want)
		}
	})

	t.Run("sliding expiry", func(t *testing.T) {
		ns := mustLogin(t, s, "alice")
		for range 5 { // 5 × 25 min = 2 h 5 min, far past the 30 min idle limit
			clk.Advance(25 * time.Minute)
			if _, _, err := s.Session(ctx, ns.ID); err != nil {
				t.Fatalf("session used every 25 minutes ended: %v", err)
			}
		}
		clk.Advance(31 * time.Minute)
		if _, _, err := s.Session(ctx, ns.ID); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("session idle for 31 minutes: err = %v, want unauthenticated", err)
		}
	})

	t.Run("absolute expiry", func(t *testing.T) {
		ns := mustLogin(t, s, "alice")
		used := 0
		for ; used < 100; used++ {
			clk.Advance(20 * time.Minute)
			if _, _, err := s.Session(ctx, ns.ID); err != nil {
				break
			}
		}
		// 12 h / 20 min = 36 uses; the 36th lands exactly on the absolute expiry.
		if used != 35 {
			t.Fatalf("session ended after %d uses 20 minutes apart, want 35 (12 hours)", used)
		}
	})

	t.Run("logout deletes the session", func(t *testing.T) {
		ns := mustLogin(t, s, "alice")
		if err := s.Logout(ctx, ns.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Session(ctx, ns.ID); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("after logout: err = %v", err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE id_hash = ?`, ns.IDHash).Scan(&n); err != nil || n != 0 {
			t.Fatalf("session row still there after logout (n=%d, err=%v)", n, err)
		}
		if err := s.Logout(ctx, ns.ID); err != nil {
			t.Fatalf("second logout: %v", err)
		}
	})

	t.Run("permission change applies to a live session; disabling ends it", func(t *testing.T) {
		mustUser(t, s, "root", auth.Scope{Role: auth.RoleAdmin})
		ns := mustLogin(t, s, "alice")
		if err := s.SetScope(cli(), "alice", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-DUR"}); err != nil {
			t.Fatal(err)
		}
		_, p, err := s.Session(ctx, ns.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Role != auth.RoleBoardMember || p.Board != "ENG-NE-DUR" || p.Region != "ENG-NE" {
			t.Errorf("after the change the session has scope %v", p.Scope)
		}
		if err := s.SetDisabled(cli(), "alice", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Session(ctx, ns.ID); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("disabled user's session: err = %v", err)
		}
		if _, err := s.Login(ctx, "alice", pw, "127.0.0.1"); err != auth.ErrLoginFailed {
			t.Fatalf("disabled user logs in: err = %v", err)
		}
	})

	t.Run("garbage ids", func(t *testing.T) {
		for _, id := range []string{"", "x", strings.Repeat("a", 43), strings.Repeat("a", 5000)} {
			if _, _, err := s.Session(ctx, id); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("id %.20q: err = %v", id, err)
			}
		}
	})
}

func TestCSRF(t *testing.T) {
	s, _, _ := mustStore(t)
	mustUser(t, s, "bob", auth.Scope{Role: auth.RoleNationalResearcher})
	a, b := mustLogin(t, s, "bob"), mustLogin(t, s, "bob")
	ctx := context.Background()
	// The secret comes back from the store as it went in.
	sa, _, err := s.Session(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := a.CSRFToken()
	if tok == a.CSRFToken() {
		t.Error("two CSRF tokens are equal: they should be masked with a fresh nonce")
	}
	tampered := []byte(tok)
	tampered[10] ^= 1
	for _, tc := range []struct {
		name  string
		sess  auth.Session
		token string
		ok    bool
	}{
		{"own token", a.Session, tok, true},
		{"own token, session read back", sa, tok, true},
		{"another fresh token", sa, a.CSRFToken(), true},
		{"other session's token", a.Session, b.CSRFToken(), false},
		{"tampered", a.Session, string(tampered), false},
		{"empty", a.Session, "", false},
		{"truncated", a.Session, tok[:len(tok)-2], false},
		{"not base64", a.Session, strings.Repeat("!", len(tok)), false},
		{"no secret", auth.Session{}, tok, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sess.VerifyCSRF(tc.token); got != tc.ok {
				t.Fatalf("VerifyCSRF = %v, want %v", got, tc.ok)
			}
		})
	}
	t.Run("login form secret", func(t *testing.T) {
		secret := auth.NewCSRFSecret()
		if !auth.VerifyCSRF(secret, auth.CSRFToken(secret)) || auth.VerifyCSRF(auth.NewCSRFSecret(), auth.CSRFToken(secret)) {
			t.Fatal("pre-session CSRF tokens do not verify as they should")
		}
	})
}

func TestLoginBackoffAndLockout(t *testing.T) {
	s, clk, _ := mustStore(t)
	ctx := context.Background()
	mustUser(t, s, "carol", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"})
	login := func(password string) error {
		_, err := s.Login(ctx, "carol", password, "127.0.0.9")
		return err
	}
	policy := auth.LockoutPolicy{MaxFailures: 5, LockFor: 15 * time.Minute, BackoffBase: time.Second, BackoffMax: time.Minute}
	for i, want := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		if got := policy.Backoff(i); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", i, got, want)
		}
	}

	t.Run("unknown user and wrong password give the same answer", func(t *testing.T) {
		_, e1 := s.Login(ctx, "nobody", pw, "127.0.0.9")
		e2 := login("wrong password!!")
		_, e3 := s.Login(ctx, "", "", "127.0.0.9")
		if e1 != auth.ErrLoginFailed || e2 != auth.ErrLoginFailed || e3 != auth.ErrLoginFailed {
			t.Fatalf("errors %v / %v / %v, want ErrLoginFailed for all", e1, e2, e3)
		}
	})

	t.Run("back-off refuses even the right password until it has passed", func(t *testing.T) {
		// carol has 1 failure: wait 1 s.
		if err := login(pw); err != auth.ErrLoginFailed {
			t.Fatalf("right password during back-off: %v", err)
		}
		clk.Advance(time.Second)
		if err := login(pw); err != nil {
			t.Fatalf("right password after back-off: %v", err)
		}
	})

	t.Run("lockout after 5 failures, for 15 minutes", func(t *testing.T) {
		for i := 1; i <= 5; i++ {
			if err := login("wrong password!!"); err != auth.ErrLoginFailed {
				t.Fatal(err)
			}
			clk.Advance(policy.Backoff(i))
		}
		u, err := s.User(ctx, "carol")
		if err != nil {
			t.Fatal(err)
		}
		if u.FailedLogins != 5 || u.LockedUntil.IsZero() {
			t.Fatalf("after 5 failures: %d failures, locked until %v", u.FailedLogins, u.LockedUntil)
		}
		clk.Advance(14 * time.Minute)
		if err := login(pw); err != auth.ErrLoginFailed {
			t.Fatalf("right password while locked: %v", err)
		}
		clk.Advance(time.Minute)
		if err := login(pw); err != nil {
			t.Fatalf("right password after the lock: %v", err)
		}
		if u, _ := s.User(ctx, "carol"); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
			t.Fatalf("success did not clear the count: %+v", u)
		}
	})

	t.Run("admin unlock", func(t *testing.T) {
		for i := 1; i <= 5; i++ {
			_ = login("wrong password!!")
			clk.Advance(policy.Backoff(i))
		}
		if err := login(pw); err != auth.ErrLoginFailed {
			t.Fatalf("locked: %v", err)
		}
		if err := s.Unlock(cli(), "carol"); err != nil {
			t.Fatal(err)
		}
		if err := login(pw); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
	})

	t.Run("every attempt is audited with its reason", func(t *testing.T) {
		var reasons []string
		for _, e := range auditLog(t, s, auth.AuditFilter{Action: auth.ActionLogin}) {
			r, _ := e.Detail["reason"].(string)
			reasons = append(reasons, string(e.Outcome)+":"+r)
		}
		want := "denied:unknown_user denied:bad_password denied:unknown_user denied:backoff ok: " +
			"denied:bad_password denied:bad_password denied:bad_password denied:bad_password denied:bad_password denied:locked ok: " +
			"denied:bad_password denied:bad_password denied:bad_password denied:bad_password denied:bad_password denied:locked ok:"
		if got := strings.Join(reasons, " "); got != want {
			t.Fatalf("login audit:\n got %s\nwant %s", got, want)
		}
	})
}

// TestConcurrentLogins signs in and fails to sign in from many goroutines
// at once: the store serialises its writes, so DuckDB's optimistic
// concurrency never turns a login into a conflict error.
func TestConcurrentLogins(t *testing.T) {
	s, clk, _ := mustStore(t)
	mustUser(t, s, "erin", auth.Scope{Role: auth.RoleNationalResearcher})
	mustUser(t, s, "finn", auth.Scope{Role: auth.RoleNationalResearcher})
	ctx := context.Background()
	errc := make(chan error, 16)
	for i := range 16 {
		go func() {
			var err error
			switch i % 2 {
			case 0:
				var ns auth.NewSession
				if ns, err = s.Login(ctx, "erin", pw, "127.0.0.1"); err == nil {
					_, _, err = s.Session(ctx, ns.ID)
				}
			case 1:
				if _, lerr := s.Login(ctx, "finn", "wrong password!!", "127.0.0.1"); lerr != auth.ErrLoginFailed {
					err = lerr
				}
			}
			errc <- err
		}()
	}
	for range 16 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	clk.Advance(time.Hour)
	if u, _ := s.User(ctx, "finn"); u.FailedLogins < 1 || u.FailedLogins > 8 {
		t.Errorf("finn has %d failures recorded, want 1 to 8 (back-off refuses some without counting)", u.FailedLogins)
	}
}
