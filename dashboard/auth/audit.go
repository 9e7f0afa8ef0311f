package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/ingest/xlsx"
)

// Action names what an audit entry records.
type Action string

// The audited actions. Every sensitive action has one.
const (
	ActionUpload         Action = "review.upload"
	ActionSupersede      Action = "review.supersede"
	ActionWithdraw       Action = "review.withdraw"
	ActionDownload       Action = "download"
	ActionResearchQuery  Action = "research.query"
	ActionLogin          Action = "login"
	ActionLogout         Action = "logout"
	ActionUserAdd        Action = "user.add"
	ActionUserDisable    Action = "user.disable"
	ActionUserEnable     Action = "user.enable"
	ActionUserUnlock     Action = "user.unlock"
	ActionPasswordChange Action = "user.password"
	ActionPermission     Action = "user.permission"
	ActionTokenCreate    Action = "token.create"
	ActionTokenRevoke    Action = "token.revoke"
	ActionAuditExport    Action = "audit.export"
	ActionAccessDenied   Action = "access.denied"
)

// Outcome says how an audited action ended.
type Outcome string

// The outcomes.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeDenied Outcome = "denied" // refused: wrong password, out of scope, locked
	OutcomeFailed Outcome = "failed" // attempted but failed for another reason
)

// Entry is one row of the audit log: who did what, when, to what, from where.
type Entry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	ActorKind  ActorKind      `json:"actor_kind"`
	Action     Action         `json:"action"`
	Target     string         `json:"target"`
	Outcome    Outcome        `json:"outcome"`
	Detail     map[string]any `json:"detail"`
	RemoteAddr string         `json:"remote_addr"`
}

// Audit writes e to the audit log. Unset fields are filled in: At with the
// current time, Actor and ActorKind from the principal in ctx
// (WithPrincipal), RemoteAddr from ctx (WithRemoteAddr), Outcome with ok.
// Callers must treat a failure to audit as a failure of the action.
func (s *Store) Audit(ctx context.Context, e Entry) error {
	return s.AuditAll(ctx, []Entry{e})
}

// auditChunk is how many entries one INSERT writes.
const auditChunk = 200

// AuditAll writes entries in one transaction, filled in as Audit does; a
// bulk ingest of thousands of reviews costs a few statements, not one each.
func (s *Store) AuditAll(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	p, _ := PrincipalFrom(ctx)
	addr, now := remoteAddrFrom(ctx), s.clock()
	args := make([]any, 0, 8*min(len(entries), auditChunk))
	// An audit entry must be written even when the request that caused it
	// has just been cancelled.
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer tx.Rollback()
	for start := 0; start < len(entries); start += auditChunk {
		chunk := entries[start:min(start+auditChunk, len(entries))]
		args = args[:0]
		for _, e := range chunk {
			if e.Action == "" {
				return fmt.Errorf("audit: entry without an action")
			}
			if e.At.IsZero() {
				e.At = now
			}
			if e.Actor == "" {
				e.Actor = p.Actor()
			}
			if e.ActorKind == "" {
				e.ActorKind = p.Kind
			}
			if e.RemoteAddr == "" {
				e.RemoteAddr = addr
			}
			if e.Outcome == "" {
				e.Outcome = OutcomeOK
			}
			detail := []byte("{}")
			if len(e.Detail) > 0 {
				if detail, err = json.Marshal(e.Detail); err != nil {
					return fmt.Errorf("audit %s: detail: %w", e.Action, err)
				}
			}
			args = append(args, e.At.UTC(), e.Actor, string(e.ActorKind), string(e.Action), e.Target, string(e.Outcome), string(detail), e.RemoteAddr)
		}
		q := `INSERT INTO audit_log (occurred_at, actor, actor_kind, action, target, outcome, detail, remote_addr) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?), `, len(chunk)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("audit %s %s: %w", chunk[0].Action, chunk[0].Target, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditReceipts records what an upload did, one entry per file: an upload
// for a new review, a supersession for a new version of an existing one, and
// a failed upload for a rejected file. Unchanged files are not recorded.
func (s *Store) AuditReceipts(ctx context.Context, receipts []ingest.Receipt) error {
	var entries []Entry
	for _, r := range receipts {
		e := Entry{Target: r.ReviewID, Detail: map[string]any{"source": r.Source, "version": r.Version, "content_sha256": r.SHA256}}
		switch r.Outcome {
		case ingest.Added:
			e.Action = ActionUpload
		case ingest.Superseded:
			e.Action = ActionSupersede
		case ingest.Rejected:
			e.Action, e.Outcome = ActionUpload, OutcomeFailed
			if r.Err != nil {
				e.Detail["error"] = errs.Message(r.Err)
			}
		default:
			continue
		}
		entries = append(entries, e)
	}
	return s.AuditAll(ctx, entries)
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Actor        string    // exact
	Action       Action    // exact, or a prefix ending in "." such as "user."
	Target       string    // exact
	Outcome      Outcome
	Limit        int // newest first; default 1000, at most 100000
}

// AuditLog lists audit entries matching f, newest first. Only admins (and the
// command line) may read it.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]Entry, error) {
	if p, _ := PrincipalFrom(ctx); !p.IsAdmin() {
		return nil, errs.E(errs.Forbidden, "only admins can read the audit log")
	}
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, f.Until.UTC())
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(string(f.Action), ".") {
			where, args = append(where, "starts_with(action, ?)"), append(args, string(f.Action))
		} else {
			where, args = append(where, "action = ?"), append(args, string(f.Action))
		}
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, string(f.Outcome))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	limit = min(limit, 100000)
	q := `SELECT id, occurred_at, actor, actor_kind, action, target, outcome, detail, remote_addr FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY occurred_at DESC, id DESC LIMIT " + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var kind, action, outcome, detail string
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &kind, &action, &e.Target, &outcome, &detail, &e.RemoteAddr); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.ActorKind, e.Action, e.Outcome = ActorKind(kind), Action(action), Outcome(outcome)
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: entry %d: detail: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WriteAuditCSV writes entries as CSV with a header row. Every field passes
// through xlsx.SafeCell, so an actor or target chosen by an attacker (a user
// name typed at the login form, say) is never run as a spreadsheet formula.
func WriteAuditCSV(w io.Writer, entries []Entry) error {
	cw := xlsx.NewSafeCSVWriter(w)
	if err := cw.Write([]string{"id", "at", "actor", "actor_kind", "action", "target", "outcome", "detail", "remote_addr"}); err != nil {
		return err
	}
	for _, e := range entries {
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		if e.Detail == nil {
			detail = []byte("{}")
		}
		if err := cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, string(e.ActorKind),
			string(e.Action), e.Target, string(e.Outcome), string(detail), e.RemoteAddr}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteAuditJSON writes entries as one JSON document: {"entries": [...]}.
func WriteAuditJSON(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	for i := range entries {
		if entries[i].Detail == nil {
			entries[i].Detail = map[string]any{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Entries []Entry `json:"entries"`
	}{entries})
}

// scanNullTime reads a nullable timestamp into a zero time when NULL.
func scanNullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// AuditWithdraw records a withdrawal of a review and why.
func (s *Store) AuditWithdraw(ctx context.Context, reviewID, reason string) error {
	return s.Audit(ctx, Entry{Action: ActionWithdraw, Target: reviewID, Detail: map[string]any{"reason": reason}})
}
