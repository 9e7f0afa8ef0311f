package app

import (
	"context"
	"flag"
	"fmt"

	"github.com/collate-project/collate/ingest/backup"
)

func restoreCommand() command {
	return command{
		name:    "restore",
		usage:   "[--db PATH] [--force] DIR",
		summary: "Check a backup and bring it back as the store. A store holding reviews is replaced only with --force, and kept beside it.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file to restore into (env COLLATE_DB)")
			boolFlag(fs, c, "force", "replace a store that holds reviews (it is kept as DB.pre-restore-TIME)")
		},
		run: runRestore,
	}
}

func runRestore(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) != 1 {
		return usageError{"name the backup directory"}
	}
	dir := r.cfg.Args[0]
	// The target is not opened with openStore: restore builds a new file and
	// renames it into place, and must not create or migrate the old one.
	res, err := backup.Restore(ctx, dir, r.cfg.DB, backup.RestoreOptions{Force: r.flag("force") != ""})
	if err != nil {
		return err
	}
	m := res.Manifest
	r.log.Info("restore", "db", r.cfg.DB, "dir", dir, "reviews", m.Rows("reviews"), "data_version", m.DataVersion, "kept_as", res.KeptAs)
	fmt.Fprintf(r.stdout, "restored %s (taken %s) into %s: %d review versions, %d withdrawals, data version %.12s\n",
		dir, m.CreatedAt.Format("2006-01-02 15:04:05 MST"), r.cfg.DB, m.Rows("reviews"), m.Rows("withdrawals"), m.DataVersion)
	if res.KeptAs != "" {
		fmt.Fprintf(r.stdout, "the store it replaced is kept as %s\n", res.KeptAs)
	}
	return nil
}
