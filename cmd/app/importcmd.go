package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/collate-project/collate/ingest/federate"
)

func importCommand() command {
	return command{
		name:    "import",
		usage:   "[--db PATH] [--json] DIR",
		summary: "Load a Parquet export of another Collate into this store, keeping review IDs, versions and provenance; all or nothing.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "print the outcome of every review as JSON")
		},
		run: runImport,
	}
}

func runImport(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) != 1 {
		return usageError{"name the export directory"}
	}
	dir := r.cfg.Args[0]
	db, err := r.openStore(ctx)
	if err != nil {
		return storeInUse(r.cfg.DB, err, "stop collate serve before importing")
	}
	defer db.Close()
	if err := foldLog(ctx, db); err != nil {
		return err
	}
	sum, err := federate.Import(ctx, db, dir)
	if err != nil {
		return err
	}
	r.log.Info("import", "db", r.cfg.DB, "dir", dir, "added", sum.Added, "updated", sum.Updated,
		"unchanged", sum.Unchanged, "conflicts", sum.Conflicts, "versions_added", sum.Versions)
	if r.cfg.JSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		for _, rr := range sum.Reviews {
			if rr.Outcome == federate.Conflict {
				fmt.Fprintf(r.stdout, "CONFLICT %s: %s\n", rr.ReviewID, rr.Message)
			}
		}
		for _, f := range sum.Frames {
			fmt.Fprintf(r.stdout, "registered frame %s\n", f)
		}
		fmt.Fprintf(r.stdout, "added %d, updated %d, unchanged %d, conflicts %d (%d review versions and %d withdrawals stored in %s)\n",
			sum.Added, sum.Updated, sum.Unchanged, sum.Conflicts, sum.Versions, sum.Withdrawals, r.cfg.DB)
	}
	if sum.Conflicts > 0 {
		return failedError{fmt.Sprintf("%d reviews conflict with this store's and were not imported", sum.Conflicts)}
	}
	return nil
}
