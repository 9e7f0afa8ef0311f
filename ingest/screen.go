package ingest

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The screen refuses identifying information in free text. Reviews follow the
// seed's rule for anything that may be published: professionals by role, the
// family by pseudonym ("Ms A", "Child C"), no geographic identifier below the
// board. The screen cannot prove text anonymous; it catches the identifiers
// that slip through most often and that a pattern can recognise reliably,
// and it is tuned so that ordinary review language (roles, agencies, counts,
// years, legal sections, service tiers) passes.
//
// The detectors are hand-written scans rather than regular expressions:
// the screen reads every free-text field of hundreds of thousands of exports,
// and a byte loop that bails out early is many times faster than running
// seven expressions over each field.

// idKind is a kind of identifying information.
type idKind int

const (
	idEmail idKind = iota
	idPhone
	idPostcode
	idNHS
	idNINO
	idDOB
	idName
)

// idKinds describes each kind for users. keep is how many letters or digits
// of a match the masked excerpt shows: enough to find the spot, never the
// identifier.
var idKinds = [...]struct {
	label string
	hint  string
	keep  int
}{
	idEmail:    {"an email address", "remove the email address; refer to people by role, never by contact details", 1},
	idPhone:    {"a phone number", "remove the phone number; refer to people by role, never by contact details", 2},
	idPostcode: {"a postcode", "remove the postcode; no geographic identifier below the board may appear", 0},
	idNHS:      {"an NHS number", "remove the NHS number; no number that identifies a person may appear", 0},
	idNINO:     {"a National Insurance number", "remove the National Insurance number; no number that identifies a person may appear", 0},
	idDOB:      {"a date of birth", "give an age (\"aged 3\") instead of a date of birth", 0},
	idName:     {"a personal name after a title", "refer to professionals by role and to family members by pseudonym, such as \"Ms A\" or \"Child C\"", 1},
}

// screenExpected is the Expected text of every screen problem.
const screenExpected = "text without identifying information: roles not names, pseudonyms for the family, no contact details, personal numbers or places below the board"

// finding is one identifier found in a text, as byte offsets.
type finding struct {
	kind       idKind
	start, end int
}

// screenExport reads every free-text field of e and appends a problem for
// each identifier found, naming the field and showing a masked excerpt.
func screenExport(name string, e *Export, ps []Problem) []Problem {
	w := screener{name: name, ps: ps}
	r := &e.Review
	w.text(r.ID, "/review/id", 0, 0)
	for i, q := range r.Questions {
		w.text(q, "/review/questions/%d", i, 0)
	}
	for i, a := range r.Agencies {
		w.text(a, "/review/agencies/%d", i, 0)
	}
	for i, p := range r.Participants {
		w.text(p.Role, "/review/participants/%d/role", i, 0)
		w.text(p.Agency, "/review/participants/%d/agency", i, 0)
	}
	w.text(r.Coding.CoderRole, "/review/coding/coder_role", 0, 0)
	for i := range e.Episodes {
		ep := &e.Episodes[i]
		w.text(ep.Title, "/episodes/%d/title", i, 0)
		w.text(ep.Description, "/episodes/%d/description", i, 0)
		w.text(ep.Significance, "/episodes/%d/significance", i, 0)
		for j, a := range ep.Agencies {
			w.text(a, "/episodes/%d/agencies/%d", i, j)
		}
		for j, ev := range ep.Evidence {
			w.text(ev.Note, "/episodes/%d/evidence/%d/note", i, j)
		}
		for j, f := range ep.Factors {
			w.text(f.Detail, "/episodes/%d/factors/%d/detail", i, j)
		}
	}
	for i := range e.Patterns {
		p := &e.Patterns[i]
		w.text(p.ProposedSubPattern, "/patterns/%d/proposed_sub_pattern", i, 0)
		w.text(p.Summary, "/patterns/%d/summary", i, 0)
	}
	for i := range e.Recommendations {
		w.text(e.Recommendations[i].Text, "/recommendations/%d/text", i, 0)
	}
	return w.ps
}

