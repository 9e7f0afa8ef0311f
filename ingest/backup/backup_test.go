package backup_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/backup"
	"github.com/collate-project/collate/ingest/demo"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// mustStore opens a migrated store in a new file and closes it at cleanup.
func mustStore(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// exports makes n distinct exports from each shipped example: each gets its
// own ID, one of boards, and its own number of factors and recommendations,
// and some leave optional fields out, so per-review row counts differ.
func exports(t *testing.T, prefix string, boards []string, n int) []*ingest.Export {
	t.Helper()
	geo := schemas.LoadGeography()
	examples := schemas.Examples()
	names := make([]string, 0, len(examples))
	for name := range examples {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*ingest.Export
	for _, name := range names {
		data := examples[name]
		for i := range n {
			var e ingest.Export
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			p, ok := geo.Board(boards[i%len(boards)])
			if !ok {
				t.Fatalf("board %s is not in the geography", boards[i%len(boards)])
			}
			rv := &e.Review
			rv.ID = fmt.Sprintf("%s-%s-%03d", prefix, strings.TrimSuffix(name, ".json"), i)
			rv.Board, rv.Region, rv.Nation = p.Board, p.Region, p.Nation
			rv.Completed.Year = 2019 + i%5
			if i%4 == 0 {
				rv.FamilyParticipation = ""
			}
			if i%5 == 0 {
				rv.Completed.Month = nil
			}
			for j := range e.Episodes {
				keep := 1 + (i+j)%len(e.Episodes[j].Factors)
				e.Episodes[j].Factors = e.Episodes[j].Factors[:keep]
			}
			if len(e.Recommendations) > 0 {
				e.Recommendations = e.Recommendations[:1+i%len(e.Recommendations)]
			}
			out = append(out, &e)
		}
	}
	return out
}

// mustWrite stores exports through the ingest writer.
func mustWrite(t *testing.T, w *ingest.Writer, es []*ingest.Export) {
	t.Helper()
	var items []ingest.Item
	for _, e := range es {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "test"})
	}
	receipts, err := w.Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range receipts {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.ReviewID, r.Err)
		}
	}
}

