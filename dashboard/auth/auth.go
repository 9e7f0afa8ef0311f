// Package auth owns who may do what in Collate: accounts and their roles and
// scopes, password login with back-off and lockout, browser sessions and
// their CSRF tokens, API tokens, the audit log, and the mapping from an
// authenticated principal to the viewer that analytics enforces scope and
// suppression for.
//
// It must not import gin or any HTTP framework: the dashboard's handlers and
// the collate command line both call it, and its tests need no server. It
// never decides what data a principal may see; that is analytics' job, given
// the principal's scope.
package auth

import (
	"context"
	"database/sql"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// Role is what kind of account a principal is.
type Role string

// The roles. Public is the anonymous visitor, when public access is enabled;
// no account or token ever has it.
const (
	RoleAdmin              Role = "admin"
	RoleNationalResearcher Role = "national_researcher"
	RoleRegionalAnalyst    Role = "regional_analyst"
	RoleBoardMember        Role = "board_member"
	RolePublic             Role = "public"
)

// Roles lists the roles an account may have, widest first.
func Roles() []Role {
	return []Role{RoleAdmin, RoleNationalResearcher, RoleRegionalAnalyst, RoleBoardMember}
}

// ParseRole reads a role name as typed on the command line or in a form.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	for _, ok := range Roles() {
		if r == ok {
			return r, nil
		}
	}
	return "", errs.E(errs.Invalid, "unknown role %q: use admin, national_researcher, regional_analyst or board_member", s)
}

// Scope is a role with the place it covers and whether figures come without
// suppression. A regional analyst has a Region; a board member has a Board
// and that board's Region.
type Scope struct {
	Role         Role   `json:"role"`
	Region       string `json:"region,omitempty"`
	Board        string `json:"board,omitempty"`
	Unsuppressed bool   `json:"unsuppressed,omitempty"`
}

// String is the scope as people read it: "board_member ENG-NE-NCL".
func (s Scope) String() string {
	out := string(s.Role)
	switch {
	case s.Board != "":
		out += " " + s.Board
	case s.Region != "":
		out += " " + s.Region
	}
	if s.Unsuppressed {
		out += " +unsuppressed"
	}
	return out
}

// Within reports whether s is no wider than owner: an API token's scope must
// be. An admin may hand out any scope; anyone else only their own role and
// place, optionally giving up the unsuppressed grant.
func (s Scope) Within(owner Scope) bool {
	if owner.Role == RoleAdmin {
		return true
	}
	return s.Role == owner.Role && s.Region == owner.Region && s.Board == owner.Board &&
		(!s.Unsuppressed || owner.Unsuppressed)
}

// normalize checks s against the role rules and the geography, filling a
// board member's region from the board.
func (s Scope) normalize(g *schemas.Geography) (Scope, error) {
	s.Region, s.Board = strings.TrimSpace(s.Region), strings.TrimSpace(s.Board)
	switch s.Role {
	case RoleAdmin, RoleNationalResearcher:
		if s.Region != "" || s.Board != "" {
			return s, errs.E(errs.Invalid, "a %s covers every collection: leave out --region and --board", s.Role)
		}
	case RoleRegionalAnalyst:
		if s.Board != "" {
			return s, errs.E(errs.Invalid, "a regional analyst is scoped to a region, not a board: leave out --board")
		}
		if s.Region == "" {
			return s, errs.E(errs.Invalid, "a regional analyst needs --region (a region code such as ENG-NE)")
		}
		if !hasRegion(g, s.Region) {
			return s, errs.E(errs.Invalid, "unknown region %q: use a region code from the geography, such as ENG-NE", s.Region)
		}
	case RoleBoardMember:
		if s.Board == "" {
			return s, errs.E(errs.Invalid, "a board member needs --board (a board code such as ENG-NE-NCL)")
		}
		p, ok := g.Board(s.Board)
		if !ok {
			return s, errs.E(errs.Invalid, "unknown board %q: use a board code from the geography, such as ENG-NE-NCL", s.Board)
		}
		if s.Region != "" && s.Region != p.Region {
			return s, errs.E(errs.Invalid, "board %s is in region %s, not %s: leave out --region", s.Board, p.Region, s.Region)
		}
		s.Region = p.Region
	default:
		return s, errs.E(errs.Invalid, "unknown role %q: use admin, national_researcher, regional_analyst or board_member", s.Role)
	}
	if s.Unsuppressed && s.Role != RoleNationalResearcher && s.Role != RoleAdmin {
		return s, errs.E(errs.Invalid, "only national researchers and admins can be granted unsuppressed figures; a %s already sees full detail inside its own scope", s.Role)
	}
	return s, nil
}

