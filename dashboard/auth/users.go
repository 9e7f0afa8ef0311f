package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest/errs"
)

// User is an account as stored, without its password hash.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	Scope
	Disabled     bool      `json:"disabled"`
	HasPassword  bool      `json:"has_password"`
	FailedLogins int       `json:"failed_logins"`
	LockedUntil  time.Time `json:"locked_until,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Principal returns the principal of u signed in through a browser session.
func (u User) Principal() Principal {
	return Principal{Kind: KindUser, UserID: u.ID, Username: u.Username, Scope: u.Scope}
}

// NewUser is what AddUser needs. Password may be empty only for an account
// that signs in through single sign-on; there is never a default password.
type NewUser struct {
	Username string
	Email    string
	Password string
	Scope
}

// AddUser creates an account. Only admins (or the command line) may.
func (s *Store) AddUser(ctx context.Context, nu NewUser) (User, error) {
	if err := s.authorizeManage(ctx, ActionUserAdd, nu.Username); err != nil {
		return User{}, err
	}
	name, err := normalizeUsername(nu.Username)
	if err != nil {
		return User{}, err
	}
	scope, err := nu.Scope.normalize(s.geo)
	if err != nil {
		return User{}, err
	}
	var hash sql.NullString
	if nu.Password != "" {
		if err := CheckPassword(name, nu.Password); err != nil {
			return User{}, err
		}
		h, err := s.hash(ctx, nu.Password)
		if err != nil {
			return User{}, err
		}
		hash = sql.NullString{String: h, Valid: true}
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.userByName(ctx, name); err == nil {
		return User{}, errs.E(errs.Conflict, "user %s already exists", name)
	} else if errs.KindOf(err) != errs.NotFound {
		return User{}, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO users (username, email, password_hash, role, scope_region, scope_board,
		unsuppressed_grant, password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		name, nullString(nu.Email), hash, string(scope.Role), nullString(scope.Region), nullString(scope.Board),
		scope.Unsuppressed, nullTimeIf(hash.Valid, now), now, now); err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	u, err := s.userByName(ctx, name)
	if err != nil {
		return User{}, err
	}
	return u, s.Audit(ctx, Entry{Action: ActionUserAdd, Target: name, Detail: map[string]any{"scope": scope.String(), "has_password": hash.Valid}})
}

// User returns the account called name.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	n, err := normalizeUsername(name)
	if err != nil {
		return User{}, errs.E(errs.NotFound, "no user %s", name)
	}
	return s.userByName(ctx, n)
}

// Users lists every account, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetDisabled disables or re-enables an account. Disabling ends its sessions
// at once; its API tokens stop working while it stays disabled. The last
// enabled admin cannot be disabled.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) error {
	action := ActionUserDisable
	if !disabled {
		action = ActionUserEnable
	}
	return s.changeUser(ctx, action, name, func(u User) (map[string]any, error) {
		if disabled && u.Role == RoleAdmin && !u.Disabled {
			if err := s.keepAnAdmin(ctx, u.ID); err != nil {
				return nil, err
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, disabled, s.clock(), u.ID); err != nil {
			return nil, err
		}
		if disabled {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// SetScope changes an account's role, place and unsuppressed grant: a
// permission change. Sessions keep working with the new scope, since every
// request reads it afresh; API tokens wider than the new scope stop working.
func (s *Store) SetScope(ctx context.Context, name string, scope Scope) error {
	scope, err := scope.normalize(s.geo)
	if err != nil {
		return err
	}
	return s.changeUser(ctx, ActionPermission, name, func(u User) (map[string]any, error) {
		if u.Role == RoleAdmin && scope.Role != RoleAdmin && !u.Disabled {
			if err := s.keepAnAdmin(ctx, u.ID); err != nil {
				return nil, err
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET role = ?, scope_region = ?, scope_board = ?, unsuppressed_grant = ?, updated_at = ? WHERE id = ?`,
			string(scope.Role), nullString(scope.Region), nullString(scope.Board), scope.Unsuppressed, s.clock(), u.ID); err != nil {
			return nil, err
		}
		return map[string]any{"from": u.Scope.String(), "to": scope.String()}, nil
	})
}

