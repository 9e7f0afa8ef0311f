package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collate-project/collate/ingest/errs"
)

// LockoutPolicy is how repeated failed logins slow an account down. After
// each failure the next attempt must wait BackoffBase × 2^(failures-1), at
// most BackoffMax; after MaxFailures failures in a row the account is locked
// for LockFor, and each further failure locks it again. A successful login
// or an admin's unlock clears the count.
type LockoutPolicy struct {
	MaxFailures int
	LockFor     time.Duration
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = 5
	}
	if p.LockFor <= 0 {
		p.LockFor = 15 * time.Minute
	}
	if p.BackoffBase <= 0 {
		p.BackoffBase = time.Second
	}
	if p.BackoffMax <= 0 {
		p.BackoffMax = time.Minute
	}
	return p
}

// Backoff is how long to wait after the given number of consecutive failures.
func (p LockoutPolicy) Backoff(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := p.BackoffBase
	for i := 1; i < failures && d < p.BackoffMax; i++ {
		d *= 2
	}
	return min(d, p.BackoffMax)
}

// ErrLoginFailed is the one answer to every failed login, whatever the
// reason: no such user, wrong password, disabled, locked or backing off. The
// reason goes to the audit log, never to the client.
var ErrLoginFailed = errs.E(errs.Unauthenticated,
	"the user name or password is not right, or the account is paused after repeated failures; wait a while and try again")

// Login checks a user name and password and starts a session. Every failure
// returns ErrLoginFailed after the same work (one argon2id verification), so
// the answer and its timing do not reveal whether an account exists. Every
// attempt is audited. remote is the client address, for the audit log.
func (s *Store) Login(ctx context.Context, username, password, remote string) (NewSession, error) {
	ctx = WithRemoteAddr(ctx, remote)
	if err := s.acquireHash(ctx); err != nil {
		return NewSession{}, err
	}
	rec, reason, err := s.checkLogin(ctx, username, password)
	<-s.hashing
	if err != nil {
		return NewSession{}, err
	}
	attempted := truncate(username, 64)
	if reason != "" {
		detail := map[string]any{"reason": reason}
		if rec.ID != 0 && reason == "bad_password" {
			failures, locked, err := s.recordFailure(ctx, rec.ID)
			if err != nil {
				return NewSession{}, err
			}
			detail["failures"] = failures
			if !locked.IsZero() {
				detail["locked_until"] = locked.Format(time.RFC3339)
			}
		}
		if err := s.Audit(ctx, Entry{Actor: attempted, ActorKind: KindAnonymous, Action: ActionLogin, Target: attempted,
			Outcome: OutcomeDenied, Detail: detail}); err != nil {
			return NewSession{}, err
		}
		return NewSession{}, ErrLoginFailed
	}
	if err := s.recordSuccess(ctx, rec, password); err != nil {
		return NewSession{}, err
	}
	ns, err := s.createSession(ctx, rec.User, remote)
	if err != nil {
		return NewSession{}, err
	}
	if err := s.Audit(WithPrincipal(ctx, rec.User.Principal()), Entry{Action: ActionLogin, Target: rec.Username}); err != nil {
		return NewSession{}, err
	}
	return ns, nil
}

// checkLogin does exactly one password verification whatever happens, and
// says why the login fails ("" when it succeeds).
func (s *Store) checkLogin(ctx context.Context, username, password string) (userRecord, string, error) {
	now := s.clock()
	rec, err := userRecord{}, error(nil)
	name, nerr := normalizeUsername(username)
	if nerr == nil {
		rec, err = s.userRecord(ctx, `username = ?`, name)
	} else {
		err = errs.E(errs.NotFound, "bad user name")
	}
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return rec, "", err
	}
	reason := ""
	switch {
	case err != nil:
		reason = "unknown_user"
	case rec.hash == "":
		reason = "no_password"
	case rec.Disabled:
		reason = "disabled"
	case now.Before(rec.LockedUntil):
		reason = "locked"
	case rec.FailedLogins > 0 && now.Before(rec.lastFailedAt.Add(s.lockout.Backoff(rec.FailedLogins))):
		reason = "backoff"
	case len(password) > MaxPasswordLength:
		reason = "bad_password"
	}
	if reason != "" {
		_, _ = VerifyPassword(s.dummyHash(), password[:min(len(password), MaxPasswordLength)])
		return rec, reason, nil
	}
	ok, verr := VerifyPassword(rec.hash, password)
	if verr != nil {
		return rec, "", fmt.Errorf("login %s: %w", rec.Username, verr)
	}
	if !ok {
		return rec, "bad_password", nil
	}
	return rec, "", nil
}

// dummyHash is a hash of a random password made with the store's
// parameters, verified when there is no real hash to check, so that failing
// fast never shows.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword(randomToken(24), s.argon)
		if err != nil {
			panic(fmt.Sprintf("auth: dummy hash: %v", err))
		}
		s.dummy = h
	})
	return s.dummy
}

// recordFailure counts a wrong password and locks the account once the count
// reaches the policy's maximum.
func (s *Store) recordFailure(ctx context.Context, id int64) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var failures int
	if err := s.db.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE id = ? RETURNING failed_logins`,
		now, id).Scan(&failures); err != nil {
		return 0, time.Time{}, fmt.Errorf("record failed login: %w", err)
	}
	var locked time.Time
	if failures >= s.lockout.MaxFailures {
		locked = now.Add(s.lockout.LockFor)
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, locked, id); err != nil {
			return 0, time.Time{}, fmt.Errorf("lock account: %w", err)
		}
	}
	return failures, locked, nil
}

// recordSuccess clears the failure count and upgrades an old hash.
func (s *Store) recordSuccess(ctx context.Context, rec userRecord, password string) error {
	var newHash string
	if NeedsRehash(rec.hash, s.argon) {
		h, err := s.hash(ctx, password)
		if err != nil {
			return err
		}
		newHash = h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.FailedLogins > 0 || !rec.LockedUntil.IsZero() {
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_failed_at = NULL WHERE id = ?`, rec.ID); err != nil {
			return fmt.Errorf("clear failed logins: %w", err)
		}
	}
	if newHash != "" {
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, newHash, rec.ID); err != nil {
			return fmt.Errorf("upgrade password hash: %w", err)
		}
	}
	return nil
}

// Logout ends the session whose cookie value is id, and audits it. An
// unknown or expired id is not an error: the session is gone either way.
func (s *Store) Logout(ctx context.Context, id string) error {
	sess, p, err := s.Session(ctx, id)
	if err != nil {
		if errors.Is(err, errs.ErrUnauthenticated) {
			return nil
		}
		return err
	}
	s.mu.Lock()
	_, err = s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, sess.IDHash)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return s.Audit(WithPrincipal(ctx, p), Entry{Action: ActionLogout, Target: p.Username})
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