// ScreenText screens one piece of free text that is not (yet) a field of an
// export, such as a workbook cell, exactly as Check screens each field. It
// returns a problem for each identifier found, located at loc, with a masked
// excerpt; none when the text is clean.
func ScreenText(file, loc, text string) Problems {
	w := screener{name: file}
	w.screen(text, fieldPtr{literal: loc})
	if len(w.ps) == 0 {
		return nil
	}
	return w.ps
}

type screener struct {
	name  string
	ps    []Problem
	found int
	buf   []finding
}

// text screens one field. The pointer is a format with up to two indexes,
// built only when something is found, so clean text costs no allocation.
func (w *screener) text(s, format string, i, j int) {
	w.screen(s, fieldPtr{format: format, i: i, j: j})
}

// fieldPtr is a location built on demand: a literal, or a pointer format
// with up to two indexes.
type fieldPtr struct {
	literal string
	format  string
	i, j    int
}

func (p fieldPtr) String() string {
	switch {
	case p.format == "":
		return p.literal
	case strings.Count(p.format, "%d") == 1:
		return fmt.Sprintf(p.format, p.i)
	case strings.Count(p.format, "%d") == 2:
		return fmt.Sprintf(p.format, p.i, p.j)
	}
	return p.format
}

func (w *screener) screen(s string, at fieldPtr) {
	if s == "" || w.found >= MaxProblems {
		return
	}
	w.buf = screenText(s, w.buf[:0])
	if len(w.buf) == 0 {
		return
	}
	ptr := at.String()
	star := maskOf(s, w.buf)
	for _, f := range w.buf {
		if w.found >= MaxProblems {
			return
		}
		w.found++
		w.ps = append(w.ps, Problem{File: w.name, Location: ptr,
			Message:  fmt.Sprintf("identifying information (%s): \"%s\"", idKinds[f.kind].label, maskedExcerpt(s, star, f)),
			Expected: screenExpected,
			Hint:     idKinds[f.kind].hint,
		})
	}
}

// screenText appends the identifiers found in s to out, in order, without
// overlaps. A first pass over the bytes decides which detectors can match at
// all: most review text has no '@', few digits and no title.
func screenText(s string, out []finding) []finding {
	var hasDigit, hasAt, hasTitle bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c == '@':
			hasAt = true
		case c == 'M' || c == 'D':
			hasTitle = true
		}
	}
	n := len(out)
	if hasAt {
		out = findEmails(s, out)
	}
	if hasDigit {
		out = findNumbers(s, out)
		out = findPostcodes(s, out)
		out = findNINOs(s, out)
		out = findDOBs(s, out)
	}
	if hasTitle {
		out = findTitledNames(s, out)
	}
	fs := out[n:]
	if len(fs) > 1 {
		sort.SliceStable(fs, func(a, b int) bool { return fs[a].start < fs[b].start })
		kept := fs[:1]
		for _, f := range fs[1:] {
			if f.start >= kept[len(kept)-1].end {
				kept = append(kept, f)
			}
		}
		out = out[:n+len(kept)]
	}
	return out
}

// ---- masking ----

