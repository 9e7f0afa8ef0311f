package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

func validateCommand() command {
	return command{
		name:    "validate",
		usage:   "[--json] [--frame FILE]... FILE|DIR...",
		summary: "Check review exports offline, with no database. Exits 0 only when every file is valid.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.BoolVar(&c.JSON, "json", false, "print results as JSON for tools")
			c.extra["frame"] = fs.String("frame", "", "also accept exports coded against this frame file")
		},
		run: runValidate,
	}
}

// fileResult is one file's outcome, as printed by validate and ingest --json.
type fileResult struct {
	File     string           `json:"file"`
	Valid    bool             `json:"valid"`
	ReviewID string           `json:"review_id,omitempty"`
	Outcome  ingest.Outcome   `json:"outcome,omitempty"`
	Version  int              `json:"version,omitempty"`
	SHA256   string           `json:"content_sha256,omitempty"`
	Problems []ingest.Problem `json:"problems,omitempty"`
}

func problemsOf(path string, err error) []ingest.Problem {
	var ps ingest.Problems
	if errors.As(err, &ps) {
		return ps
	}
	return []ingest.Problem{{File: path, Location: "/", Message: err.Error()}}
}

func (r *runner) offlineValidator() (*ingest.Validator, error) {
	frames := schemas.BuiltinFrames()
	if p := r.cfg.extra["frame"]; p != nil && *p != "" {
		data, err := os.ReadFile(*p)
		if err != nil {
			return nil, fmt.Errorf("read frame: %w", err)
		}
		f, err := schemas.ParseFrame(data)
		if err != nil {
			return nil, fmt.Errorf("frame %s: %w", *p, err)
		}
		frames = append(frames, f)
	}
	return ingest.NewValidator(ingest.ValidatorOptions{Frames: frames})
}

func runValidate(ctx context.Context, r *runner) error {
	files, err := collectFiles(r.cfg.Args)
	if err != nil {
		return err
	}
	v, err := r.offlineValidator()
	if err != nil {
		return err
	}
	results := validateAll(ctx, v, files, nil)
	invalid := 0
	out := make([]fileResult, 0, len(results))
	for _, c := range results {
		fr := fileResult{File: c.path, Valid: c.err == nil}
		if c.err != nil {
			invalid++
			fr.Problems = problemsOf(c.path, c.err)
		} else {
			fr.ReviewID = c.export.Review.ID
		}
		out = append(out, fr)
	}
	if r.cfg.JSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Files   []fileResult `json:"files"`
			Valid   int          `json:"valid"`
			Invalid int          `json:"invalid"`
		}{out, len(out) - invalid, invalid}); err != nil {
			return err
		}
	} else {
		for _, fr := range out {
			if fr.Valid {
				fmt.Fprintf(r.stdout, "ok      %s (review %s)\n", fr.File, fr.ReviewID)
				continue
			}
			fmt.Fprintf(r.stdout, "INVALID %s\n", fr.File)
			for _, p := range fr.Problems {
				fmt.Fprintf(r.stdout, "  - %s\n", p)
			}
		}
		fmt.Fprintf(r.stdout, "%d valid, %d invalid\n", len(out)-invalid, invalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if invalid > 0 {
		return failedError{fmt.Sprintf("%d of %d files are invalid", invalid, len(out))}
	}
	return nil
}

// validateAll validates files on every core and returns results in file
// order. progress, when set, is called after each file.
func validateAll(ctx context.Context, v *ingest.Validator, files []string, progress func()) []checked {
	results := make([]checked, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = readAndValidate(v, files[i])
				if progress != nil {
					progress()
				}
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}
