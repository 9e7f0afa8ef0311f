package research

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/collate-project/collate/ingest/errs"
)

// onlySelect is the refusal of anything but one SELECT or WITH query.
const onlySelect = "only one SELECT or WITH query is accepted"

// checkText is the first, lexical check: a bounded, printable text whose
// first word, after comments, is SELECT or WITH.
func checkText(q string, maxLen int) error {
	switch {
	case len(q) > maxLen:
		return errs.E(errs.Invalid, "the query is %d bytes; at most %d are accepted", len(q), maxLen)
	case !utf8.ValidString(q) || strings.ContainsRune(q, 0):
		return errs.E(errs.Invalid, "the query is not valid UTF-8 text")
	}
	word := strings.ToUpper(firstWord(q))
	if word != "SELECT" && word != "WITH" {
		if word == "" {
			return errs.E(errs.Invalid, "the query is empty; %s", onlySelect)
		}
		return errs.E(errs.Invalid, "%s, not %s", onlySelect, word)
	}
	return nil
}

// firstWord returns the first word of q after white space and comments.
func firstWord(q string) string {
	for {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return ""
			}
			q = q[i+1:]
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return ""
			}
			q = q[i+2:]
		default:
			end := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) })
			if end < 0 {
				return q
			}
			return q[:end]
		}
	}
}

// checkParsed is the second check, by DuckDB's own parser: the text must be
// exactly one statement that json_serialize_sql accepts, and it accepts
// SELECT statements only (a WITH ... DELETE, COPY, ATTACH, PRAGMA or SET is
// refused). The text is a parameter, never spliced into SQL.
func checkParsed(ctx context.Context, conn interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, q string) error {
	var raw string
	if err := conn.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)`, q).Scan(&raw); err != nil {
		return fmt.Errorf("check query: %w", err)
	}
	var parsed struct {
		Error        bool              `json:"error"`
		ErrorType    string            `json:"error_type"`
		ErrorMessage string            `json:"error_message"`
		Statements   []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
		return fmt.Errorf("check query: %w", err)
	}
	switch {
	case parsed.Error && parsed.ErrorType == "parser":
		return errs.E(errs.Invalid, "the query does not parse: %s", parsed.ErrorMessage)
	case parsed.Error:
		return errs.E(errs.Invalid, "%s (%s)", onlySelect, parsed.ErrorMessage)
	case len(parsed.Statements) == 0:
		return errs.E(errs.Invalid, "the query is empty; %s", onlySelect)
	case len(parsed.Statements) > 1:
		return errs.E(errs.Invalid, "%s; this text holds %d statements", onlySelect, len(parsed.Statements))
	}
	return nil
}
