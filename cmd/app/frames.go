package app

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/collate-project/collate/ingest"
)

func framesCommand() command {
	return command{
		name:    "frames",
		usage:   "[--db PATH] list | register FILE",
		summary: "List the coding frames in the store, or register another frame file.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
		},
		run: func(ctx context.Context, r *runner) error {
			if len(r.cfg.Args) == 0 {
				return usageError{"say list or register FILE"}
			}
			db, err := r.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			switch r.cfg.Args[0] {
			case "list":
				frames, err := ingest.LoadFrames(ctx, db)
				if err != nil {
					return err
				}
				for _, f := range frames {
					fmt.Fprintf(r.stdout, "%s\t%s\t%d factor codes\t%s\n", f.ID, f.Version, len(f.Codes("factor")), f.Title)
				}
				return nil
			case "register":
				if len(r.cfg.Args) != 2 {
					return usageError{"name one frame file"}
				}
				data, err := os.ReadFile(r.cfg.Args[1])
				if err != nil {
					return err
				}
				f, err := ingest.RegisterFrame(ctx, db, r.cfg.Args[1], data)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "registered frame %s version %s\n", f.ID, f.Version)
				return nil
			}
			return usageError{fmt.Sprintf("unknown frames action %q", r.cfg.Args[0])}
		},
	}
}