func hasRegion(g *schemas.Geography, code string) bool {
	for _, p := range g.Places() {
		if p.Region == code {
			return true
		}
	}
	return false
}

// ActorKind says how a principal proved who it is.
type ActorKind string

// The actor kinds recorded in the audit log.
const (
	KindUser      ActorKind = "user"      // a browser session
	KindToken     ActorKind = "token"     // an API token
	KindCLI       ActorKind = "cli"       // the collate command, run by someone with the database file
	KindAnonymous ActorKind = "anonymous" // nobody signed in
)

// Principal is an authenticated caller: who, how, and with what scope.
type Principal struct {
	Kind     ActorKind `json:"kind"`
	UserID   int64     `json:"user_id,omitempty"`
	Username string    `json:"username,omitempty"`
	TokenID  string    `json:"token_id,omitempty"`
	Scope
}

// Anonymous is the principal of a visitor who has not signed in. It may see
// only what public access allows, and only when public access is enabled.
func Anonymous() Principal {
	return Principal{Kind: KindAnonymous, Scope: Scope{Role: RolePublic}}
}

// CLI is the principal of the collate command. Whoever can open the database
// file can do anything, so it has the admin role; name says who ran it.
func CLI(name string) Principal {
	if name == "" {
		name = "cli"
	}
	return Principal{Kind: KindCLI, Username: name, Scope: Scope{Role: RoleAdmin}}
}

// Actor is the name written into the audit log.
func (p Principal) Actor() string {
	switch p.Kind {
	case KindAnonymous:
		return "anonymous"
	case KindToken:
		return p.Username + " (token " + p.TokenID + ")"
	}
	return p.Username
}

// IsAdmin reports whether p may manage accounts and read the audit log.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// CanUpload reports whether p may upload, supersede or withdraw reviews of
// board: admins for any board, board members for their own.
func (p Principal) CanUpload(board string) bool {
	return p.Role == RoleAdmin || (p.Role == RoleBoardMember && p.Board == board && board != "")
}

// CanResearchQuery reports whether p may run research SQL: national
// researchers and admins.
func (p Principal) CanResearchQuery() bool {
	return p.Role == RoleNationalResearcher || p.Role == RoleAdmin
}

// canManage reports whether p may manage accounts: the command line, or an
// admin signed in through a browser session. API tokens cannot, so that a
// leaked machine token never creates accounts.
func (p Principal) canManage() bool {
	return p.Kind == KindCLI || (p.Kind == KindUser && p.Role == RoleAdmin)
}

type principalKey struct{}
type remoteAddrKey struct{}

// WithPrincipal returns ctx carrying p; Store methods that change anything
// read it to authorise the change and to name the actor in the audit log.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or Anonymous and false.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	if !ok {
		return Anonymous(), false
	}
	return p, true
}

// WithRemoteAddr returns ctx carrying the client address for the audit log.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

func remoteAddrFrom(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

// Store is the access-control store over the tables of schemas/ddl/0010_auth.sql.
type Store struct {
	db       *sql.DB
	log      *slog.Logger
	now      func() time.Time
	argon    Argon2Params
	sessions SessionPolicy
	lockout  LockoutPolicy
	geo      *schemas.Geography

	// mu serialises this process's writes to the auth tables, so concurrent
	// logins never meet DuckDB's optimistic-concurrency conflicts.
	mu sync.Mutex
	// tokens keeps recently verified API tokens.
	tokens tokenMemo
	// hashing bounds concurrent argon2 runs, each taking Argon2Params.Memory.
	hashing chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// Options configures a Store. Zero fields take the defaults.
type Options struct {
	DB        *sql.DB
	Logger    *slog.Logger
	Now       func() time.Time
	Argon2    Argon2Params
	Sessions  SessionPolicy
	Lockout   LockoutPolicy
	Geography *schemas.Geography
	// MaxConcurrentHashes bounds parallel password hashing; default 2.
	MaxConcurrentHashes int
}

// New returns a Store over a migrated database (ingest.Migrate).
func New(opts Options) *Store {
	s := &Store{db: opts.DB, log: opts.Logger, now: opts.Now, argon: opts.Argon2,
		sessions: opts.Sessions.withDefaults(), lockout: opts.Lockout.withDefaults(), geo: opts.Geography}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	if s.geo == nil {
		s.geo = schemas.LoadGeography()
	}
	n := opts.MaxConcurrentHashes
	if n <= 0 {
		n = 2
	}
	s.hashing = make(chan struct{}, n)
	return s
}

// clock returns the current time as stored: UTC, to the microsecond.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// normalizeUsername lower-cases and checks a user name.
func normalizeUsername(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !usernameRE.MatchString(n) {
		return "", errs.E(errs.Invalid, "user name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)
	}
	return n, nil
}
