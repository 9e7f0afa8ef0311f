package analytics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// SuppressedSymbol is the GSS symbol shown for a figure withheld to protect
// confidentiality.
const SuppressedSymbol = "c"

// Count is a whole-number figure that may be suppressed. Its value is not
// reachable without asking whether it is known, so a suppressed count can
// never be read as 0. It marshals to a JSON number, or to "c" when suppressed.
type Count struct {
	n   int
	sup bool
}

// KnownCount returns a published count.
func KnownCount(n int) Count { return Count{n: n} }

// SuppressedCount returns a withheld count.
func SuppressedCount() Count { return Count{sup: true} }

// Value returns the count and true, or 0 and false when it is suppressed.
func (c Count) Value() (int, bool) {
	if c.sup {
		return 0, false
	}
	return c.n, true
}

// Suppressed reports whether the count is withheld.
func (c Count) Suppressed() bool { return c.sup }

// Equal lets cmp.Diff compare counts.
func (c Count) Equal(o Count) bool { return c.sup == o.sup && (c.sup || c.n == o.n) }

// String gives the count as published: digits, or "c".
func (c Count) String() string {
	if c.sup {
		return SuppressedSymbol
	}
	return strconv.Itoa(c.n)
}

// MarshalJSON writes a number, or "c" when suppressed.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.sup {
		return []byte(`"c"`), nil
	}
	return strconv.AppendInt(nil, int64(c.n), 10), nil
}

// UnmarshalJSON reads a number or "c".
func (c *Count) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte(`"c"`)) {
		*c = SuppressedCount()
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("count: want a number or \"c\": %w", err)
	}
	*c = KnownCount(n)
	return nil
}

// Figure is a real-valued figure (a share, a ratio, a p-value, an interval
// end) that may be suppressed or simply not available (for example a ratio
// with a zero denominator). Like Count its value is only reachable through
// Value. It marshals to a JSON number, "c" when suppressed, or null when not
// available.
type Figure struct {
	v   float64
	ok  bool
	sup bool
}

// KnownFigure returns a published figure. NaN and infinities become "not available".
func KnownFigure(v float64) Figure {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Figure{}
	}
	return Figure{v: v, ok: true}
}

// SuppressedFigure returns a withheld figure.
func SuppressedFigure() Figure { return Figure{sup: true} }

// NoFigure returns a figure that is not available (neither known nor suppressed).
func NoFigure() Figure { return Figure{} }

// Value returns the figure and true, or 0 and false when it is suppressed or
// not available.
func (f Figure) Value() (float64, bool) {
	if f.sup || !f.ok {
		return 0, false
	}
	return f.v, true
}

// Suppressed reports whether the figure is withheld.
func (f Figure) Suppressed() bool { return f.sup }

// Available reports whether the figure has a published value.
func (f Figure) Available() bool { return f.ok && !f.sup }

// Equal lets cmp.Diff compare figures; values equal to 12 significant digits match.
func (f Figure) Equal(o Figure) bool {
	if f.sup != o.sup || f.ok != o.ok {
		return false
	}
	if !f.ok || f.sup {
		return true
	}
	return f.v == o.v || math.Abs(f.v-o.v) <= 1e-12*math.Max(math.Abs(f.v), math.Abs(o.v))
}

// String gives the figure as published: up to 4 significant digits, "c", or "" when not available.
func (f Figure) String() string {
	switch {
	case f.sup:
		return SuppressedSymbol
	case !f.ok:
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', 4, 64)
}

// MarshalJSON writes a number, "c" when suppressed, or null when not available.
func (f Figure) MarshalJSON() ([]byte, error) {
	switch {
	case f.sup:
		return []byte(`"c"`), nil
	case !f.ok:
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f.v, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, "c" or null.
func (f *Figure) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte(`"c"`)):
		*f = SuppressedFigure()
		return nil
	case bytes.Equal(b, []byte("null")):
		*f = NoFigure()
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("figure: want a number, \"c\" or null: %w", err)
	}
	*f = KnownFigure(v)
	return nil
}

// Interval is a confidence interval; both ends are suppressed together.
type Interval struct {
	Lo Figure `json:"lo"`
	Hi Figure `json:"hi"`
}

func suppressedInterval() Interval { return Interval{SuppressedFigure(), SuppressedFigure()} }
