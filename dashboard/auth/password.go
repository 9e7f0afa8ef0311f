package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/collate-project/collate/ingest/errs"
)

// Password rules. There is no upper bound on strength, only on size, so that
// a pass phrase of any sensible length works and a megabyte body cannot make
// the server hash forever.
const (
	MinPasswordLength = 12   // characters
	MaxPasswordLength = 1024 // bytes
)

// Argon2Params are the argon2id cost parameters. They are written into every
// hash, so raising them later leaves existing hashes verifiable.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 follows RFC 9106's second recommended option (64 MiB, 3
// passes), with 2 lanes to match the machine Collate is sized for.
var DefaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 3, Threads: 2, KeyLen: 32, SaltLen: 16}

// CheckPassword applies the password rules: at least MinPasswordLength
// characters, at most MaxPasswordLength bytes, valid UTF-8, and not the user
// name itself.
func CheckPassword(username, password string) error {
	switch {
	case !utf8.ValidString(password):
		return errs.E(errs.Invalid, "the password is not valid UTF-8 text")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return errs.E(errs.Invalid, "the password must have at least %d characters; a pass phrase of several words is easiest", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return errs.E(errs.Invalid, "the password must be at most %d bytes", MaxPasswordLength)
	case strings.EqualFold(strings.TrimSpace(password), username):
		return errs.E(errs.Invalid, "the password must not be the user name")
	}
	return nil
}

// HashPassword returns the PHC-style argon2id encoding of password with a new
// random salt: $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches an encoding made by
// HashPassword, comparing in constant time. A malformed encoding is an error.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p,
// so a successful login can upgrade it.
func NeedsRehash(encoded string, p Argon2Params) bool {
	q, salt, _, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	return q.Memory != p.Memory || q.Time != p.Time || q.Threads != p.Threads ||
		q.KeyLen != p.KeyLen || uint32(len(salt)) != p.SaltLen
}

func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("password hash: unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: bad parameters %q: %w", parts[3], err)
	}
	// Bounds keep a tampered row from making verification allocate gigabytes.
	if p.Memory < 8 || p.Memory > 4*1024*1024 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return p, nil, nil, fmt.Errorf("password hash: parameters out of range %q", parts[3])
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("password hash: bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("password hash: bad key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
