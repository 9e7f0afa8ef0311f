package analytics

import (
	"context"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest/errs"
)

// Parquet downloads. The rows of a download are exactly the rows the same
// query returns as JSON (and the dashboard as CSV): they come from the same
// functions, so scope, screening and suppression are the same. DuckDB writes
// them: they are appended to a temporary table on one pinned connection and
// copied to a temporary file with COPY ... (FORMAT parquet), which carries the
// provenance as key-value metadata.

// MaxDownloadRows is the most rows one download holds; a larger result is
// downloaded a page at a time.
const MaxDownloadRows = 10000

// ContentTypeParquet is the media type of a Parquet file.
const ContentTypeParquet = "application/vnd.apache.parquet"

// File is a download written to a temporary file. Read it, then Close it,
// which removes the file.
type File struct {
	Name       string            // a file name to offer, e.g. episodes.parquet
	Provenance Provenance        // where the rows came from
	Rows       int               // rows in the file
	Total      int               // rows matching the query, over every page
	Page       int               // which page of the result the file holds (from 1)
	Pages      int               // how many pages the result has at this page size
	Size       int64             // bytes
	Metadata   map[string]string // the key-value metadata written into the file

	f   *os.File
	dir string
}

// Read reads the file's bytes.
func (f *File) Read(p []byte) (int, error) { return f.f.Read(p) }

// Close closes and removes the file.
func (f *File) Close() error {
	err := f.f.Close()
	if rerr := os.RemoveAll(f.dir); err == nil {
		err = rerr
	}
	return err
}

// column is one column of a download: its name and DuckDB type.
type column struct {
	name, typ string
}

// provenanceMetadata is the key-value metadata of a download: the provenance
// of its rows and, for a paged result, which page it is.
func provenanceMetadata(p Provenance, page, pages, total int) map[string]string {
	years := ""
	if p.From != 0 || p.To != 0 {
		years = fmt.Sprintf("%d-%d", p.From, p.To)
	}
	policy := fmt.Sprintf("k=%d; suppressed=%t", p.Policy.K, p.Policy.Suppressed)
	if p.Policy.Rounding > 1 {
		policy += fmt.Sprintf("; rounding=%d", p.Policy.Rounding)
	}
	return map[string]string{
		"collate.data_version":       p.DataVersion,
		"collate.frame":              p.Frame,
		"collate.collection":         p.Collection,
		"collate.years":              years,
		"collate.suppression_policy": policy,
		"collate.viewer":             string(p.Viewer),
		"collate.generated_at":       p.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z"),
		"collate.page":               strconv.Itoa(page),
		"collate.pages":              strconv.Itoa(pages),
		"collate.total":              strconv.Itoa(total),
	}
}

// metadataKeys is the order of the metadata keys in the COPY statement. The
// keys are written into the SQL (COPY takes them as a struct literal); they
// are these constants, never user text. The values are parameters.
var metadataKeys = []string{"collate.data_version", "collate.frame", "collate.collection", "collate.years",
	"collate.suppression_policy", "collate.viewer", "collate.generated_at", "collate.page", "collate.pages", "collate.total"}

// writeParquet has DuckDB write rows to a Parquet file with the metadata.
func (s *Store) writeParquet(ctx context.Context, name string, cols []column, rows [][]driver.Value, meta map[string]string) (*File, error) {
	dir, err := os.MkdirTemp("", "collate-download-*")
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "write %s", name)
	}
	fail := func(err error) (*File, error) {
		os.RemoveAll(dir)
		return nil, wrapDB(ctx, err, "write "+name)
	}
	path := filepath.Join(dir, name)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = c.name + " " + c.typ
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE collate_download (`+strings.Join(defs, ", ")+`)`); err != nil {
		return fail(err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.collate_download`)
	err = conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection %T is not a driver connection", dc)
		}
		a, err := duckdb.NewAppender(dconn, "temp", "main", "collate_download")
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := a.AppendRow(r...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return fail(err)
	}
	kv := make([]string, len(metadataKeys))
	args := []any{path}
	for i, k := range metadataKeys {
		kv[i] = `"` + k + `": ?`
		args = append(args, meta[k])
	}
	if _, err := conn.ExecContext(ctx, `COPY temp.collate_download TO ? (FORMAT parquet, COMPRESSION zstd, KV_METADATA {`+
		strings.Join(kv, ", ")+`})`, args...); err != nil {
		return fail(err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fail(err)
	}
	return &File{Name: name, Rows: len(rows), Size: st.Size(), Metadata: meta, f: f, dir: dir}, nil
}

// pageParquet writes one page of search or drill-down rows as a Parquet file
// carrying the page's provenance, in its metadata and on the File.
func (s *Store) pageParquet(ctx context.Context, name string, cols []column, rows [][]driver.Value, prov Provenance, page, pages, total int) (*File, error) {
	f, err := s.writeParquet(ctx, name, cols, rows, provenanceMetadata(prov, page, pages, total))
	if err != nil {
		return nil, err
	}
	f.Provenance, f.Total, f.Page, f.Pages = prov, total, page, pages
	return f, nil
}

// EpisodesParquet writes the episodes of Episodes as a Parquet file: the page
// asked for, PerPage rows a page (default and most MaxDownloadRows).
func (s *Store) EpisodesParquet(ctx context.Context, v Viewer, sel Selection, q EpisodeQuery) (*File, error) {
	if q.PerPage == 0 {
		q.PerPage = MaxDownloadRows
	}
	p, err := s.episodesUpTo(ctx, v, sel, q, MaxDownloadRows)
	if err != nil {
		return nil, err
	}
	cols := []column{{"review_id", "VARCHAR"}, {"version", "INTEGER"}, {"year", "INTEGER"}, {"board", "VARCHAR"},
		{"board_name", "VARCHAR"}, {"kind", "VARCHAR"}, {"episode", "INTEGER"}, {"title", "VARCHAR"},
		{"adequacy", "VARCHAR"}, {"factors", "VARCHAR[]"}, {"excerpt", "VARCHAR"}}
	rows := make([][]driver.Value, len(p.Episodes))
	for i, e := range p.Episodes {
		rows[i] = []driver.Value{e.ReviewID, int32(e.Version), int32(e.Year), e.Board, e.BoardName, e.Kind, int32(e.Number),
			e.Title, e.Adequacy, e.Factors, e.Excerpt}
	}
	return s.pageParquet(ctx, "episodes.parquet", cols, rows, p.Provenance, p.Page, p.Pages, p.Total)
}
