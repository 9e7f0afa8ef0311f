package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/collate-project/collate/ingest/federate"
)

func exportCommand() command {
	return command{
		name:    "export",
		usage:   "--format parquet|csv [--db PATH] [--json] DIR",
		summary: "Write the collated, anonymised reviews as Hive-partitioned files (nation/region/year) that DuckDB, Spark, pandas or R can read, or another Collate can import.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "print the manifest as JSON")
			c.extra["format"] = fs.String("format", federate.Parquet, "parquet (for other engines and collate import) or csv (for spreadsheets)")
		},
		run: runExport,
	}
}

func runExport(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) != 1 {
		return usageError{"name one new (or empty) directory for the export"}
	}
	format := r.flag("format")
	if format != federate.Parquet && format != federate.CSV {
		return usageError{fmt.Sprintf("--format must be parquet or csv, not %q", format)}
	}
	dir := r.cfg.Args[0]
	db, err := r.openStore(ctx)
	if err != nil {
		return storeInUse(r.cfg.DB, err, "export through the running server instead, or stop it first")
	}
	defer db.Close()
	if err := foldLog(ctx, db); err != nil {
		return err
	}
	m, err := federate.Export(ctx, db, dir, format)
	if err != nil {
		return err
	}
	rt, _ := m.Table("reviews")
	files := 0
	for _, t := range m.Tables {
		files += len(t.Files)
	}
	r.log.Info("export", "db", r.cfg.DB, "dir", dir, "format", format, "reviews", rt.Rows, "files", files)
	if r.cfg.JSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(r.stdout, "exported %d review versions from %s to %s as %s: %d files, partitioned by nation, region and year\n",
		rt.Rows, r.cfg.DB, dir, format, files)
	return nil
}
