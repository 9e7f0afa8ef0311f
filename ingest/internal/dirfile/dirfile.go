// Package dirfile holds the file and SQL-quoting helpers shared by the
// commands that write a store out to a directory (backup, federate): an
// empty-directory check, checksums, a durable JSON manifest writer and the
// quoting of names and paths put into DuckDB statements.
package dirfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

// CheckEmptyDir accepts a path that does not exist or is an empty directory;
// what names the output ("backup", "export") in the messages.
func CheckEmptyDir(dir, what string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		if info, serr := os.Stat(dir); serr == nil && !info.IsDir() {
			return errs.E(errs.Invalid, "%s is a file, not a directory; name a new directory for the %s", dir, what)
		}
		return fmt.Errorf("%s %s: %w", what, dir, err)
	case len(entries) > 0:
		return errs.E(errs.Conflict, "%s directory %s is not empty; name a new or empty directory", what, dir)
	}
	return nil
}

// QuoteIdent quotes a DuckDB identifier.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// QuoteLiteral quotes a DuckDB string literal, for paths in COPY statements,
// which take no parameters.
func QuoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// FileSum returns a file's size and SHA-256, read as a stream.
func FileSum(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// WriteJSON writes v as indented JSON to a new file and syncs it.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