// maskOf marks the bytes of s that an excerpt must hide: the letters and
// digits of every finding, and of every other occurrence of a finding's text
// (and of each word of a name), so that no excerpt shows an identifier, even
// one repeated nearby without its title. Each finding keeps its first few
// letters or digits (idKinds' keep) so a reader can find the spot. The mask
// is built once per text: excerpts then cost only their own length, however
// many identifiers a hostile text holds.
func maskOf(s string, fs []finding) []bool {
	star := make([]bool, len(s))
	mark := func(start, end, keep int) {
		alnum := 0
		for p := start; p < end; {
			r, size := utf8.DecodeRuneInString(s[p:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				if alnum >= keep {
					for q := p; q < p+size; q++ {
						star[q] = true
					}
				}
				alnum++
			}
			p += size
		}
	}
	seen := map[string]bool{}
	hide := func(t string, keep int) {
		if len(t) < 2 || seen[t] {
			return
		}
		seen[t] = true
		for off := 0; off < len(s); {
			k := strings.Index(s[off:], t)
			if k < 0 {
				return
			}
			mark(off+k, off+k+len(t), keep)
			off += k + 1
		}
	}
	for _, f := range fs {
		keep := idKinds[f.kind].keep
		mark(f.start, f.end, keep)
		hide(s[f.start:f.end], keep)
		if f.kind == idName {
			for _, word := range strings.Fields(s[f.start:f.end]) {
				if utf8.RuneCountInString(word) >= 2 {
					hide(word, 1)
				}
			}
		}
	}
	return star
}

// maskedExcerpt shows the finding in a little context, with every masked
// letter and digit replaced by '*' (separators stay, so a reader can still
// see the shape: "07*** ******").
func maskedExcerpt(s string, star []bool, f finding) string {
	const context = 24
	lo := max(f.start-context, 0)
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	hi := min(f.end+context, len(s))
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	// Cut at spaces where possible, so the excerpt shows whole words.
	if lo > 0 && s[lo-1] != ' ' {
		if sp := strings.IndexByte(s[lo:f.start], ' '); sp >= 0 {
			lo += sp + 1
		}
	}
	if hi < len(s) && s[hi] != ' ' {
		if sp := strings.LastIndexByte(s[f.end:hi], ' '); sp >= 0 {
			hi = f.end + sp
		}
	}
	var b strings.Builder
	if lo > 0 {
		b.WriteString("... ")
	}
	for p := lo; p < hi; {
		r, size := utf8.DecodeRuneInString(s[p:])
		switch {
		case star[p]:
			b.WriteByte('*')
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			// '?' belongs to no identifier, so this cannot join two halves
			// of one into something the screen would have hidden.
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		p += size
	}
	if hi < len(s) {
		b.WriteString(" ...")
	}
	return b.String()
}

// ---- character classes ----

func isASCIILetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isUpperASCII(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLowerASCII(c byte) bool  { return c >= 'a' && c <= 'z' }
func toUpperASCII(c byte) byte {
	if isLowerASCII(c) {
		return c - 'a' + 'A'
	}
	return c
}

// wordBefore reports whether a letter or digit ends just before i, so that a
// match cannot start in the middle of a word or number.
func wordBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return isASCIILetter(c) || isDigit(c) || c == '_'
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordAt reports whether a letter or digit starts at i.
func wordAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	if c := s[i]; c < utf8.RuneSelf {
		return isASCIILetter(c) || isDigit(c) || c == '_'
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// spaceAt returns the width of one space (ASCII or no-break) at i, or 0.
func spaceAt(s string, i int) int {
	switch {
	case i >= len(s):
		return 0
	case s[i] == ' ':
		return 1
	case strings.HasPrefix(s[i:], "\u00a0"):
		return 2
	}
	return 0
}

// ---- email addresses ----

func findEmails(s string, out []finding) []finding {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		l := i
		for l > 0 && isEmailLocal(s[l-1]) {
			l--
		}
		for l < i && s[l] == '.' {
			l++
		}
		r := i + 1
		for r < len(s) && isEmailDomain(s[r]) {
			r++
		}
		for r > i+1 && (s[r-1] == '.' || s[r-1] == '-') {
			r--
		}
		if l == i || r == i+1 {
			continue
		}
		dom := s[i+1 : r]
		dot := strings.LastIndexByte(dom, '.')
		if dot <= 0 || len(dom)-dot-1 < 2 || !allASCIILetters(dom[dot+1:]) {
			continue
		}
		out = append(out, finding{idEmail, l, r})
		i = r - 1
	}
	return out
}

func isEmailLocal(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || strings.IndexByte("._%+-'", c) >= 0
}

func isEmailDomain(c byte) bool { return isASCIILetter(c) || isDigit(c) || c == '.' || c == '-' }

func allASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIILetter(s[i]) {
			return false
		}
	}
	return s != ""
}

// ---- phone and NHS numbers ----

// findNumbers finds UK phone numbers and NHS numbers: runs of digit groups
// separated by single spaces or dashes, possibly with "+44" or a bracketed
// area code. A run may hold several numbers ("in 2019 07700 900123"), so a
// candidate is tried from the start of every group.
func findNumbers(s string, out []finding) []finding {
	for i := 0; i < len(s); {
		c := s[i]
		start := (isDigit(c) || (c == '+' || c == '(') && i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '(')) &&
			!wordBefore(s, i) && (i == 0 || s[i-1] != '+' && s[i-1] != '.' && s[i-1] != ',')
		if !start {
			i++
			continue
		}
		if end, kind, ok := matchNumber(s, i); ok {
			out = append(out, finding{kind, i, end})
			i = end
			continue
		}
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return out
}

func matchNumber(s string, start int) (int, idKind, bool) {
	var digits [24]byte
	var groupLen, groupEnd [12]int
	nd, ng := 0, 0
	i := start
	plus := false
	if s[i] == '+' {
		plus = true
		i++
	}
	for ng < len(groupLen) {
		paren := i < len(s) && s[i] == '('
		if paren {
			i++
		}
		gs := i
		for i < len(s) && isDigit(s[i]) && nd < len(digits) {
			digits[nd] = s[i]
			nd++
			i++
		}
		// A group too long to be part of a phone number ends the run; the
		// groups before it may still be one.
		if i == gs || i < len(s) && isDigit(s[i]) || paren && (i >= len(s) || s[i] != ')') {
			break
		}
		dl := i - gs
		if paren {
			i++
		}
		groupLen[ng], groupEnd[ng] = dl, i
		ng++
		j := i
		if j < len(s) && (s[j] == ' ' || s[j] == '-') {
			j++
		} else {
			j += spaceAt(s, j)
		}
		if j < len(s) && (isDigit(s[j]) || s[j] == '(') && (j > i || paren) {
			i = j
			continue
		}
		break
	}
	// The longest run of whole groups that is an identifier wins.
	for k := ng; k >= 1; k-- {
		end := groupEnd[k-1]
		if wordAt(s, end) {
			continue
		}
		n := 0
		for g := 0; g < k; g++ {
			n += groupLen[g]
		}
		d := digits[:n]
		if isUKPhone(d, plus) {
			return end, idPhone, true
		}
		if !plus && s[start] != '(' && n == 10 && (k == 1 || k == 3 && groupLen[0] == 3 && groupLen[1] == 3 && groupLen[2] == 4) && validNHS(d) {
			return end, idNHS, true
		}
	}
	return 0, 0, false
}

// isUKPhone recognises UK numbers by their digits: mobiles 07 and eleven
// digits; geographic and non-geographic landlines 01, 02 and 03 with ten or
// eleven; and the same after +44 or 0044, with or without the bracketed 0.
func isUKPhone(d []byte, plus bool) bool {
	var rest []byte
	switch {
	case plus:
		if len(d) < 2 || d[0] != '4' || d[1] != '4' {
			return false
		}
		rest = d[2:]
	case len(d) > 4 && string(d[:4]) == "0044":
		rest = d[4:]
	default:
		if len(d) < 10 || len(d) > 11 || d[0] != '0' {
			return false
		}
		switch d[1] {
		case '7':
			return len(d) == 11
		case '1', '2', '3':
			return true
		}
		return false
	}
	if len(rest) > 0 && rest[0] == '0' {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return false
	}
	switch rest[0] {
	case '7', '2', '3':
		return len(rest) == 10
	case '1':
		return len(rest) == 9 || len(rest) == 10
	}
	return false
}

// validNHS applies the NHS number's Modulus 11 check: weights 10 down to 2
// on the first nine digits; 11 minus the remainder is the check digit, 11
// meaning 0 and 10 meaning the number cannot exist.
func validNHS(d []byte) bool {
	if len(d) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(d[9]-'0')
}

// ---- postcodes ----

// postcodeAreas are the UK postcode areas (with the Crown dependencies and
// BFPO), the letters a full postcode begins with. Requiring a real area keeps
// ordinary text ("S47 enquiry", "Y2 2ND") from looking like a postcode.
var postcodeAreas = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range strings.Fields(`AB AL B BA BB BD BF BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW
		DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX
		IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW
		OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY
		TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE`) {
		m[a] = true
	}
	return m
}()

