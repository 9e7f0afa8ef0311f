package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/collate-project/collate/ingest/errs"
)

// SessionPolicy is how long a browser session lasts: Idle after its last use
// (sliding), and never more than Absolute after login. Last use is written at
// most once per TouchEvery, to keep requests from writing on every page.
type SessionPolicy struct {
	Idle       time.Duration
	Absolute   time.Duration
	TouchEvery time.Duration
}

func (p SessionPolicy) withDefaults() SessionPolicy {
	if p.Idle <= 0 {
		p.Idle = 30 * time.Minute
	}
	if p.Absolute <= 0 {
		p.Absolute = 12 * time.Hour
	}
	if p.TouchEvery <= 0 {
		p.TouchEvery = time.Minute
	}
	return p
}

// Session is a browser session as stored. Its id is only ever known to the
// browser's cookie; the store keeps its SHA-256.
type Session struct {
	IDHash            string
	UserID            int64
	CSRFSecret        []byte
	CreatedAt         time.Time
	LastSeen          time.Time
	ExpiresAt         time.Time
	AbsoluteExpiresAt time.Time
}

// CSRFToken returns a fresh token for a form of this session.
func (s Session) CSRFToken() string { return CSRFToken(s.CSRFSecret) }

// VerifyCSRF reports whether token was made by CSRFToken for this session.
func (s Session) VerifyCSRF(token string) bool { return VerifyCSRF(s.CSRFSecret, token) }

// NewSession is a session just started: ID is the cookie value, shown once.
type NewSession struct {
	ID string
	Session
	User User
}

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err)) // crypto/rand never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// createSession stores a new session for u with a random 32-byte id.
func (s *Store) createSession(ctx context.Context, u User, remote string) (NewSession, error) {
	id := randomToken(32)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return NewSession{}, fmt.Errorf("new session: %w", err)
	}
	now := s.clock()
	sess := Session{IDHash: sha256Hex(id), UserID: u.ID, CSRFSecret: secret, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(s.sessions.Idle), AbsoluteExpiresAt: now.Add(s.sessions.Absolute)}
	if sess.ExpiresAt.After(sess.AbsoluteExpiresAt) {
		sess.ExpiresAt = sess.AbsoluteExpiresAt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Sweep expired sessions now and then: at each login is often enough.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now); err != nil {
		return NewSession{}, fmt.Errorf("new session: sweep: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, last_seen, expires_at, absolute_expires_at, remote_addr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sess.IDHash, u.ID, secret, now, now, sess.ExpiresAt, sess.AbsoluteExpiresAt, remote); err != nil {
		return NewSession{}, fmt.Errorf("new session: %w", err)
	}
	return NewSession{ID: id, Session: sess, User: u}, nil
}

// errNoSession is the answer for a missing, unknown or expired session.
var errNoSession = errs.E(errs.Unauthenticated, "please sign in; your session has ended or was never started")

// Session finds the session whose cookie value is id and returns it with its
// principal, read afresh from the account so that a permission change or a
// disabled account takes effect on the next request. Using a session slides
// its expiry, never past its absolute expiry.
func (s *Store) Session(ctx context.Context, id string) (Session, Principal, error) {
	if id == "" || len(id) > 128 {
		return Session{}, Principal{}, errNoSession
	}
	var sess Session
	row := s.db.QueryRowContext(ctx, `SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at, s.last_seen, s.expires_at, s.absolute_expires_at
		FROM sessions s WHERE s.id_hash = ?`, sha256Hex(id))
	err := row.Scan(&sess.IDHash, &sess.UserID, &sess.CSRFSecret, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt, &sess.AbsoluteExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, Principal{}, errNoSession
	}
	if err != nil {
		return Session{}, Principal{}, fmt.Errorf("read session: %w", err)
	}
	now := s.clock()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.AbsoluteExpiresAt) {
		s.mu.Lock()
		_, _ = s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, sess.IDHash)
		s.mu.Unlock()
		return Session{}, Principal{}, errNoSession
	}
	rec, err := s.userRecord(ctx, `id = ?`, sess.UserID)
	if errs.KindOf(err) == errs.NotFound || (err == nil && rec.Disabled) {
		return Session{}, Principal{}, errNoSession
	}
	if err != nil {
		return Session{}, Principal{}, err
	}
	if now.Sub(sess.LastSeen) >= s.sessions.TouchEvery {
		sess.LastSeen = now
		sess.ExpiresAt = now.Add(s.sessions.Idle)
		if sess.ExpiresAt.After(sess.AbsoluteExpiresAt) {
			sess.ExpiresAt = sess.AbsoluteExpiresAt
		}
		s.mu.Lock()
		_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id_hash = ?`, sess.LastSeen, sess.ExpiresAt, sess.IDHash)
		s.mu.Unlock()
		if err != nil {
			// The session stays valid until its stored expiry; log and carry on.
			s.log.Warn("session touch failed", "error", err)
		}
	}
	return sess, rec.User.Principal(), nil
}

// csrfTokenBytes is the length of a CSRF nonce.
const csrfNonceBytes = 16

// NewCSRFSecret returns a random secret for CSRFToken, for forms shown before
// there is a session (the login form keeps it in a cookie of its own).
func NewCSRFSecret() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err))
	}
	return b
}

// CSRFToken derives a form token from secret: a random nonce and the
// HMAC-SHA256 of it under the secret. Each call gives a different token (so
// a compressed page does not leak the secret), and all of them verify.
func CSRFToken(secret []byte) string {
	nonce := make([]byte, csrfNonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(append(nonce, csrfMAC(secret, nonce)...))
}

// VerifyCSRF reports whether token was made by CSRFToken with secret. An
// empty secret never verifies.
func VerifyCSRF(secret []byte, token string) bool {
	if len(secret) == 0 || len(token) > 200 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != csrfNonceBytes+sha256.Size {
		return false
	}
	return hmac.Equal(raw[csrfNonceBytes:], csrfMAC(secret, raw[:csrfNonceBytes]))
}

func csrfMAC(secret, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("collate csrf v1\x00"))
	m.Write(nonce)
	return m.Sum(nil)
}
