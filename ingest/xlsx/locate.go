package xlsx

import (
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
		out[i] = p
	}
	return out
}