func findPostcodes(s string, out []finding) []finding {
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) {
			continue
		}
		// A postcode's first digit is its second or third character.
		if !(isDigit(s[i+1]) || isASCIILetter(s[i+1]) && isDigit(s[i+2])) || wordBefore(s, i) {
			continue
		}
		if end, ok := matchPostcode(s, i); ok {
			out = append(out, finding{idPostcode, i, end})
			i = end - 1
		}
	}
	return out
}

// matchPostcode matches a full postcode (outward and inward code) at i. Upper
// case may omit the space ("SW1A1AA"); lower case must have it and must not
// end in an ordinal ("s17 1st").
func matchPostcode(s string, i int) (int, bool) {
	upper := isUpperASCII(s[i])
	same := func(c byte) bool {
		if upper {
			return isUpperASCII(c)
		}
		return isLowerASCII(c)
	}
	n := 1
	if same(s[i+1]) {
		n = 2
	}
	if !postcodeAreas[strings.ToUpper(s[i:i+n])] {
		return 0, false
	}
	j := i + n
	if j >= len(s) || !isDigit(s[j]) {
		return 0, false
	}
	j++
	// The district may have a second digit or a letter ("B12", "SW1A", "W1A").
	if j < len(s) {
		c := toUpperASCII(s[j])
		letters := "ABCDEFGHJKPSTUW"
		if n == 2 {
			letters = "ABEHMNPRVWXY"
		}
		if isDigit(s[j]) || same(s[j]) && strings.IndexByte(letters, c) >= 0 {
			if end, ok := matchInward(s, j+1, upper); ok {
				return end, true
			}
		}
	}
	return matchInward(s, j, upper)
}

