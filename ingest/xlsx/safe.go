package xlsx

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// plainNumber matches text a spreadsheet reads as a number and never as a
// formula, so SafeCell leaves signed numbers such as "-3" or "+1.5e3" alone.
var plainNumber = regexp.MustCompile(`^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$`)

// SafeCell returns s as text a spreadsheet will not run as a formula when the
// text lands in a CSV or is typed back into a cell. Text that starts with =,
// +, -, @, a tab or a carriage return (also after leading spaces, and in the
// full-width forms some spreadsheets accept) gets a leading apostrophe, which
// spreadsheets show as a text marker. Plain signed numbers are left alone.
//
// Every CSV file Collate writes goes through SafeCell (SafeCSVWriter does it).
// Workbooks written by this package do not need it: their cells are typed as
// text, formatted as Text and marked with Excel's quote prefix, so they keep
// the exact value.
func SafeCell(s string) string {
	if Risky(s) {
		return "'" + s
	}
	return s
}

// Risky reports whether a spreadsheet could take s as a formula.
func Risky(s string) bool {
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return false
	}
	switch t[0] {
	case '\t', '\r', '\n':
		return true
	case '=', '+', '-', '@':
		return !plainNumber.MatchString(strings.TrimSpace(s))
	}
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// SafeCSVWriter is an encoding/csv Writer that passes every field through
// SafeCell. Use it for every CSV download Collate offers.
type SafeCSVWriter struct {
	w   *csv.Writer
	buf []string
}

// NewSafeCSVWriter returns a SafeCSVWriter writing to w.
func NewSafeCSVWriter(w io.Writer) *SafeCSVWriter {
	return &SafeCSVWriter{w: csv.NewWriter(w)}
}

// CSV gives access to the underlying writer's settings (Comma, UseCRLF).
func (s *SafeCSVWriter) CSV() *csv.Writer { return s.w }

// Write writes one record, each field made safe.
func (s *SafeCSVWriter) Write(record []string) error {
	s.buf = s.buf[:0]
	for _, f := range record {
		s.buf = append(s.buf, SafeCell(f))
	}
	return s.w.Write(s.buf)
}

// WriteAll writes every record, each field made safe, and flushes.
func (s *SafeCSVWriter) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := s.Write(r); err != nil {
			return err
		}
	}
	s.w.Flush()
	return s.w.Error()
}

// Flush writes any buffered data to the underlying io.Writer.
func (s *SafeCSVWriter) Flush() { s.w.Flush() }

// Error reports any error from a previous Write or Flush.
func (s *SafeCSVWriter) Error() error { return s.w.Error() }