// mustLoad fills a store with reviews of three boards in two nations, a
// superseded version and a withdrawal, and a sample of the demo set from
// every nation. It returns how many reviews it wrote.
func mustLoad(t *testing.T, db *sql.DB) int {
	t.Helper()
	ctx := context.Background()
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	es := exports(t, "BK", []string{"ENG-NE-NCL", "ENG-NE-GAT", "WLS-CV-CRF"}, 12)
	if err := demo.Generate(demo.Options{Reviews: 60, Seed: 6}, func(_ int, e *ingest.Export) error {
		es = append(es, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, es)
	v2 := *es[0]
	v2.Episodes = v2.Episodes[:1]
	v2.Patterns = nil
	v2.Recommendations = nil
	mustWrite(t, w, []*ingest.Export{&v2})
	if err := w.Withdraw(ctx, es[1].Review.ID, "coded against the wrong review", "test"); err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// contents returns every table of a store, each row rendered as text and
// the rows sorted, so two stores can be compared whole.
func contents(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT CAST(x AS VARCHAR) AS r FROM "` + table + `" AS x ORDER BY r`)
		if err != nil {
			t.Fatal(err)
		}
		out[table] = []string{}
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], r)
		}
		rows.Close()
	}
	return out
}

// queries are questions analysts ask; a restored store must answer them the same.
var queries = map[string]string{
	"current reviews by board": `SELECT board, count(*) FROM reviews WHERE status = 'current' GROUP BY ALL ORDER BY ALL`,
	"factors by code and influence": `SELECT f.code, f.influence, count(*) FROM episode_factors f
		JOIN reviews r USING (review_key) WHERE r.status = 'current' GROUP BY ALL ORDER BY ALL`,
	"patterns by region": `SELECT r.region, p.type_code, p.nature, count(*) FROM patterns p
		JOIN reviews r USING (review_key) WHERE r.status = 'current' GROUP BY ALL ORDER BY ALL`,
	"recommendation kinds by nation": `SELECT g.nation_name, x.kind, count(*) FROM recommendations x
		JOIN reviews r USING (review_key) JOIN geography g USING (board) WHERE r.status = 'current' GROUP BY ALL ORDER BY ALL`,
	"statuses": `SELECT review_id, version, status, content_sha256, ingested_at FROM reviews ORDER BY ALL`,
	"factor roll-up": `SELECT c.ancestor, count(*) FROM episode_factors f JOIN reviews r USING (review_key)
		JOIN frame_closure c ON c.frame_id = r.frame_id AND c.frame_version = r.frame_version AND c.tree = 'factor' AND c.descendant = f.code
		WHERE r.status = 'current' GROUP BY ALL ORDER BY ALL`,
}

func answers(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range queries {
		rows, err := db.Query(`SELECT CAST(x AS VARCHAR) FROM (` + q + `) AS x`)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = []string{}
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			out[name] = append(out[name], r)
		}
		rows.Close()
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustStore(t, filepath.Join(dir, "a.duckdb"))
	n := mustLoad(t, src)
	// Rows whose IDs come from a sequence: a restored store must not hand
	// the same IDs out again.
	for range 3 {
		if _, err := src.Exec(`INSERT INTO audit_log (occurred_at, actor, actor_kind, action) VALUES (now(), 'test', 'cli', 'backup.test')`); err != nil {
			t.Fatal(err)
		}
	}

	m, err := backup.Snapshot(ctx, src, filepath.Join(dir, "backup"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows("reviews") != int64(n)+1 || m.Rows("withdrawals") != 1 || m.SchemaVersion < 1 || m.DataVersion == "" {
		t.Fatalf("manifest: %+v", m)
	}
	restored := filepath.Join(dir, "restored", "b.duckdb")
	res, err := backup.Restore(ctx, filepath.Join(dir, "backup"), restored, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.KeptAs != "" {
		t.Errorf("KeptAs = %q for a new store", res.KeptAs)
	}
	dst := mustOpen(t, restored)
	if diff := cmp.Diff(contents(t, src), contents(t, dst)); diff != "" {
		t.Errorf("restored tables differ (-source +restored):\n%s", diff)
	}
	if diff := cmp.Diff(answers(t, src), answers(t, dst)); diff != "" {
		t.Errorf("queries answer differently after restore (-source +restored):\n%s", diff)
	}
	// The restored store is a working store: migration is a no-op and the
	// writer carries on from the restored keys and versions.
	if err := ingest.Migrate(ctx, dst); err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: dst})
	mustWrite(t, w, exports(t, "AFTER", []string{"WLS-CV-CRF"}, 2))
	if _, err := dst.Exec(`INSERT INTO audit_log (occurred_at, actor, actor_kind, action) VALUES (now(), 'test', 'cli', 'after.restore')`); err != nil {
		t.Errorf("a new audit entry after restore: %v", err)
	}
	v3 := exports(t, "BK", []string{"ENG-NE-NCL"}, 1)[0]
	receipts, err := w.Write(ctx, []ingest.Item{{Export: v3, Source: "again.json"}})
	if err != nil || receipts[0].Outcome != ingest.Superseded || receipts[0].Version != 3 {
		t.Errorf("writing review %s again after restore: %+v, %v; want version 3 superseding 2", v3.Review.ID, receipts, err)
	}
}

func mustOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSnapshotWhileWriting takes backups while the writer stores reviews on
// the same *sql.DB, as the server does, and checks each is one point in time:
// Restore checks row counts and the data version against the manifest, and
// every restored review has exactly the rows its counts say.
func TestSnapshotWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustStore(t, filepath.Join(dir, "a.duckdb"))
	mustLoad(t, src)
	w := ingest.NewWriter(ingest.WriterOptions{DB: src})
	batches := 30
	es := exports(t, "BUSY", []string{"ENG-NE-NCL", "WLS-CV-CRF"}, batches*3)
	writing := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		defer close(writing)
		for b := range batches {
			var items []ingest.Item
			for _, e := range es[b*3 : b*3+3] {
				items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json"})
			}
			if _, err := w.Write(ctx, items); err != nil {
				writing <- err
				return
			}
			if b == 0 {
				close(started)
			}
		}
	}()
	<-started
	var seen []int64
	for i := 0; ; i++ {
		bdir := filepath.Join(dir, fmt.Sprintf("backup-%d", i))
		m, err := backup.Snapshot(ctx, src, bdir)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m.Rows("reviews"))
		store := filepath.Join(dir, fmt.Sprintf("restored-%d.duckdb", i))
		if _, err := backup.Restore(ctx, bdir, store, backup.RestoreOptions{}); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		db := mustOpen(t, store)
		var broken int
		if err := db.QueryRow(`SELECT count(*) FROM reviews r WHERE
			n_episodes <> (SELECT count(*) FROM episodes e WHERE e.review_key = r.review_key) OR
			n_patterns <> (SELECT count(*) FROM patterns p WHERE p.review_key = r.review_key) OR
			n_recommendations <> (SELECT count(*) FROM recommendations x WHERE x.review_key = r.review_key)`).Scan(&broken); err != nil {
			t.Fatal(err)
		}
		if broken > 0 {
			t.Errorf("backup %d: %d reviews are not whole", i, broken)
		}
		db.Close()
		select {
		case err, running := <-writing:
			if err != nil {
				t.Fatal(err)
			}
			if !running {
				t.Logf("took %d backups while writing; reviews in each: %v", i+1, seen)
				return
			}
		default:
		}
	}
}

func TestRestoreRefusesDamagedBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustStore(t, filepath.Join(dir, "a.duckdb"))
	mustLoad(t, src)
	good := filepath.Join(dir, "good")
	if _, err := backup.Snapshot(ctx, src, good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   []string // in the error message
	}{
		{"no manifest (interrupted)", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, backup.ManifestName)))
		}, []string{"not a finished Collate backup", "manifest.json"}},
		{"manifest cut short", func(t *testing.T, dir string) {
			b := mustRead(t, filepath.Join(dir, backup.ManifestName))
			must(t, os.WriteFile(filepath.Join(dir, backup.ManifestName), b[:len(b)/2], 0o644))
		}, []string{"manifest.json is not valid JSON"}},
		{"file missing", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "episodes.parquet")))
		}, []string{"episodes.parquet is missing"}},
		{"file changed", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "reviews.parquet")
			b := mustRead(t, p)
			b[len(b)/2] ^= 0xff
			must(t, os.WriteFile(p, b, 0o644))
		}, []string{"reviews.parquet has SHA-256", "the manifest expects"}},
		{"file truncated", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "patterns.parquet")
			b := mustRead(t, p)
			must(t, os.WriteFile(p, b[:len(b)-100], 0o644))
		}, []string{"patterns.parquet is", "bytes, the manifest expects"}},
		{"counts disagree with the files", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *backup.Manifest) {
				for i := range m.Tables {
					if m.Tables[i].Name == "episode_factors" {
						m.Tables[i].Rows++
					}
				}
			})
		}, []string{"episode_factors.parquet holds", "the manifest expects"}},
		{"table left out", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *backup.Manifest) {
				var kept []backup.Table
				for _, tb := range m.Tables {
					if tb.Name != "recommendations" {
						kept = append(kept, tb)
					}
				}
				m.Tables = kept
			})
		}, []string{"no recommendations table", "incomplete"}},
		{"from a newer collate", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *backup.Manifest) { m.SchemaVersion = 9999 })
		}, []string{"schema_version 9999 is newer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "backup")
			copyDir(t, good, bad)
			tt.damage(t, bad)
			target := filepath.Join(t.TempDir(), "store.duckdb")
			_, err := backup.Restore(ctx, bad, target, backup.RestoreOptions{})
			if err == nil {
				t.Fatal("a damaged backup was restored")
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("kind %v, want invalid: %v", errs.KindOf(err), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			left, _ := os.ReadDir(filepath.Dir(target))
			if len(left) != 0 {
				t.Errorf("a refused restore left files behind: %v", left)
			}
		})
	}
}

func TestRestoreKeepsExistingStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustStore(t, filepath.Join(dir, "a.duckdb"))
	mustLoad(t, src)
	bdir := filepath.Join(dir, "backup")
	m, err := backup.Snapshot(ctx, src, bdir)
	if err != nil {
		t.Fatal(err)
	}

	// A store with other reviews is not replaced without Force.
	other := filepath.Join(dir, "other.duckdb")
	odb := mustStore(t, other)
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: odb}), exports(t, "OTHER", []string{"WLS-CV-CRF"}, 1)[:1])
	_, err = backup.Restore(ctx, bdir, other, backup.RestoreOptions{})
	if errs.KindOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "open in another process") {
		// This process holds it open, as a running server would.
		t.Errorf("restoring over an open store: %v; want unavailable", err)
	}
	must(t, odb.Close())
	_, err = backup.Restore(ctx, bdir, other, backup.RestoreOptions{})
	if errs.KindOf(err) != errs.Conflict || !strings.Contains(err.Error(), "already holds 1 review versions") {
		t.Errorf("restoring over a store with reviews: %v; want a conflict", err)
	}
	now := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	res, err := backup.Restore(ctx, bdir, other, backup.RestoreOptions{Force: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if want := other + ".pre-restore-20250301T093000Z"; res.KeptAs != want {
		t.Errorf("KeptAs = %q, want %q", res.KeptAs, want)
	}
	kept := mustOpen(t, res.KeptAs)
	var ids string
	must(t, kept.QueryRow(`SELECT string_agg(review_id) FROM reviews`).Scan(&ids))
	if ids != "OTHER-innovation-review-000" {
		t.Errorf("kept store holds %q", ids)
	}
	restored := mustOpen(t, other)
	if got, _ := backup.DataVersion(ctx, restored); got != m.DataVersion {
		t.Errorf("forced restore has data version %s, want %s", got, m.DataVersion)
	}

	// An empty store (migrated, no reviews) is simply replaced.
	empty := filepath.Join(dir, "empty.duckdb")
	must(t, mustStore(t, empty).Close())
	res, err = backup.Restore(ctx, bdir, empty, backup.RestoreOptions{})
	if err != nil || res.KeptAs != "" {
		t.Errorf("restoring over an empty store: %+v, %v", res, err)
	}
}

func TestSnapshotRefusesUsedDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := mustStore(t, filepath.Join(dir, "a.duckdb"))
	used := filepath.Join(dir, "used")
	must(t, os.Mkdir(used, 0o755))
	must(t, os.WriteFile(filepath.Join(used, "notes.txt"), []byte("keep"), 0o644))
	if _, err := backup.Snapshot(ctx, src, used); errs.KindOf(err) != errs.Conflict {
		t.Errorf("snapshot into a used directory: %v; want a conflict", err)
	}
	// An existing empty directory is fine.
	empty := filepath.Join(dir, "empty")
	must(t, os.Mkdir(empty, 0o755))
	if _, err := backup.Snapshot(ctx, src, empty); err != nil {
		t.Errorf("snapshot into an empty directory: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Errorf("left a partial directory %s", e.Name())
		}
	}
}

func editManifest(t *testing.T, dir string, edit func(*backup.Manifest)) {
	t.Helper()
	p := filepath.Join(dir, backup.ManifestName)
	var m backup.Manifest
	must(t, json.Unmarshal(mustRead(t, p), &m))
	edit(&m)
	b, err := json.Marshal(m)
	must(t, err)
	must(t, os.WriteFile(p, b, 0o644))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	must(t, os.MkdirAll(to, 0o755))
	entries, err := os.ReadDir(from)
	must(t, err)
	for _, e := range entries {
		must(t, os.WriteFile(filepath.Join(to, e.Name()), mustRead(t, filepath.Join(from, e.Name())), 0o644))
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