func matchInward(s string, k int, upper bool) (int, bool) {
	sp := spaceAt(s, k)
	if sp == 0 && !upper {
		return 0, false
	}
	k += sp
	if k+3 > len(s) || !isDigit(s[k]) {
		return 0, false
	}
	a, b := s[k+1], s[k+2]
	if upper && !(isUpperASCII(a) && isUpperASCII(b)) || !upper && !(isLowerASCII(a) && isLowerASCII(b)) {
		return 0, false
	}
	const inward = "ABDEFGHJLNPQRSTUWXYZ"
	if strings.IndexByte(inward, toUpperASCII(a)) < 0 || strings.IndexByte(inward, toUpperASCII(b)) < 0 || wordAt(s, k+3) {
		return 0, false
	}
	if !upper {
		switch s[k+1 : k+3] {
		case "st", "nd", "rd", "th":
			return 0, false
		}
	}
	return k + 3, true
}

// ---- National Insurance numbers ----

// findNINOs finds National Insurance numbers: two prefix letters, six digits
// (often spaced in pairs) and a suffix A to D, in capitals. The suffix may be
// left off only when the whole number is written without spaces.
func findNINOs(s string, out []finding) []finding {
	for i := 0; i+8 <= len(s); i++ {
		if !isUpperASCII(s[i]) || !isUpperASCII(s[i+1]) || wordBefore(s, i) {
			continue
		}
		if end, ok := matchNINO(s, i); ok {
			out = append(out, finding{idNINO, i, end})
			i = end - 1
		}
	}
	return out
}

