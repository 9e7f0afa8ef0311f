package federate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/collate-project/collate/ingest/internal/dirfile"

	_ "github.com/duckdb/duckdb-go/v2" // exports are read with DuckDB

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// Outcome says what an import did with one review.
type Outcome string

// Outcomes of Import, per review ID.
const (
	// Added: the review was new here; all its versions were stored.
	Added Outcome = "added"
	// Updated: newer versions were stored, or a version's status changed
	// (superseded or withdrawn at the origin).
	Updated Outcome = "updated"
	// Unchanged: every version was already here with the same content.
	Unchanged Outcome = "unchanged"
	// Conflict: the review is here with different content under the same
	// version, or from another board; nothing of it was imported.
	Conflict Outcome = "conflict"
)

// ReviewResult is what happened to one review of the export.
type ReviewResult struct {
	ReviewID string  `json:"review_id"`
	Outcome  Outcome `json:"outcome"`
	Versions []int   `json:"versions_added,omitempty"`
	Message  string  `json:"message,omitempty"`
}

// Summary is the answer of one Import.
type Summary struct {
	Added       int            `json:"added"`
	Updated     int            `json:"updated"`
	Unchanged   int            `json:"unchanged"`
	Conflicts   int            `json:"conflicts"`
	Versions    int            `json:"versions_added"`
	Withdrawals int            `json:"withdrawals_added"`
	Frames      []string       `json:"frames_registered,omitempty"`
	Reviews     []ReviewResult `json:"reviews"`
}

// Verify reads an export's manifest and checks that every file it lists is
// there, inside the export, with the recorded size and SHA-256.
func Verify(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return m, errs.E(errs.NotFound, "export %s does not exist", dir)
		}
		return m, errs.E(errs.Invalid, "%s is not a finished Collate export: it has no %s (an export that was interrupted has none)", dir, ManifestName)
	}
	if err != nil {
		return m, fmt.Errorf("read export %s: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, errs.E(errs.Invalid, "%s: %s is not valid JSON (%v); the export is damaged, export again", dir, ManifestName, err)
	}
	var problems []string
	if m.Format != Format {
		problems = append(problems, fmt.Sprintf("%s: format is %q, expected %q", ManifestName, m.Format, Format))
	}
	for _, t := range m.Tables {
		for _, f := range t.Files {
			clean := path.Clean(f.Path)
			if clean != f.Path || path.IsAbs(clean) || strings.HasPrefix(clean, "../") || !strings.HasPrefix(clean, t.Name+"/") {
				problems = append(problems, fmt.Sprintf("%s: file %q of table %s is outside the table's directory", ManifestName, f.Path, t.Name))
				continue
			}
			size, sum, err := dirfile.FileSum(filepath.Join(dir, filepath.FromSlash(f.Path)))
			switch {
			case errors.Is(err, os.ErrNotExist):
				problems = append(problems, fmt.Sprintf("%s is missing", f.Path))
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s cannot be read: %v", f.Path, err))
			case size != f.Bytes:
				problems = append(problems, fmt.Sprintf("%s is %d bytes, the manifest expects %d", f.Path, size, f.Bytes))
			case sum != f.SHA256:
				problems = append(problems, fmt.Sprintf("%s has SHA-256 %s, the manifest expects %s", f.Path, sum, f.SHA256))
			}
		}
	}
	for _, t := range tables {
		if _, ok := m.Table(t.name); !ok && !(m.FileFormat == CSV && t.name == "review_bodies") {
			problems = append(problems, fmt.Sprintf("%s lists no %s table", ManifestName, t.name))
		}
	}
	if len(problems) > 0 {
		return m, errs.E(errs.Invalid, "export %s is damaged or incomplete: %s; nothing was imported: export again", dir, strings.Join(problems, "; "))
	}
	return m, nil
}

