// Command collate validates, ingests, analyses and serves collated findings
// from case reviews done with the systems approach. main only reads the
// command line and environment into a Config and hands over to app.Run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/collate-project/collate/cmd/app"
)

func main() {
	cfg, err := app.Parse(os.Args[1:], os.Environ(), os.Stderr)
	if err != nil {
		os.Exit(app.ExitCode(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "collate:", err)
		os.Exit(app.ExitCode(err))
	}
}