func matchNINO(s string, i int) (int, bool) {
	a, b := s[i], s[i+1]
	if strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIOQUV", b) >= 0 {
		return 0, false
	}
	switch s[i : i+2] {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return 0, false
	}
	j := i + 2
	spaced := false
	if j < len(s) && s[j] == ' ' {
		j++
		spaced = true
	}
	for pair := 0; pair < 3; pair++ {
		if pair > 0 && j < len(s) && s[j] == ' ' {
			j++
			spaced = true
		}
		if j+2 > len(s) || !isDigit(s[j]) || !isDigit(s[j+1]) {
			return 0, false
		}
		j += 2
	}
	if j < len(s) && isDigit(s[j]) {
		return 0, false
	}
	k := j
	if k < len(s) && s[k] == ' ' {
		k++
	}
	if k < len(s) && s[k] >= 'A' && s[k] <= 'D' && !wordAt(s, k+1) {
		return k + 1, true
	}
	if !spaced && !wordAt(s, j) {
		return j, true
	}
	return 0, false
}

// ---- dates of birth ----

// dobTriggers introduce a date of birth. The strong ones name it outright and
// accept a month and year; "born" and "birthday" need a day and month, so
// "born in 2015" (an age) passes.
var dobTriggers = []struct {
	word   string
	strong bool
}{
	{"date of birth", true}, {"d.o.b.", true}, {"d.o.b", true}, {"d/o/b", true}, {"dob", true},
	{"birth date", true}, {"birthdate", true}, {"birthday", false}, {"born", false},
}

// dobStop ends the search for a date: what follows is a new clause, so a date
// there is an event ("born in 2015 and on 12 March 2019 the school ...").
var dobStop = map[string]bool{"and": true, "but": true, "then": true, "when": true, "after": true, "before": true,
	"until": true, "while": true, "so": true, "because": true, "which": true, "who": true}

func findDOBs(s string, out []finding) []finding {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c != 'd' && c != 'b' || wordBefore(s, i) {
			continue
		}
		for _, t := range dobTriggers {
			if len(s)-i < len(t.word) || !strings.EqualFold(s[i:i+len(t.word)], t.word) {
				continue
			}
			end := i + len(t.word)
			if t.word[len(t.word)-1] != '.' && wordAt(s, end) {
				continue
			}
			if st, en, ok := dateAfter(s, end, t.strong); ok {
				out = append(out, finding{idDOB, st, en})
				i = en - 1
			}
			break
		}
	}
	return out
}

// dateAfter looks for a date within a few words after a trigger.
func dateAfter(s string, k int, strong bool) (int, int, bool) {
	words := 0
	for k < len(s) && words <= 3 {
		r, size := utf8.DecodeRuneInString(s[k:])
		switch {
		case r == '.' || r == ';' || r == '!' || r == '?' || r == '\n':
			return 0, 0, false
		case unicode.IsDigit(r) || unicode.IsLetter(r):
			if end, ok := parseDate(s, k, strong); ok {
				return k, end, true
			}
			if isDigit(s[k]) {
				return 0, 0, false
			}
			w := k
			for w < len(s) {
				r, size := utf8.DecodeRuneInString(s[w:])
				if !unicode.IsLetter(r) && r != '\'' {
					break
				}
				w += size
			}
			if dobStop[strings.ToLower(s[k:w])] {
				return 0, 0, false
			}
			words++
			k = w
		default:
			k += size
		}
	}
	return 0, 0, false
}

var monthNames = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

