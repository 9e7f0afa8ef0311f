package ingest

import (
	"fmt"
	"strings"
)

// Problem is one reason a file is refused. It is a value for users: the CLI,
// the API and the upload page all show the same fields.
type Problem struct {
	File     string `json:"file"`
	Location string `json:"location"` // a JSON pointer, or Sheet!Cell for workbooks
	Message  string `json:"message"`
	Expected string `json:"expected,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	loc := p.Location
	if loc == "" {
		loc = "/"
	}
	fmt.Fprintf(&b, "%s: %s: %s", p.File, loc, p.Message)
	if p.Expected != "" {
		fmt.Fprintf(&b, " (expected %s)", p.Expected)
	}
	if p.Hint != "" {
		fmt.Fprintf(&b, "; hint: %s", p.Hint)
	}
	return b.String()
}

// Problems is the error returned when a file is invalid: every problem found, in
// document order.
type Problems []Problem

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].String()
	}
	return fmt.Sprintf("%s (and %d more)", ps[0].String(), len(ps)-1)
}
