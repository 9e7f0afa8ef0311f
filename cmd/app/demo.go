package app

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/collate-project/collate/ingest/demo"
)

func demoCommand() command {
	return command{
		name:    "demo",
		usage:   "[--out DIR] [--reviews N] [--seed S]",
		summary: "Generate a seeded, realistic synthetic set of review exports for every board in the geography.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.Out, "out", c.Out, "directory to write the exports to")
			fs.IntVar(&c.Reviews, "reviews", c.Reviews, fmt.Sprintf("how many reviews (at most %d)", demo.MaxReviews))
			fs.Int64Var(&c.Seed, "seed", c.Seed, "random seed; the same seed gives the same files")
		},
		run: func(ctx context.Context, r *runner) error {
			if r.cfg.Reviews < 1 || r.cfg.Reviews > demo.MaxReviews {
				return usageError{fmt.Sprintf("--reviews must be between 1 and %d", demo.MaxReviews)}
			}
			start := time.Now()
			n, err := demo.WriteDir(ctx, r.cfg.Out, demo.Options{Reviews: r.cfg.Reviews, Seed: r.cfg.Seed, Pretty: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "wrote %d demo review exports to %s in %s (seed %d)\n", n, r.cfg.Out, time.Since(start).Round(time.Millisecond), r.cfg.Seed)
			return nil
		},
	}
}