// digitsAt returns the end of a run of digits at i.
func digitsAt(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 6; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// monthAt returns the end of a month name at i.
func monthAt(s string, i int) (int, bool) {
	w := i
	for w < len(s) && isASCIILetter(s[w]) {
		w++
	}
	if w == i || w-i > 9 || wordAt(s, w) {
		return 0, false
	}
	_, ok := monthNames[strings.ToLower(s[i:w])]
	return w, ok
}

// ordinalAt skips "st", "nd", "rd" or "th" after a day number.
func ordinalAt(s string, i int) int {
	if i+2 <= len(s) {
		switch strings.ToLower(s[i : i+2]) {
		case "st", "nd", "rd", "th":
			if !wordAt(s, i+2) {
				return i + 2
			}
		}
	}
	return i
}

func skipSpaces(s string, i int) int {
	for {
		if n := spaceAt(s, i); n > 0 {
			i += n
			continue
		}
		return i
	}
}

// yearAfter extends a date over ", 2015" or " 2015" when present.
func yearAfter(s string, i int) int {
	j := i
	if j < len(s) && s[j] == ',' {
		j++
	}
	j = skipSpaces(s, j)
	if e := digitsAt(s, j); e-j == 4 && !wordAt(s, e) {
		return e
	}
	return i
}

// parseDate recognises a date with at least a day and a month (or, after a
// strong trigger, a month and a year) at i, and returns its end.
func parseDate(s string, i int, strong bool) (int, bool) {
	if isDigit(s[i]) {
		e1 := digitsAt(s, i)
		n1 := e1 - i
		if e1 < len(s) && strings.IndexByte("/.-", s[e1]) >= 0 {
			sep := s[e1]
			e2 := digitsAt(s, e1+1)
			n2 := e2 - e1 - 1
			if n2 >= 1 && n2 <= 2 && e2 < len(s) && s[e2] == sep {
				e3 := digitsAt(s, e2+1)
				n3 := e3 - e2 - 1
				if wordAt(s, e3) {
					return 0, false
				}
				a, b := atoi(s[i:e1]), atoi(s[e1+1:e2])
				switch {
				case n1 == 4 && n3 >= 1 && n3 <= 2: // 2015-03-12
					return e3, b >= 1 && b <= 12 && atoi(s[e2+1:e3]) >= 1 && atoi(s[e2+1:e3]) <= 31
				case n1 <= 2 && (n3 == 2 || n3 == 4): // 12/03/2015, 03/12/15
					return e3, a >= 1 && b >= 1 && a <= 31 && b <= 31 && (a <= 12 || b <= 12)
				}
				return 0, false
			}
			if strong && n1 <= 2 && n2 == 4 && !wordAt(s, e2) { // 03/2015
				a := atoi(s[i:e1])
				return e2, a >= 1 && a <= 12
			}
			return 0, false
		}
		if n1 > 2 {
			return 0, false
		}
		day := atoi(s[i:e1])
		if day < 1 || day > 31 {
			return 0, false
		}
		j := skipSpaces(s, ordinalAt(s, e1))
		if j+3 <= len(s) && strings.EqualFold(s[j:j+2], "of") && spaceAt(s, j+2) > 0 {
			j = skipSpaces(s, j+2)
		}
		if e, ok := monthAt(s, j); ok {
			return yearAfter(s, e), true
		}
		return 0, false
	}
	e, ok := monthAt(s, i)
	if !ok {
		return 0, false
	}
	j := skipSpaces(s, e)
	if j == e {
		return 0, false
	}
	d := digitsAt(s, j)
	switch n := d - j; {
	case n >= 1 && n <= 2:
		if day := atoi(s[j:d]); day >= 1 && day <= 31 {
			end := ordinalAt(s, d)
			if wordAt(s, end) {
				return 0, false
			}
			return yearAfter(s, end), true
		}
	case n == 4 && strong && !wordAt(s, d):
		return d, true
	}
	return 0, false
}

// ---- names after a title ----

var titles = []string{"Mrs", "Miss", "Mr", "Ms", "Mx", "Dr"}

// sentenceStarters may follow a pseudonym's initial and full stop without
// being a surname: "we met Ms A. She said ...".
var sentenceStarters = map[string]bool{
	"The": true, "She": true, "He": true, "They": true, "It": true, "Its": true, "This": true, "That": true,
	"These": true, "Those": true, "There": true, "Then": true, "Her": true, "His": true, "Their": true,
	"Our": true, "We": true, "I": true, "In": true, "On": true, "At": true, "As": true, "A": true, "An": true,
	"And": true, "But": true, "When": true, "While": true, "After": true, "Before": true, "During": true,
	"Later": true, "Following": true, "However": true, "No": true, "Not": true, "Both": true, "All": true,
	"Some": true, "Each": true, "If": true, "So": true, "By": true, "For": true, "From": true, "With": true,
	"Mr": true, "Mrs": true, "Ms": true, "Miss": true, "Mx": true, "Dr": true, "Child": true, "Mother": true,
	"Father": true, "Social": true, "Police": true, "School": true, "Health": true, "Children": true,
	"Family": true, "Staff": true, "Records": true, "Agencies": true, "Professionals": true, "Practitioners": true,
}

// findTitledNames finds a title (Mr, Mrs, Ms, Miss, Mx, Dr, with or without a
// full stop) followed by a capitalised name. Initials alone ("Ms A", "Mr B",
// "Mother (Ms A)") are the seed's pseudonyms and pass.
func findTitledNames(s string, out []finding) []finding {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != 'M' && c != 'D' || wordBefore(s, i) {
			continue
		}
		j := i
		for _, t := range titles {
			if strings.HasPrefix(s[i:], t) && !wordAt(s, i+len(t)) {
				j = i + len(t)
				break
			}
		}
		if j == i {
			continue
		}
		if j < len(s) && s[j] == '.' {
			j++
		}
		k := skipSpaces(s, j)
		if k == j {
			continue
		}
		start, end, ok := nameAfterTitle(s, k)
		if ok {
			out = append(out, finding{idName, start, end})
			i = end - 1
		}
	}
	return out
}

