package auth_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// TestAuditEveryAction does each audited action once, through the same calls
// the dashboard and the command line make, and reads the log back.
func TestAuditEveryAction(t *testing.T) {
	s, clk, db := mustStore(t)
	ctx := auth.WithRemoteAddr(cli(), "127.0.0.5")

	type step struct {
		name    string
		do      func(t *testing.T)
		want    []string // action/outcome/target
		wantTag string   // a detail key that must be set on the last entry
	}
	var tokID, sessID string
	steps := []step{
		{"user add", func(t *testing.T) {
			if _, err := s.AddUser(ctx, auth.NewUser{Username: "dora", Password: pw, Scope: auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}}); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.add/ok/dora"}, "scope"},
		{"failed login", func(t *testing.T) {
			if _, err := s.Login(context.Background(), "dora", "not the password", "127.0.0.6"); err != auth.ErrLoginFailed {
				t.Fatal(err)
			}
		}, []string{"login/denied/dora"}, "reason"},
		{"login", func(t *testing.T) {
			clk.Advance(time.Minute)
			ns, err := s.Login(context.Background(), "dora", pw, "127.0.0.6")
			if err != nil {
				t.Fatal(err)
			}
			sessID = ns.ID
		}, []string{"login/ok/dora"}, ""},
		{"logout", func(t *testing.T) {
			if err := s.Logout(context.Background(), sessID); err != nil {
				t.Fatal(err)
			}
		}, []string{"logout/ok/dora"}, ""},
		{"permission change", func(t *testing.T) {
			if err := s.SetScope(ctx, "dora", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.permission/ok/dora"}, "to"},
		{"password change", func(t *testing.T) {
			if err := s.SetPassword(ctx, "dora", pw+" again"); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.password/ok/dora"}, ""},
		{"unlock", func(t *testing.T) {
			if err := s.Unlock(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.unlock/ok/dora"}, ""},
		{"token create", func(t *testing.T) {
			_, info, err := s.CreateToken(ctx, auth.TokenRequest{Username: "dora", Name: "upload"})
			if err != nil {
				t.Fatal(err)
			}
			tokID = info.ID
		}, []string{"token.create/ok/*"}, "owner"},
		{"token revoke", func(t *testing.T) {
			if err := s.RevokeToken(ctx, tokID); err != nil {
				t.Fatal(err)
			}
		}, []string{"token.revoke/ok/*"}, "owner"},
		{"user disable", func(t *testing.T) {
			if err := s.SetDisabled(ctx, "dora", true); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.disable/ok/dora"}, ""},
		{"user enable", func(t *testing.T) {
			if err := s.SetDisabled(ctx, "dora", false); err != nil {
				t.Fatal(err)
			}
		}, []string{"user.enable/ok/dora"}, ""},
		{"upload, supersession and a rejected upload", func(t *testing.T) {
			w := ingest.NewWriter(ingest.WriterOptions{DB: db})
			first := example(t, "A-1")
			changed := example(t, "A-1")
			changed.Review.Questions = []string{"A different question"}
			other := example(t, "A-1")
			other.Review.Board, other.Review.Region, other.Review.Nation = "WLS-CV-CRF", "WLS-CV", "WLS"
			var rs []ingest.Receipt
			for _, e := range []*ingest.Export{first, first, changed, other} {
				r, err := w.Write(ctx, []ingest.Item{{Export: e, Source: "a1.json", Format: "json", By: "dora"}})
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r...)
			}
			if err := s.AuditReceipts(ctx, rs); err != nil {
				t.Fatal(err)
			}
		}, []string{"review.upload/ok/A-1", "review.supersede/ok/A-1", "review.upload/failed/A-1"}, "error"},
		{"withdrawal", func(t *testing.T) {
			if err := s.AuditWithdraw(ctx, "A-1", "consent withdrawn"); err != nil {
				t.Fatal(err)
			}
		}, []string{"review.withdraw/ok/A-1"}, "reason"},
		{"download and research query", func(t *testing.T) {
			for _, a := range []auth.Action{auth.ActionDownload, auth.ActionResearchQuery} {
				if err := s.Audit(ctx, auth.Entry{Action: a, Target: "x"}); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"download/ok/x", "research.query/ok/x"}, ""},
		{"refused management", func(t *testing.T) {
			asToken := auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.KindToken, Username: "dora", TokenID: "t", Scope: auth.Scope{Role: auth.RoleAdmin}})
			if _, err := s.AddUser(asToken, auth.NewUser{Username: "eve", Password: pw, Scope: auth.Scope{Role: auth.RoleAdmin}}); errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("token adds an admin: %v", err)
			}
		}, []string{"user.add/denied/eve"}, ""},
	}
	seen := 0
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			all := auditLog(t, s, auth.AuditFilter{})
			got := all[seen:]
			seen = len(all)
			var short []string
			for _, e := range got {
				target := e.Target
				if strings.HasSuffix(st.want[0], "*") {
					target = "*"
				}
				short = append(short, string(e.Action)+"/"+string(e.Outcome)+"/"+target)
				if e.At.IsZero() || e.Actor == "" || e.ActorKind == "" {
					t.Errorf("entry without who or when: %+v", e)
				}
			}
			if diff := cmp.Diff(st.want, short); diff != "" {
				t.Fatalf("audit entries (-want +got):\n%s", diff)
			}
			if st.wantTag != "" {
				if _, ok := got[len(got)-1].Detail[st.wantTag]; !ok {
					t.Errorf("last entry has no detail %q: %+v", st.wantTag, got[len(got)-1])
				}
			}
		})
	}

	t.Run("who and where", func(t *testing.T) {
		es := auditLog(t, s, auth.AuditFilter{Action: auth.ActionLogin})
		if es[0].ActorKind != auth.KindAnonymous || es[0].RemoteAddr != "127.0.0.6" {
			t.Errorf("failed login: %+v", es[0])
		}
		if es[1].ActorKind != auth.KindUser || es[1].Actor != "dora" || es[1].RemoteAddr != "127.0.0.6" {
			t.Errorf("login: %+v", es[1])
		}
		add := auditLog(t, s, auth.AuditFilter{Action: auth.ActionUserAdd, Outcome: auth.OutcomeOK})
		if len(add) != 1 || add[0].Actor != "tester" || add[0].ActorKind != auth.KindCLI || add[0].RemoteAddr != "127.0.0.5" {
			t.Errorf("user add: %+v", add)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    auth.AuditFilter
			want int
		}{
			{"prefix", auth.AuditFilter{Action: "user."}, 7},
			{"actor", auth.AuditFilter{Actor: "dora"}, 3}, // failed login, login, logout
			{"target", auth.AuditFilter{Target: "A-1"}, 4},
			{"outcome", auth.AuditFilter{Outcome: auth.OutcomeDenied}, 2},
			{"since the clock moved", auth.AuditFilter{Since: newClock().Now().Add(time.Minute)}, 16},
			{"until", auth.AuditFilter{Until: newClock().Now().Add(time.Second)}, 2},
			{"limit", auth.AuditFilter{Limit: 3}, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := len(auditLog(t, s, tc.f)); got != tc.want {
					t.Fatalf("%d entries, want %d", got, tc.want)
				}
			})
		}
	})

	t.Run("only admins read it", func(t *testing.T) {
		asResearcher := auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.KindUser, Username: "n", Scope: auth.Scope{Role: auth.RoleNationalResearcher}})
		if _, err := s.AuditLog(asResearcher, auth.AuditFilter{}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("researcher reads the audit log: %v", err)
		}
	})
}

func example(t *testing.T, id string) *ingest.Export {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	e.Review.ID = id
	return &e
}

func TestAuditExport(t *testing.T) {
	s, _, _ := mustStore(t)
	// A user name typed at the login form lands in the log as the actor.
	for _, name := range []string{"=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "plain"} {
		if _, err := s.Login(context.Background(), name, "whatever whatever", "127.0.0.1"); err != auth.ErrLoginFailed {
			t.Fatal(err)
		}
	}
	es := auditLog(t, s, auth.AuditFilter{})

	var b bytes.Buffer
	if err := auth.WriteAuditCSV(&b, es); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(es)+1 || recs[0][2] != "actor" {
		t.Fatalf("csv has %d rows, header %v", len(recs), recs[0])
	}
	var actors []string
	for _, r := range recs[1:] {
		actors = append(actors, r[2])
		for _, f := range r {
			if f != "" && strings.ContainsRune("=+-@", rune(f[0])) {
				t.Errorf("field %q would run as a formula", f)
			}
		}
	}
	want := []string{"'=HYPERLINK(\"http://x\",\"y\")", "'+1+cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3", "plain"}
	if diff := cmp.Diff(want, actors); diff != "" {
		t.Errorf("csv actors (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := auth.WriteAuditJSON(&b, es); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Entries []auth.Entry `json:"entries"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, doc.Entries); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}
}

func TestAuditAllInChunks(t *testing.T) {
	s, _, db := mustStore(t)
	entries := make([]auth.Entry, 450)
	for i := range entries {
		entries[i] = auth.Entry{Action: auth.ActionUpload, Target: fmt.Sprintf("B-%d", i)}
	}
	if err := s.AuditAll(cli(), entries); err != nil {
		t.Fatal(err)
	}
	var n, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT target) FROM audit_log WHERE actor = 'tester' AND actor_kind = 'cli'`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 450 || distinct != 450 {
		t.Fatalf("%d entries, %d targets; want 450", n, distinct)
	}
	bad := append(entries[:3:3], auth.Entry{Target: "no action"})
	if err := s.AuditAll(cli(), bad); err == nil {
		t.Fatal("an entry without an action was accepted")
	}
	if err := db.QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil || n != 450 {
		t.Fatalf("a refused batch left %d entries (want 450): all or nothing", n)
	}
}
