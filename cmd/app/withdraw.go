package app

import (
	"context"
	"flag"
	"fmt"

	"github.com/collate-project/collate/ingest"
)

func withdrawCommand() command {
	return command{
		name:    "withdraw",
		usage:   "[--db PATH] --reason TEXT REVIEW-ID",
		summary: "Remove a review from every count and record why; its versions stay as history.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.StringVar(&c.Reason, "reason", "", "why the review is withdrawn (required)")
			fs.StringVar(&c.By, "by", "cli", "who is withdrawing it")
		},
		run: func(ctx context.Context, r *runner) error {
			if len(r.cfg.Args) != 1 {
				return usageError{"name exactly one review ID"}
			}
			if r.cfg.Reason == "" {
				return usageError{"--reason is required"}
			}
			db, err := r.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			w := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: r.log})
			if err := w.Withdraw(ctx, r.cfg.Args[0], r.cfg.Reason, r.cfg.By); err != nil {
				return err
			}
			if err := r.auditWithdraw(ctx, db, r.cfg.Args[0], r.cfg.Reason); err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "withdrew review %s\n", r.cfg.Args[0])
			return nil
		},
	}
}
