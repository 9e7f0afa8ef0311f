package analytics

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/collate-project/collate/ingest/errs"
)

// Lists are read newest first by walking down the review keys in widening
// windows: each window is a narrow range of keys, which DuckDB's zone maps
// find without reading the rest of the table, and the walk stops as soon as
// the page is full. A text search cannot be answered from the aggregates and
// there is no full-text index (the fts extension is not available), so it
// reads the text of every row in the windows it walks. Two limits keep a page
// quick whatever the size of the store:
//
//   - once the page is full, matches are counted on only until countTo are
//     found (the total is then "more than countTo");
//   - a walk reads at most budget keys per page asked for; where it stops,
//     the result says so and gives the key to search on from (Before).
//
// Downloads walk without the budget.

// Text-search limits.
const (
	// countTo is how far matches are counted past a full page.
	countTo = 1000
	// keyBudget is how many review keys a text search of recommendations or
	// patterns reads for each page asked for (episodes, with about twenty
	// to a review and longer text, read half as many): in the demo
	// collections about 100,000 recommendations, 80,000 patterns or 80,000
	// episodes, some 20 to 40 ms of reading text on this machine.
	keyBudget     = 8192
	maxSearchText = 200
)

// walk is one walk down the keys [lo, hi].
type walk struct {
	lo, hi int64
	skip   int   // matches to pass over before the page starts
	need   int   // rows the page holds
	budget int64 // most keys to read; 0 for no limit
	// known says the total is known already (from the aggregates or a
	// count): the walk ends with the page. Otherwise matches are counted on
	// past the page up to countTo.
	known bool
	// width is the first window's width in keys; 0 for 1024.
	width int64
	// count counts the matches with keys in [lo, hi]; list appends up to
	// limit of them, newest first, after passing over offset.
	count func(lo, hi int64) (int, error)
	list  func(lo, hi int64, limit, offset int) (int, error)
}

// walked is what a walk found: the matches counted (all of them when
// complete), and where it stopped.
type walked struct {
	matched  int
	complete bool  // every key down to lo was read
	next     int64 // when not complete: the keys below next are still to read
	// short is true when the budget ran out before the page was full: the
	// search goes on from next.
	short bool
}

func (w walk) run() (walked, error) {
	var out walked
	got := 0
	skip := w.skip
	hi, width := w.hi, int64(1024)
	if w.width > 0 {
		width = w.width
	}
	var read int64
	for hi >= w.lo {
		if got >= w.need && (w.known || out.matched > w.skip+w.need+countTo) {
			break
		}
		if w.budget > 0 && read >= w.budget {
			out.short = got < w.need
			break
		}
		if w.budget > 0 {
			width = min(width, w.budget-read)
		}
		lo := max(w.lo, hi-width+1)
		var n int
		if got < w.need && skip == 0 {
			// Nothing to pass over: list straight away. A window that
			// does not fill the page has been counted by listing it.
			want := w.need - got
			k, err := w.list(lo, hi, want, 0)
			if err != nil {
				return out, err
			}
			got += k
			n = k
			if k == want && !w.known {
				if n, err = w.count(lo, hi); err != nil {
					return out, err
				}
			}
		} else {
			c, err := w.count(lo, hi)
			if err != nil {
				return out, err
			}
			n = c
			if got < w.need {
				if n <= skip {
					skip -= n
				} else {
					k, err := w.list(lo, hi, w.need-got, skip)
					if err != nil {
						return out, err
					}
					got += k
					skip = 0
				}
			}
		}
		out.matched += n
		read += hi - lo + 1
		hi = lo - 1
		width *= 2
	}
	out.complete = hi < w.lo
	if !out.complete {
		out.next = hi + 1
	}
	return out, nil
}

// budgetKey is the context key of a smaller budget, which tests set to walk
// many windows over a small store.
type budgetKey struct{}

// withKeyBudget returns a context whose text searches read at most keys
// review keys per page.
func withKeyBudget(ctx context.Context, keys int64) context.Context {
	return context.WithValue(ctx, budgetKey{}, keys)
}

// textBudget is the keys a text search reads per page asked for.
func textBudget(ctx context.Context) int64 {
	if b, ok := ctx.Value(budgetKey{}).(int64); ok && b > 0 {
		return b
	}
	return keyBudget
}

// firstWidth guesses a first window that holds the page, from the matches
// known to lie in the keys [lo, hi]: twice the keys that hold skip+need
// matches at their average density, from 64 to 1024 keys.
func firstWidth(lo, hi int64, total, skip, need int) int64 {
	if total <= 0 {
		return 0
	}
	w := 2 * int64(skip+need) * (hi - lo + 1) / int64(total)
	return min(max(w, 64), 1024)
}

// searchWords splits search text into lower-case words; every word must
// appear (case-insensitively) for a row to match.
func searchWords(text string) ([]string, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, nil
	}
	if !utf8.ValidString(t) {
		return nil, errs.E(errs.Invalid, "search text is not valid UTF-8")
	}
	if utf8.RuneCountInString(t) > maxSearchText {
		return nil, errs.E(errs.Invalid, "search text is longer than %d characters", maxSearchText)
	}
	return strings.Fields(strings.ToLower(t)), nil
}

// textCond is the condition that every word is found in one of the columns
// (SQL expressions written in this package), with its arguments. never is a
// condition on the joined reviews that is never true (such as
// "r.review_key IS NULL" after an inner join): or-ed into each word's test,
// it keeps DuckDB from pushing the test down into the scan of the text
// table, so the text is read only for the rows of the collection, after the
// join, rather than for every row in the range of keys (about twice as fast
// for a region).
func textCond(words []string, never string, cols ...string) (string, []any) {
	var b strings.Builder
	var args []any
	for _, w := range words {
		b.WriteString(" AND (")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("contains(lower(" + c + "), ?)")
			args = append(args, w)
		}
		if never != "" {
			b.WriteString(" OR " + never)
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// continueAt is the Before that searches on where a walk stopped short.
func (w walked) continueAt() int64 {
	if w.short {
		return w.next
	}
	return 0
}

// pagesOf is the number of pages a walk shows: exact when it read every key,
// otherwise at least one more than the page asked for when more may follow.
func pagesOf(w walked, page, perPage int) int {
	pages := (w.matched + perPage - 1) / perPage
	if !w.complete && !w.short {
		pages = max(pages, page+1)
	}
	return pages
}
