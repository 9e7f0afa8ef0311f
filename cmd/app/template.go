package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/xlsx"
	"github.com/collate-project/collate/schemas"
)

func templateCommand() command {
	return command{
		name:    "template",
		usage:   "[--frame FILE|ID@VERSION] [--out review.xlsx]",
		summary: "Write an Excel workbook template for a review, with dropdowns generated from the coding frame.",
		flags: func(fs *flag.FlagSet, c *Config) {
			c.extra["frame"] = fs.String("frame", schemas.DefaultFrameID+"@"+schemas.DefaultFrameVersion, "coding frame: a frame file, or id@version of a built-in frame")
			fs.StringVar(&c.Out, "out", "review.xlsx", "workbook to write")
		},
		run: func(ctx context.Context, r *runner) error {
			f, err := resolveFrame(*r.cfg.extra["frame"])
			if err != nil {
				return err
			}
			if err := xlsx.TemplateFile(r.cfg.Out, f, schemas.LoadGeography()); err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "wrote template %s for frame %s\n", r.cfg.Out, f.Key())
			return nil
		},
	}
}

// resolveFrame finds a built-in frame by id@version, or reads a frame file.
func resolveFrame(spec string) (*schemas.Frame, error) {
	for _, f := range schemas.BuiltinFrames() {
		if f.Key() == spec || f.ID == spec {
			return f, nil
		}
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--frame %s is neither a built-in frame (id@version) nor a readable file", spec)}
	}
	return schemas.ParseFrame(data)
}

func convertCommand() command {
	return command{
		name:    "convert",
		usage:   "[--frame FILE] IN OUT",
		summary: "Convert a review export between JSON and Excel (.xlsx); the input is validated first.",
		flags: func(fs *flag.FlagSet, c *Config) {
			c.extra["frame"] = fs.String("frame", "", "also accept exports coded against this frame file")
		},
		run: func(ctx context.Context, r *runner) error {
			if len(r.cfg.Args) != 2 {
				return usageError{"name one input file and one output file"}
			}
			in, out := r.cfg.Args[0], r.cfg.Args[1]
			v, err := r.offlineValidator()
			if err != nil {
				return err
			}
			c := readAndValidate(v, in)
			if c.err != nil {
				for _, p := range problemsOf(in, c.err) {
					fmt.Fprintf(r.stdout, "  - %s\n", p)
				}
				return failedError{fmt.Sprintf("%s is invalid; nothing was written", in)}
			}
			switch strings.ToLower(filepath.Ext(out)) {
			case ".xlsx":
				f, err := frameOf(c.export, r)
				if err != nil {
					return err
				}
				if err := xlsx.WriteFile(out, c.export, f, schemas.LoadGeography()); err != nil {
					return err
				}
			case ".json":
				b, err := json.MarshalIndent(c.export, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
					return err
				}
			default:
				return usageError{"the output file must end in .json or .xlsx"}
			}
			fmt.Fprintf(r.stdout, "converted %s to %s (review %s)\n", in, out, c.export.Review.ID)
			return nil
		},
	}
}

func frameOf(e *ingest.Export, r *runner) (*schemas.Frame, error) {
	if p := r.cfg.extra["frame"]; p != nil && *p != "" {
		return resolveFrame(*p)
	}
	return resolveFrame(e.Review.Frame.ID + "@" + e.Review.Frame.Version)
}
