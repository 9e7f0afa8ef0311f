package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest/errs"
)

// Token lifetimes: every token expires.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

// tokenPrefix starts every API token, so a leaked one is easy to spot.
const tokenPrefix = "collate_"

// Token is an API token as stored; its secret is never kept.
type Token struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Scope
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Active reports whether the token works at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// TokenRequest asks for a new API token for Username.
type TokenRequest struct {
	Username string
	Name     string        // what it is for, such as "nightly upload"
	TTL      time.Duration // 0 means DefaultTokenTTL; at most MaxTokenTTL
	Scope    *Scope        // nil means the owner's own scope
}

// CreateToken makes an API token and returns it in full, as
// collate_<id>_<secret>: the only time the secret is ever shown. The
// command line and admins may create a token for anyone; a signed-in user
// for themselves. Its scope is never wider than its owner's (Scope.Within).
func (s *Store) CreateToken(ctx context.Context, req TokenRequest) (string, Token, error) {
	p, _ := PrincipalFrom(ctx)
	owner, err := s.User(ctx, req.Username)
	if err != nil {
		return "", Token{}, err
	}
	if !p.canManage() && !(p.Kind == KindUser && p.UserID == owner.ID) {
		if err := s.Audit(ctx, Entry{Action: ActionTokenCreate, Target: owner.Username, Outcome: OutcomeDenied}); err != nil {
			return "", Token{}, err
		}
		return "", Token{}, errs.E(errs.Forbidden, "you can create API tokens only for yourself")
	}
	if owner.Disabled {
		return "", Token{}, errs.E(errs.Conflict, "user %s is disabled", owner.Username)
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 100 {
		return "", Token{}, errs.E(errs.Invalid, "give the token a name of 1 to 100 characters saying what it is for")
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Minute || ttl > MaxTokenTTL {
		return "", Token{}, errs.E(errs.Invalid, "a token must expire between a minute and %d days from now", int(MaxTokenTTL/(24*time.Hour)))
	}
	scope := owner.Scope
	if req.Scope != nil {
		if scope, err = req.Scope.normalize(s.geo); err != nil {
			return "", Token{}, err
		}
	}
	if !scope.Within(owner.Scope) {
		return "", Token{}, errs.E(errs.Forbidden, "a token for %s cannot have scope %q: it is wider than the user's own (%s)", owner.Username, scope, owner.Scope)
	}
	// A signed-in user other than an admin can only narrow their own scope,
	// and an admin's session cannot mint a scope wider than the admin's
	// own: Within already says so for the owner; check the creator too.
	if p.Kind != KindCLI && !scope.Within(p.Scope) {
		return "", Token{}, errs.E(errs.Forbidden, "you cannot create a token wider than your own scope")
	}
	idb := make([]byte, 8)
	secretb := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, fmt.Errorf("new token: %w", err)
	}
	if _, err := rand.Read(secretb); err != nil {
		return "", Token{}, fmt.Errorf("new token: %w", err)
	}
	id, secret := hex.EncodeToString(idb), hex.EncodeToString(secretb)
	now := s.clock()
	t := Token{ID: id, Name: name, UserID: owner.ID, Username: owner.Username, Scope: scope,
		ExpiresAt: now.Add(ttl), CreatedAt: now, CreatedBy: p.Actor()}
	s.mu.Lock()
	_, err = s.db.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, secret_hash, name, role, scope_region, scope_board,
		unsuppressed_grant, expires_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, owner.ID, sha256Hex(secret), name, string(scope.Role), nullString(scope.Region), nullString(scope.Board),
		scope.Unsuppressed, t.ExpiresAt, now, t.CreatedBy)
	s.mu.Unlock()
	if err != nil {
		return "", Token{}, fmt.Errorf("new token for %s: %w", owner.Username, err)
	}
	if err := s.Audit(ctx, Entry{Action: ActionTokenCreate, Target: id, Detail: map[string]any{
		"owner": owner.Username, "name": name, "scope": scope.String(), "expires_at": t.ExpiresAt.Format(time.RFC3339)}}); err != nil {
		return "", Token{}, err
	}
	return tokenPrefix + id + "_" + secret, t, nil
}

// errBadToken is the answer for every token that does not work.
var errBadToken = errs.E(errs.Unauthenticated, "the API token is not valid: it may be mistyped, expired or revoked")

