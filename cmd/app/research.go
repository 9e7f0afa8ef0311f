package app

import (
	"context"
	"os"

	"github.com/collate-project/collate/dashboard/research"
)

// researchWorkerCommand is the child process in which `collate serve` runs
// each research query (package dashboard/research): it reads one request on
// standard input and writes the answer on standard output. People never run
// it themselves.
func researchWorkerCommand() command {
	return command{
		name:    "research-worker",
		usage:   "(internal; started by collate serve)",
		summary: "Internal: run one research query in a locked-down child process.",
		run: func(ctx context.Context, r *runner) error {
			if !research.IsWorker() {
				return usageError{"research-worker is started by collate serve, not by hand"}
			}
			return research.ServeWorker(ctx, os.Stdin, r.stdout)
		},
	}
}
