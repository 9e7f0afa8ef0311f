package peer

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// TestPeerAgrees checks that every peer query asks SQLite and DuckDB the
// same question: on a demo store loaded through the real ingest path and
// copied into SQLite, both engines give the same rows.
func TestPeerAgrees(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	duck, err := sql.Open("duckdb", filepath.Join(dir, "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	if err := ingest.Migrate(ctx, duck); err != nil {
		t.Fatal(err)
	}
	var items []ingest.Item
	if err := demo.Generate(demo.Options{Reviews: 400, Seed: 3}, func(i int, e *ingest.Export) error {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "test"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rs, err := ingest.NewWriter(ingest.WriterOptions{DB: duck}).Write(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	path := filepath.Join(dir, "peer.sqlite")
	if n, _ := loadSQLite(t, duck, path); n == 0 {
		t.Fatal("nothing copied into SQLite")
	}
	lite, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	for _, q := range peerQueries {
		t.Run(q.name, func(t *testing.T) {
			want := rowsOf(t, duck, q.duck())
			got := rowsOf(t, lite, q.lite())
			if len(want) == 0 {
				t.Fatal("DuckDB found no rows: the query tests nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SQLite and DuckDB disagree (-duckdb +sqlite):\n%s", diff)
			}
		})
	}
}

// rowsOf runs q and returns its rows as text, numbers to 9 significant
// digits and booleans as 0 or 1, sorted unless the query orders them.
func rowsOf(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				cells = append(cells, "NULL")
			case bool:
				cells = append(cells, map[bool]string{false: "0", true: "1"}[x])
			case float64:
				cells = append(cells, fmt.Sprintf("%.9g", x))
			case int32, int64, int, uint64, uint32:
				cells = append(cells, fmt.Sprint(x))
			case []byte:
				cells = append(cells, string(x))
			default:
				cells = append(cells, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(cells, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, "ORDER BY") {
		slices.Sort(out)
	}
	return out
}