func nameAfterTitle(s string, k int) (int, int, bool) {
	start := k
	initials, dotted := 0, false
	for initials < 2 {
		w := nameEnd(s, k)
		word := trimPossessive(s[k:w])
		if w == k || !isInitials(word) {
			break
		}
		if len(word) < w-k {
			return 0, 0, false // a pseudonym's possessive: "Ms A's"
		}
		m := w
		if m < len(s) && s[m] == '.' {
			m++
			dotted = true
		}
		n := skipSpaces(s, m)
		if n == m || n >= len(s) || !upperAt(s, n) {
			return 0, 0, false // a pseudonym: "Ms A", "Mother (Ms A)", "Ms A's"
		}
		initials++
		k = n
	}
	word := trimPossessive(s[k:nameEnd(s, k)])
	if !isNameWord(word) || dotted && sentenceStarters[word] {
		return 0, 0, false
	}
	end := k + len(word)
	for extra := 0; extra < 2 && len(word) == nameEnd(s, k)-k; extra++ {
		n := end + spaceAt(s, end)
		if n == end {
			break
		}
		k = n
		word = trimPossessive(s[k:nameEnd(s, k)])
		if !isNameWord(word) || sentenceStarters[word] {
			break
		}
		end = k + len(word)
	}
	return start, end, true
}

// trimPossessive drops a final "'s": the name is "Smith", not "Smith's".
func trimPossessive(w string) string {
	for _, suffix := range []string{"'s", "’s"} {
		if strings.HasSuffix(w, suffix) {
			return w[:len(w)-len(suffix)]
		}
	}
	return w
}

func upperAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsUpper(r)
}

// letterEnd returns the end of a run of letters at i.
func letterEnd(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			break
		}
		i += size
	}
	return i
}

// nameEnd returns the end of a name at i: letters, with apostrophes and
// hyphens inside ("O'Brien", "Smith-Jones").
func nameEnd(s string, i int) int {
	e := letterEnd(s, i)
	for e > i && e < len(s) {
		sep := 0
		switch {
		case s[e] == '\'' || s[e] == '-':
			sep = 1
		case strings.HasPrefix(s[e:], "’"):
			sep = len("’")
		}
		if sep == 0 {
			break
		}
		n := letterEnd(s, e+sep)
		if n == e+sep {
			break
		}
		e = n
	}
	return e
}

// isInitials is one to three capitals: "A", "AB".
func isInitials(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsUpper(r) {
			return false
		}
		n++
	}
	return n >= 1 && n <= 3
}

// isNameWord is a capitalised word of two or more letters ("Smith"), or a
// word of four or more capitals ("SMITH").
func isNameWord(w string) bool {
	first, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(first) {
		return false
	}
	n, lower := 0, false
	for _, r := range w {
		if unicode.IsLower(r) {
			lower = true
		}
		if unicode.IsLetter(r) {
			n++
		}
	}
	return lower && n >= 2 || !lower && n >= 4
}