// SetPassword replaces an account's password and ends its sessions.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	n, err := normalizeUsername(name)
	if err != nil {
		return err
	}
	if err := CheckPassword(n, password); err != nil {
		return err
	}
	// Hash before taking the write lock: hashing is the slow part.
	h, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.changeUser(ctx, ActionPasswordChange, name, func(u User) (map[string]any, error) {
		now := s.clock()
		if _, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0,
			locked_until = NULL, last_failed_at = NULL, updated_at = ? WHERE id = ?`, h, now, now, u.ID); err != nil {
			return nil, err
		}
		_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID)
		return nil, err
	})
}

// Unlock clears an account's failed logins and lockout.
func (s *Store) Unlock(ctx context.Context, name string) error {
	return s.changeUser(ctx, ActionUserUnlock, name, func(u User) (map[string]any, error) {
		_, err := s.db.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_failed_at = NULL, updated_at = ? WHERE id = ?`, s.clock(), u.ID)
		return map[string]any{"failed_logins": u.FailedLogins}, err
	})
}

// changeUser authorises, applies and audits one change to an account.
func (s *Store) changeUser(ctx context.Context, action Action, name string, apply func(User) (map[string]any, error)) error {
	if err := s.authorizeManage(ctx, action, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	defer s.tokens.forget()
	detail, err := apply(u)
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return err
		}
		return fmt.Errorf("%s %s: %w", action, u.Username, err)
	}
	return s.Audit(ctx, Entry{Action: action, Target: u.Username, Detail: detail})
}

// authorizeManage refuses account management to anyone but an admin's
// session or the command line, and audits the refusal.
func (s *Store) authorizeManage(ctx context.Context, action Action, target string) error {
	p, _ := PrincipalFrom(ctx)
	if p.canManage() {
		return nil
	}
	if err := s.Audit(ctx, Entry{Action: action, Target: target, Outcome: OutcomeDenied}); err != nil {
		return err
	}
	return errs.E(errs.Forbidden, "only an admin can manage accounts")
}

// keepAnAdmin refuses a change that would leave no enabled admin but id.
func (s *Store) keepAnAdmin(ctx context.Context, id int64) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.Conflict, "this is the last enabled admin; add another admin first")
	}
	return nil
}

const userColumns = `id, username, email, password_hash, role, scope_region, scope_board, unsuppressed_grant,
	disabled, failed_logins, last_failed_at, locked_until, created_at, updated_at`

// userRecord is a user with the fields only login needs.
type userRecord struct {
	User
	hash         string
	lastFailedAt time.Time
}

func (s *Store) userByName(ctx context.Context, name string) (User, error) {
	r, err := s.userRecord(ctx, `username = ?`, name)
	return r.User, err
}

func (s *Store) userRecord(ctx context.Context, where string, arg any) (userRecord, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg)
	u, rec, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return userRecord{}, errs.E(errs.NotFound, "no user %v", arg)
	}
	if err != nil {
		return userRecord{}, fmt.Errorf("read user %v: %w", arg, err)
	}
	rec.User = u
	return rec, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (User, userRecord, error) {
	var u User
	var rec userRecord
	var email, hash, region, board sql.NullString
	var role string
	var lastFailed, locked sql.NullTime
	if err := row.Scan(&u.ID, &u.Username, &email, &hash, &role, &region, &board, &u.Unsuppressed,
		&u.Disabled, &u.FailedLogins, &lastFailed, &locked, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return u, rec, err
	}
	u.Email, u.Role, u.Region, u.Board = email.String, Role(role), region.String, board.String
	u.HasPassword = hash.Valid
	u.LockedUntil = scanNullTime(locked)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	rec.hash, rec.lastFailedAt = hash.String, scanNullTime(lastFailed)
	return u, rec, nil
}

func nullString(s string) sql.NullString {
	s = strings.TrimSpace(s)
	return sql.NullString{String: s, Valid: s != ""}
}

func nullTimeIf(ok bool, t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: ok} }

// hash hashes a password, waiting for a free hashing slot.
func (s *Store) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return HashPassword(password, s.argon)
}

func (s *Store) acquireHash(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errs.Wrap(errs.Unavailable, ctx.Err(), "the server is busy; try again")
	}
}