// Import loads an export written by Export (in Parquet) into the store. Each
// review keeps its review ID, versions, statuses, content hash and
// provenance (source name and format, uploader, ingest time, frame); only
// the store's own review keys are new. A review already here with the same
// content is unchanged; one here with different content under the same
// version, or from another board, is a conflict and reported, and the rest
// are imported. Frames the export's reviews are coded against are
// registered first if missing. Everything else happens in one transaction:
// an import is stored whole or not at all, and importing the same export
// again changes nothing. The aggregates are rebuilt after a change.
//
// Import writes outside the ingest Writer: a server must not run it while
// its Writer is storing a batch (DuckDB would refuse one of the two).
func Import(ctx context.Context, db *sql.DB, dir string) (Summary, error) {
	m, err := Verify(dir)
	if err != nil {
		return Summary{}, err
	}
	if m.FileFormat != Parquet {
		return Summary{}, errs.E(errs.Invalid,
			"export %s is %s; import reads Parquet exports only (CSV cells are altered to keep spreadsheets safe): export again with --format parquet", dir, m.FileFormat)
	}
	local, err := ingest.SchemaVersion(ctx, db)
	if err != nil {
		return Summary{}, err
	}
	if m.SchemaVersion > local {
		return Summary{}, errs.E(errs.Invalid, "export %s is at schema version %d, newer than this store (%d); upgrade collate here first", dir, m.SchemaVersion, local)
	}
	if rt, _ := m.Table("reviews"); rt.Rows == 0 {
		return Summary{Reviews: []ReviewResult{}}, nil
	}
	var sum Summary
	if sum.Frames, err = registerFrames(ctx, db, dir, m); err != nil {
		return Summary{}, fmt.Errorf("import %s: %w", dir, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return Summary{}, fmt.Errorf("import %s: begin: %w", dir, err)
	}
	if err := importTx(ctx, conn, dir, m, &sum); err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return Summary{}, fmt.Errorf("import %s: %w", dir, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return Summary{}, fmt.Errorf("import %s: commit: %w", dir, err)
	}
	if sum.Added+sum.Updated > 0 {
		// The writer keeps aggregates per partition inside its transaction;
		// an import touches many partitions at once, so it rebuilds them all.
		if err := ingest.RebuildAggregates(ctx, db); err != nil {
			return sum, fmt.Errorf("import %s: the reviews were imported, but the aggregates could not be rebuilt, so dashboard counts lag until they are: %w", dir, err)
		}
	}
	return sum, nil
}

// files returns the absolute paths of a table's files.
func files(dir string, m Manifest, table string) ([]string, error) {
	t, _ := m.Table(table)
	out := make([]string, 0, len(t.Files))
	for _, f := range t.Files {
		p, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// registerFrames registers the frames the export's reviews are coded
// against that this store lacks. A frame here with different content under
// the same ID and version is a conflict and stops the import.
func registerFrames(ctx context.Context, db *sql.DB, dir string, m Manifest) ([]string, error) {
	frameFiles, err := files(dir, m, "frames")
	if err != nil {
		return nil, err
	}
	reviewFiles, err := files(dir, m, "reviews")
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `
		SELECT f.frame_id, f.frame_version, f.body
		FROM read_parquet(?::VARCHAR[]) f
		WHERE (f.frame_id, f.frame_version) IN (SELECT DISTINCT (frame_id, frame_version) FROM read_parquet(?::VARCHAR[], hive_partitioning = true))
		  AND NOT EXISTS (SELECT 1 FROM frames l WHERE l.frame_id = f.frame_id AND l.frame_version = f.frame_version)
		ORDER BY ALL`, frameFiles, reviewFiles)
	if err != nil {
		return nil, fmt.Errorf("read frames: %w", err)
	}
	type frame struct{ id, version, body string }
	var missing []frame
	for rows.Next() {
		var f frame
		if err := rows.Scan(&f.id, &f.version, &f.body); err != nil {
			rows.Close()
			return nil, err
		}
		missing = append(missing, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range missing {
		if _, err := ingest.RegisterFrame(ctx, db, "frames/frames.parquet", []byte(f.body)); err != nil {
			return out, err
		}
		out = append(out, f.id+"@"+f.version)
	}
	return out, nil
}

// staged names the temporary copy of each review table of the export.
var staged = map[string]string{
	"reviews": "fed_reviews", "review_bodies": "fed_bodies", "episodes": "fed_episodes",
	"episode_factors": "fed_episode_factors", "patterns": "fed_patterns",
	"recommendations": "fed_recommendations", "withdrawals": "fed_withdrawals",
}

// childTables are the tables keyed by review_key, in insert order.
var childTables = []string{"episodes", "episode_factors", "patterns", "recommendations"}

func importTx(ctx context.Context, conn *sql.Conn, dir string, m Manifest, sum *Summary) error {
	names := make([]string, 0, len(staged))
	for n := range staged {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, table := range names {
		tmp := staged[table]
		fs, err := files(dir, m, table)
		if err != nil {
			return err
		}
		if len(fs) == 0 {
			// An empty table wrote no files: stage an empty table of the
			// same shape from an export-shaped query on this store.
			var q string
			for _, t := range tables {
				if t.name == table {
					q = t.query
				}
			}
			if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+tmp+` AS SELECT * FROM (`+q+`) WHERE false`); err != nil {
				return fmt.Errorf("stage %s: %w", table, err)
			}
			continue
		}
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+tmp+
			` AS SELECT * FROM read_parquet(?::VARCHAR[], hive_partitioning = true)`, fs); err != nil {
			return errs.Wrap(errs.Invalid, err, "the %s files of the export cannot be read as a Collate export", table)
		}
	}
	defer func() {
		for _, tmp := range staged {
			conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+tmp)
		}
	}()
	if err := checkExport(ctx, conn, m); err != nil {
		return err
	}
	plan, err := planImport(ctx, conn)
	if err != nil {
		return err
	}
	return applyPlan(ctx, conn, plan, sum)
}

// checkExport proves the staged export is whole before anything is stored:
// every version has its body, every body hashes to its content_sha256, every
// review has the rows its counts say, and every board is one this store knows.
func checkExport(ctx context.Context, conn *sql.Conn, m Manifest) error {
	var problems []string
	for _, t := range m.Tables {
		tmp, ok := staged[t.Name]
		if !ok {
			continue
		}
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+tmp).Scan(&n); err != nil {
			return err
		}
		if n != t.Rows {
			problems = append(problems, fmt.Sprintf("table %s holds %d rows, the manifest expects %d", t.Name, n, t.Rows))
		}
	}
	checks := []struct{ what, query string }{
		{"appears twice", `SELECT review_id, version FROM fed_reviews GROUP BY ALL HAVING count(*) > 1`},
		{"has no body in review_bodies", `SELECT review_id, version FROM fed_reviews ANTI JOIN fed_bodies USING (review_id, version)`},
		{"has a body but no row in reviews", `SELECT review_id, version FROM fed_bodies ANTI JOIN fed_reviews USING (review_id, version)`},
		{"has a body that does not hash to its content_sha256", `
			SELECT r.review_id, r.version FROM fed_reviews r JOIN fed_bodies b USING (review_id, version)
			WHERE sha256(b.body) <> r.content_sha256 OR b.content_sha256 <> r.content_sha256`},
		{"has a different number of episodes, patterns or recommendations than its counts say", `
			SELECT r.review_id, r.version FROM fed_reviews r
			WHERE r.n_episodes <> (SELECT count(*) FROM fed_episodes c WHERE c.review_id = r.review_id AND c.version = r.version)
			   OR r.n_patterns <> (SELECT count(*) FROM fed_patterns c WHERE c.review_id = r.review_id AND c.version = r.version)
			   OR r.n_recommendations <> (SELECT count(*) FROM fed_recommendations c WHERE c.review_id = r.review_id AND c.version = r.version)`},
		{"names a board, region or nation this store does not know", `
			SELECT r.review_id, r.version FROM fed_reviews r
			ANTI JOIN geography g ON g.board = r.board AND g.region = r.region AND g.nation = r.nation`},
		{"has a status other than current, superseded or withdrawn", `
			SELECT review_id, version FROM fed_reviews WHERE status NOT IN ('current', 'superseded', 'withdrawn')`},
		{"has more than one version that counts", `
			SELECT review_id, max(version) AS version FROM fed_reviews WHERE status <> 'superseded' GROUP BY review_id HAVING count(*) > 1`},
		{"is coded against a frame this store does not have", `
			SELECT review_id, version FROM fed_reviews r
			ANTI JOIN frames f ON f.frame_id = r.frame_id AND f.frame_version = r.frame_version`},
	}
	for _, c := range checks {
		rows, err := conn.QueryContext(ctx, `SELECT review_id, version FROM (`+c.query+`) ORDER BY ALL LIMIT 5`)
		if err != nil {
			return fmt.Errorf("check export: %w", err)
		}
		for rows.Next() {
			var id string
			var v int
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			problems = append(problems, fmt.Sprintf("review %s version %d %s", id, v, c.what))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return errs.E(errs.Invalid, "the export is not consistent: %s; nothing was imported", strings.Join(problems, "; "))
	}
	return nil
}

// version is one version of a review, as exported or as stored here.
type version struct {
	n      int
	status string
	sha    string
	board  string
}

type reviewPlan struct {
	id       string
	incoming []version
	here     []version
	result   ReviewResult
	add      []int          // versions to store
	status   map[int]string // versions here whose status changes
}

func planImport(ctx context.Context, conn *sql.Conn) ([]*reviewPlan, error) {
	byID := map[string]*reviewPlan{}
	var order []string
	load := func(query string, here bool) error {
		rows, err := conn.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("plan import: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var v version
			if err := rows.Scan(&id, &v.n, &v.status, &v.sha, &v.board); err != nil {
				return err
			}
			p := byID[id]
			if p == nil {
				p = &reviewPlan{id: id, status: map[int]string{}}
				byID[id] = p
				order = append(order, id)
			}
			if here {
				p.here = append(p.here, v)
			} else {
				p.incoming = append(p.incoming, v)
			}
		}
		return rows.Err()
	}
	if err := load(`SELECT review_id, version, status, content_sha256, board FROM fed_reviews ORDER BY review_id, version`, false); err != nil {
		return nil, err
	}
	if err := load(`SELECT review_id, version, status, content_sha256, board FROM reviews
		WHERE review_id IN (SELECT review_id FROM fed_reviews) ORDER BY review_id, version`, true); err != nil {
		return nil, err
	}
	out := make([]*reviewPlan, 0, len(order))
	for _, id := range order {
		p := byID[id]
		p.decide()
		out = append(out, p)
	}
	return out, nil
}

// decide works out what importing one review does. The origin's statuses
// win for the versions it sends, unless this store already has versions the
// origin lacks: then this store is ahead and nothing changes.
func (p *reviewPlan) decide() {
	p.result = ReviewResult{ReviewID: p.id}
	here := map[int]version{}
	for _, v := range p.here {
		here[v.n] = v
	}
	incoming := map[int]version{}
	for _, v := range p.incoming {
		incoming[v.n] = v
	}
	conflict := func(format string, args ...any) {
		p.result.Outcome = Conflict
		p.result.Message = fmt.Sprintf(format, args...)
		p.add, p.status = nil, map[int]string{}
	}
	for _, v := range p.incoming {
		h, ok := here[v.n]
		switch {
		case ok && h.board != v.board:
			conflict("review %s belongs to board %s here but to %s in the export; review IDs are unique across Collate", p.id, h.board, v.board)
			return
		case ok && h.sha != v.sha:
			conflict("version %d of review %s has different content here (content_sha256 %.12s…) than in the export (%.12s…); it was uploaded to both instances, so one of them must withdraw it or give it a new ID",
				v.n, p.id, h.sha, v.sha)
			return
		case !ok && len(p.here) > 0 && p.here[0].board != v.board:
			conflict("review %s belongs to board %s here but to %s in the export; review IDs are unique across Collate", p.id, p.here[0].board, v.board)
			return
		case !ok:
			p.add = append(p.add, v.n)
		case h.status != v.status:
			p.status[v.n] = v.status
		}
	}
	var extra []int
	for _, h := range p.here {
		if _, ok := incoming[h.n]; !ok {
			extra = append(extra, h.n)
		}
	}
	if len(extra) > 0 {
		if len(p.add) > 0 {
			conflict("review %s has version(s) %v here that the export lacks, and the export has version(s) %v that this store lacks; the review was changed in both instances",
				p.id, extra, p.add)
			return
		}
		// This store is ahead of the export: keep its statuses.
		p.status = map[int]string{}
		p.result.Outcome = Unchanged
		p.result.Message = fmt.Sprintf("this store has newer version(s) %v", extra)
		return
	}
	switch {
	case len(p.here) == 0:
		p.result.Outcome = Added
	case len(p.add) > 0 || len(p.status) > 0:
		p.result.Outcome = Updated
	default:
		p.result.Outcome = Unchanged
	}
	p.result.Versions = p.add
}

func applyPlan(ctx context.Context, conn *sql.Conn, plan []*reviewPlan, sum *Summary) error {
	var addIDs, statusIDs, statuses, touched []string
	var addVersions, statusVersions []int32
	for _, p := range plan {
		switch p.result.Outcome {
		case Added:
			sum.Added++
		case Updated:
			sum.Updated++
		case Unchanged:
			sum.Unchanged++
		case Conflict:
			sum.Conflicts++
		}
		sum.Reviews = append(sum.Reviews, p.result)
		for _, v := range p.add {
			addIDs = append(addIDs, p.id)
			addVersions = append(addVersions, int32(v))
		}
		for v, s := range p.status {
			statusIDs = append(statusIDs, p.id)
			statusVersions = append(statusVersions, int32(v))
			statuses = append(statuses, s)
		}
		if len(p.add) > 0 || len(p.status) > 0 {
			touched = append(touched, p.id)
		}
	}
	sum.Versions = len(addIDs)
	if len(touched) == 0 {
		return nil
	}
	// New keys follow this store's own, in review and version order.
	if _, err := conn.ExecContext(ctx, `
		CREATE OR REPLACE TEMP TABLE fed_keys AS
		SELECT review_id, version,
		       (SELECT coalesce(max(review_key), 0) FROM reviews) + row_number() OVER (ORDER BY review_id, version) AS review_key
		FROM (SELECT unnest(?::VARCHAR[]) AS review_id, unnest(?::INTEGER[]) AS version)`, addIDs, addVersions); err != nil {
		return fmt.Errorf("assign keys: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS fed_keys`)
	if _, err := conn.ExecContext(ctx, `
		INSERT INTO reviews BY NAME
		SELECT k.review_key, b.body, r.*
		FROM fed_reviews r JOIN fed_keys k USING (review_id, version) JOIN fed_bodies b USING (review_id, version)`); err != nil {
		return fmt.Errorf("store reviews: %w", err)
	}
	for _, table := range childTables {
		if _, err := conn.ExecContext(ctx, `
			INSERT INTO `+table+` BY NAME
			SELECT k.review_key, c.* EXCLUDE (review_id, version, board, nation, region, year)
			FROM `+staged[table]+` c JOIN fed_keys k USING (review_id, version)`); err != nil {
			return fmt.Errorf("store %s: %w", table, err)
		}
	}
	if len(statusIDs) > 0 {
		if _, err := conn.ExecContext(ctx, `
			UPDATE reviews SET status = s.status
			FROM (SELECT unnest(?::VARCHAR[]) AS review_id, unnest(?::INTEGER[]) AS version, unnest(?::VARCHAR[]) AS status) s
			WHERE reviews.review_id = s.review_id AND reviews.version = s.version`, statusIDs, statusVersions, statuses); err != nil {
			return fmt.Errorf("update statuses: %w", err)
		}
	}
	res, err := conn.ExecContext(ctx, `
		INSERT INTO withdrawals BY NAME
		SELECT w.* EXCLUDE (board, nation, region, year) FROM fed_withdrawals w
		WHERE w.review_id IN (SELECT unnest(?::VARCHAR[]))
		  AND NOT EXISTS (SELECT 1 FROM withdrawals x WHERE x.review_id = w.review_id AND x.withdrawn_at = w.withdrawn_at)`, touched)
	if err != nil {
		return fmt.Errorf("store withdrawals: %w", err)
	}
	n, _ := res.RowsAffected()
	sum.Withdrawals = int(n)
	return nil
}
