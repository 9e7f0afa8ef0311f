package app

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/collate-project/collate/ingest"
)

// exportExts are the file endings read from directories.
var exportExts = map[string]bool{".json": true, ".xlsx": true}

// collectFiles expands files and directories (recursively) into export files,
// in a stable order. A file named directly is read whatever its ending.
func collectFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, usageError{"name at least one file or directory"}
	}
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", a, err)
		}
		if !info.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != a {
				return filepath.SkipDir
			}
			if !d.IsDir() && exportExts[strings.ToLower(filepath.Ext(p))] {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read directory %s: %w", a, err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// checked is one file after validation.
type checked struct {
	path   string
	format string
	export *ingest.Export
	err    error // ingest.Problems when the file is invalid
}

// readAndValidate reads one file and validates it. The size limit is checked
// before the whole file is read.
func readAndValidate(v *ingest.Validator, path string) checked {
	c := checked{path: path, format: "json"}
	f, err := os.Open(path)
	if err != nil {
		c.err = ingest.Problems{{File: path, Location: "/", Message: "cannot read the file: " + err.Error()}}
		return c
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		c.err = ingest.Problems{{File: path, Location: "/", Message: "cannot read the file: " + err.Error()}}
		return c
	}
	if info.Size() > ingest.DefaultMaxBytes {
		c.err = ingest.Problems{{File: path, Location: "/", Message: fmt.Sprintf("the file is %d bytes, over the limit", info.Size()),
			Expected: fmt.Sprintf("at most %d bytes (8 MiB)", ingest.DefaultMaxBytes), Hint: "split very large reviews or shorten long text fields"}}
		return c
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		c.err = ingest.Problems{{File: path, Location: "/", Message: "cannot read the file: " + err.Error()}}
		return c
	}
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		c.format = "xlsx"
		c.export, c.err = validateWorkbook(v, path, data)
		return c
	}
	c.export, c.err = v.Validate(path, data)
	return c
}
