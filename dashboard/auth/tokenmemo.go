package auth

import (
	"crypto/subtle"
	"sync"
	"time"
)

// tokenRecheck is how long a verified API token is trusted without reading
// it and its owner from the store again.
const tokenRecheck = 5 * time.Second

// maxMemoTokens bounds the tokens kept; past it the memo starts afresh.
const maxMemoTokens = 10000

// tokenMemo keeps the API tokens verified in the last tokenRecheck, so that
// a client's requests do not each read its token and owner from DuckDB
// (two reads, a quarter of the cost of a request answered from the cache).
// Every change this process makes to an account or a token forgets them
// all, and a verification that began before such a change is not kept, so
// a revocation, a disabled account or a narrower scope takes effect at
// once. While the server runs it holds the store, so no other process can
// make such a change; tokenRecheck bounds it anyway.
type tokenMemo struct {
	mu  sync.Mutex
	gen uint64 // bumped by forget
	m   map[string]verifiedToken
}

// verifiedToken is a token as verified against the store at a time.
type verifiedToken struct {
	hash string // the secret's SHA-256, as stored
	tok  Token
	p    Principal
	at   time.Time
}

// generation returns the memo's generation, to pass to put.
func (m *tokenMemo) generation() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen
}

// get returns the principal of the token id with the secret's hash when it
// was verified within tokenRecheck of now and is still active.
func (m *tokenMemo) get(id, hash string, now time.Time) (verifiedToken, bool) {
	m.mu.Lock()
	v, ok := m.m[id]
	m.mu.Unlock()
	if !ok || now.Sub(v.at) >= tokenRecheck || now.Before(v.at) || !v.tok.Active(now) {
		return verifiedToken{}, false
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(v.hash)) != 1 {
		return verifiedToken{}, false
	}
	return v, true
}

// put keeps a verification that began at generation gen, unless something
// was forgotten since.
func (m *tokenMemo) put(gen uint64, id string, v verifiedToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return
	}
	if m.m == nil || len(m.m) >= maxMemoTokens {
		m.m = map[string]verifiedToken{}
	}
	m.m[id] = v
}

// forget drops every verified token.
func (m *tokenMemo) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.m = nil
}

// touched notes that the token id's use at now has been recorded.
func (m *tokenMemo) touched(id string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.m[id]; ok {
		v.tok.LastUsedAt = now
		m.m[id] = v
	}
}
