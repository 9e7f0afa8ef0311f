package xlsx

import (
	"regexp"
	"strings"

	"github.com/collate-project/collate/ingest"
)

// Locations maps JSON pointers into a converted export to the workbook cells
// (Sheet!Cell) their values came from.
type Locations map[string]string

// Locate returns the cell for a JSON pointer: the pointer's own cell, or
// failing that the cell of its nearest ancestor that has one (a missing
// field points at its row). ok is false when nothing in the pointer's path
// came from the workbook.
func (l Locations) Locate(pointer string) (string, bool) {
	p := pointer
	for {
		if loc, ok := l[p]; ok {
			return loc, true
		}
		if p == "" || p == "/" {
			return "", false
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// Translate rewrites problems whose locations are JSON pointers into this
// workbook's Sheet!Cell locations. A problem that names a pointer with no
// cell keeps the pointer.
func (l Locations) Translate(ps ingest.Problems) ingest.Problems {
	out := make(ingest.Problems, len(ps))
	for i, p := range ps {
		if loc, ok := l.Locate(p.Location); ok {
			p.Location = loc
		}
		p.Message, p.Expected, p.Hint = l.inText(p.Message), l.inText(p.Expected), l.inText(p.Hint)
		out[i] = p
	}
	return out
}

// pointerInText finds JSON pointers into an export quoted in a message, such
// as "first at /episodes/1".
var pointerInText = regexp.MustCompile(`/(?:format|review|episodes|patterns|recommendations)(?:/[A-Za-z0-9_]+)*`)

// inText rewrites the JSON pointers a message mentions as cells.
func (l Locations) inText(s string) string {
	if !strings.Contains(s, "/") {
		return s
	}
	return pointerInText.ReplaceAllStringFunc(s, func(p string) string {
		if loc, ok := l[p]; ok {
			return loc
		}
		return p
	})
}