// VerifyToken checks a bearer token and returns its principal: the owner,
// with the token's scope. A token stops working when it expires, is revoked,
// its owner is disabled, or its scope has become wider than its owner's.
func (s *Store) VerifyToken(ctx context.Context, token string) (Principal, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > 200 {
		return Principal{}, errBadToken
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 64 {
		return Principal{}, errBadToken
	}
	now := s.clock()
	secretHash := sha256Hex(secret)
	if v, ok := s.tokens.get(id, secretHash, now); ok {
		s.touchToken(ctx, id, v.tok.LastUsedAt, now)
		return v.p, nil
	}
	gen := s.tokens.generation()
	t, hash, err := s.token(ctx, id)
	if errs.KindOf(err) == errs.NotFound {
		return Principal{}, errBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(secretHash), []byte(hash)) != 1 {
		return Principal{}, errBadToken
	}
	if !t.Active(now) {
		return Principal{}, errBadToken
	}
	owner, err := s.userRecord(ctx, `id = ?`, t.UserID)
	if errs.KindOf(err) == errs.NotFound {
		return Principal{}, errBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	if owner.Disabled || !t.Scope.Within(owner.Scope) {
		return Principal{}, errBadToken
	}
	p := Principal{Kind: KindToken, UserID: owner.ID, Username: owner.Username, TokenID: id, Scope: t.Scope}
	last := s.touchToken(ctx, id, t.LastUsedAt, now)
	t.LastUsedAt = last
	s.tokens.put(gen, id, verifiedToken{hash: hash, tok: t, p: p, at: now})
	return p, nil
}

// touchToken records that the token id was used at now, at most once a
// minute, and returns when it was last recorded as used.
func (s *Store) touchToken(ctx context.Context, id string, last, now time.Time) time.Time {
	if !last.IsZero() && now.Sub(last) < time.Minute {
		return last
	}
	s.mu.Lock()
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id)
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("token last-used update failed", "token_id", id, "error", err)
		return last
	}
	s.tokens.touched(id, now)
	return now
}

// RevokeToken revokes the token with id. Admins and the command line may
// revoke any token; a signed-in user their own.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	id = strings.TrimPrefix(strings.TrimSpace(id), tokenPrefix)
	if i := strings.IndexByte(id, '_'); i >= 0 { // a whole token pasted in
		id = id[:i]
	}
	t, _, err := s.token(ctx, id)
	if err != nil {
		return err
	}
	p, _ := PrincipalFrom(ctx)
	if !p.canManage() && !(p.Kind == KindUser && p.UserID == t.UserID) {
		if err := s.Audit(ctx, Entry{Action: ActionTokenRevoke, Target: id, Outcome: OutcomeDenied}); err != nil {
			return err
		}
		return errs.E(errs.NotFound, "no token %s", id) // do not confirm that others' tokens exist
	}
	if !t.RevokedAt.IsZero() {
		return nil
	}
	s.mu.Lock()
	_, err = s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, s.clock(), id)
	s.tokens.forget()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return s.Audit(ctx, Entry{Action: ActionTokenRevoke, Target: id, Detail: map[string]any{"owner": t.Username, "name": t.Name}})
}

// Tokens lists the tokens of username, or of everyone when it is empty,
// newest first. Non-admins see only their own.
func (s *Store) Tokens(ctx context.Context, username string) ([]Token, error) {
	p, _ := PrincipalFrom(ctx)
	if !p.canManage() {
		if p.Kind != KindUser {
			return nil, errs.E(errs.Forbidden, "sign in to list API tokens")
		}
		username = p.Username
	}
	q := `SELECT ` + tokenColumns + ` FROM api_tokens t JOIN users u ON u.id = t.user_id`
	var args []any
	if username != "" {
		q += ` WHERE u.username = ?`
		args = append(args, strings.ToLower(strings.TrimSpace(username)))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY t.created_at DESC, t.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, _, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const tokenColumns = `t.id, t.name, t.user_id, u.username, t.role, t.scope_region, t.scope_board, t.unsuppressed_grant,
	t.expires_at, t.revoked_at, t.created_at, t.created_by, t.last_used_at, t.secret_hash`

func (s *Store) token(ctx context.Context, id string) (Token, string, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id)
	t, hash, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, "", errs.E(errs.NotFound, "no token %s", id)
	}
	if err != nil {
		return Token{}, "", fmt.Errorf("read token %s: %w", id, err)
	}
	return t, hash, nil
}

func scanToken(row scanner) (Token, string, error) {
	var t Token
	var role, hash string
	var region, board sql.NullString
	var revoked, used sql.NullTime
	if err := row.Scan(&t.ID, &t.Name, &t.UserID, &t.Username, &role, &region, &board, &t.Unsuppressed,
		&t.ExpiresAt, &revoked, &t.CreatedAt, &t.CreatedBy, &used, &hash); err != nil {
		return t, "", err
	}
	t.Role, t.Region, t.Board = Role(role), region.String, board.String
	t.ExpiresAt, t.CreatedAt = t.ExpiresAt.UTC(), t.CreatedAt.UTC()
	t.RevokedAt, t.LastUsedAt = scanNullTime(revoked), scanNullTime(used)
	return t, hash, nil
}
