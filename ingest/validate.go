package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/collate-project/collate/schemas"
)

// Limits on what the validator reads, documented in schemas/REFERENCE.md.
const (
	DefaultMaxBytes = 8 << 20 // 8 MiB per export
	DefaultMaxDepth = 32      // nesting of JSON objects and arrays
)

// Structural limits the byte scan enforces before anything is decoded. The
// format's longest list has 200 items and its largest object 13 fields, so
// these only stop hostile files, which could otherwise make decoding and the
// schema library hold millions of values.
const (
	maxListItems    = 1000
	maxObjectFields = 100
)

// MaxProblems caps the problems reported for one file: past a hundred, more
// detail helps nobody fix the file.
const MaxProblems = 100

// Earliest year a review may be completed. The systems approach dates from the
// 2000s; anything before 1990 is a typing error, not history.
const minYear = 1990

// ValidatorOptions configures a Validator.
type ValidatorOptions struct {
	Frames    []*schemas.Frame   // frames exports may name; built-in ones when nil
	Geography *schemas.Geography // the embedded geography when nil
	MaxBytes  int64
	MaxDepth  int
	Now       func() time.Time // for impossible-year checks
}

// Validator checks review exports offline: no database is needed. It is
// immutable once built and safe for concurrent use, so one Validator serves
// every worker of a large batch.
type Validator struct {
	opts   ValidatorOptions
	schema *jsonschema.Schema
	fast   *checker       // accepts valid documents quickly; nil when the schema is beyond it
	raw    map[string]any // the schema as data, for plain-English expectations
	intern map[string]string

	frames      map[string]*frameCodes // by id@version
	frameNames  string                 // "scie-lt 2008.1, ..." for hints
	boards      map[string]schemas.Place
	regions     map[string]string // region → nation
	nations     map[string]bool
	boardList   []string
	regionList  []string
	nationList  []string
	boardsByReg map[string][]string
}

// frameCodes indexes one frame for the checks: which codes exist, which are
// retired, and where each pattern node sits.
type frameCodes struct {
	frame          *schemas.Frame
	factors        map[string]bool // code → retired
	factorList     []string        // current codes in tree order
	hasPatterns    bool
	patternParent  map[string]string // code → parent, "" for a pattern type
	patternRetired map[string]bool
	patternTypes   []string // current top-level codes
	patternList    []string // current codes in tree order
}

// NewValidator prepares a Validator: the schema is compiled and the frames and
// geography indexed once, because the validator runs on hundreds of thousands of files.
func NewValidator(opts ValidatorOptions) (*Validator, error) {
	if opts.Frames == nil {
		opts.Frames = schemas.BuiltinFrames()
	}
	if opts.Geography == nil {
		opts.Geography = schemas.LoadGeography()
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Validator{opts: opts}

	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.ReviewSchema()))
	if err != nil {
		return nil, fmt.Errorf("read review schema: %w", err)
	}
	raw, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("read review schema: not an object")
	}
	v.raw = raw
	// Every field name and enum value of the format, so that decoding shares
	// one copy of each instead of allocating thousands per file.
	v.intern = map[string]string{}
	collectStrings(raw, v.intern)
	c := jsonschema.NewCompiler()
	const url = "review.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load review schema: %w", err)
	}
	if v.schema, err = c.Compile(url); err != nil {
		return nil, fmt.Errorf("compile review schema: %w", err)
	}
	// A schema the quick check does not understand is validated by the
	// library alone: slower, never laxer (see schemacheck.go).
	v.fast, _ = compileSchemaCheck(raw)

	v.frames = map[string]*frameCodes{}
	var names []string
	for _, f := range opts.Frames {
		if f == nil {
			continue
		}
		if _, dup := v.frames[f.Key()]; dup {
			return nil, fmt.Errorf("frame %s %s is registered twice", f.ID, f.Version)
		}
		v.frames[f.Key()] = indexFrame(f)
		names = append(names, f.ID+" "+f.Version)
	}
	v.frameNames = strings.Join(names, ", ")

	v.boards = map[string]schemas.Place{}
	v.regions = map[string]string{}
	v.nations = map[string]bool{}
	v.boardsByReg = map[string][]string{}
	for _, n := range opts.Geography.Nations {
		v.nations[n.Code] = true
		v.nationList = append(v.nationList, n.Code)
		for _, r := range n.Regions {
			v.regions[r.Code] = n.Code
			v.regionList = append(v.regionList, r.Code)
			for _, b := range r.Boards {
				v.boards[b.Code] = schemas.Place{Board: b.Code, BoardName: b.Name, Region: r.Code, RegionName: r.Name, Nation: n.Code, NationName: n.Name}
				v.boardList = append(v.boardList, b.Code)
				v.boardsByReg[r.Code] = append(v.boardsByReg[r.Code], b.Code)
			}
		}
	}
	return v, nil
}

func collectStrings(node any, into map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, x := range n {
			if k == "properties" {
				if props, ok := x.(map[string]any); ok {
					for name := range props {
						into[name] = name
					}
				}
			}
			if k == "enum" || k == "const" {
				if xs, ok := x.([]any); ok {
					for _, e := range xs {
						if s, ok := e.(string); ok {
							into[s] = s
						}
					}
				}
				if s, ok := x.(string); ok {
					into[s] = s
				}
			}
			collectStrings(x, into)
		}
	case []any:
		for _, x := range n {
			collectStrings(x, into)
		}
	}
}

func indexFrame(f *schemas.Frame) *frameCodes {
	fc := &frameCodes{frame: f, factors: map[string]bool{}, patternParent: map[string]string{}, patternRetired: map[string]bool{}}
	var walkFactors func([]schemas.Node)
	walkFactors = func(nodes []schemas.Node) {
		for _, n := range nodes {
			fc.factors[n.Code] = n.Retired
			if !n.Retired {
				fc.factorList = append(fc.factorList, n.Code)
			}
			walkFactors(n.Children)
		}
	}
	walkFactors(f.Factors.Nodes)
	if f.Patterns != nil && len(f.Patterns.Nodes) > 0 {
		fc.hasPatterns = true
		var walk func([]schemas.Node, string)
		walk = func(nodes []schemas.Node, parent string) {
			for _, n := range nodes {
				fc.patternParent[n.Code] = parent
				fc.patternRetired[n.Code] = n.Retired
				if !n.Retired {
					fc.patternList = append(fc.patternList, n.Code)
					if parent == "" {
						fc.patternTypes = append(fc.patternTypes, n.Code)
					}
				}
				walk(n.Children, n.Code)
			}
		}
		walk(f.Patterns.Nodes, "")
	}
	return fc
}

// Validate decodes and checks one export file. On failure the error is
// Problems, each naming name and a JSON pointer, in document order.
//
// The stages run cheapest first and stop at the first stage that fails:
// size; one allocation-free pass over the bytes for UTF-8, syntax, depth,
// structural limits and repeated fields; the JSON Schema; then the checks of
// Check. A later stage would only repeat an earlier stage's complaint in a
// more confusing form.
//
// The document is decoded once, by a decoder that trusts the byte pass, into
// the generic values the schema library needs; the Export is then copied
// from those values. The schema forbids unknown fields everywhere, so the
// copy is as strict as encoding/json with DisallowUnknownFields, which the
// tests and FuzzValidate confirm.
func (v *Validator) Validate(name string, data []byte) (*Export, error) {
	if int64(len(data)) > v.opts.MaxBytes {
		return nil, Problems{{File: name, Location: "/",
			Message:  fmt.Sprintf("the file is %d bytes, over the size limit", len(data)),
			Expected: fmt.Sprintf("at most %d bytes (%s)", v.opts.MaxBytes, sizeText(v.opts.MaxBytes)),
			Hint:     "a review export is usually well under 1 MiB; check that this is a single review and that no document was pasted into a text field",
		}}
	}
	start := 0
	if bytes.HasPrefix(data, utf8BOM) {
		// Spreadsheet tools and Windows editors write a byte-order mark; it
		// carries no meaning in UTF-8, so it is skipped rather than refused.
		start = len(utf8BOM)
	}
	sc := scanner{data: data, pos: start, maxDepth: v.opts.MaxDepth}
	if fatal := sc.scanDocument(); fatal != nil || len(sc.dups) > 0 {
		ps := make(Problems, 0, len(sc.dups)+1)
		for _, d := range sc.dups {
			ps = append(ps, d.problem(name, data))
		}
		if fatal != nil {
			ps = append(ps, fatal.problem(name, data))
		}
		return nil, capProblems(ps)
	}

	inst := (&builder{data: data, pos: start, intern: v.intern}).value()
	if err := v.validateSchema(inst); err != nil {
		return nil, v.orderAndCap(v.schemaProblems(name, err, inst, data, start), data, start)
	}
	var ps []Problem
	e := toExport(inst, func(p Problem) { p.File = name; ps = append(ps, p) })
	if len(ps) > 0 {
		return nil, v.orderAndCap(ps, data, start)
	}
	ps = v.semantic(name, e, ps)
	ps = screenExport(name, e, ps)
	if len(ps) > 0 {
		return nil, v.orderAndCap(ps, data, start)
	}
	return e, nil
}

// Check runs the checks that apply to an already-decoded export (codes,
// references, years, the screen for identifying information). Workbook import
// uses it after converting; locations are JSON pointers into the export.
//
// A decoded Export has skipped the JSON Schema, so Check first validates its
// canonical JSON against the schema: a workbook then meets exactly the rules
// a JSON file meets.
func (v *Validator) Check(name string, e *Export) error {
	if e == nil {
		return Problems{{File: name, Location: "/", Message: "no export to check", Expected: "a review export"}}
	}
	data, err := json.Marshal(e)
	if err != nil {
		return Problems{{File: name, Location: "/", Message: fmt.Sprintf("the export cannot be written as JSON: %v", err),
			Expected: "finite numbers", Hint: "check numeric fields such as the second-coder agreement"}}
	}
	inst := (&builder{data: data, intern: v.intern}).value()
	if err := v.validateSchema(inst); err != nil {
		return v.orderAndCap(v.schemaProblems(name, err, inst, data, 0), data, 0)
	}
	ps := v.semantic(name, e, nil)
	ps = screenExport(name, e, ps)
	if len(ps) > 0 {
		return v.orderAndCap(ps, data, 0)
	}
	return nil
}

// validateSchema validates a decoded document against the export schema:
// the quick check accepts most documents, and the library decides the rest
// and explains what is wrong.
func (v *Validator) validateSchema(inst any) error {
	if v.fast.accepts(inst) {
		return nil
	}
	return v.schema.Validate(inst)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func capProblems(ps Problems) Problems {
	if len(ps) > MaxProblems {
		ps = ps[:MaxProblems]
	}
	return ps
}

// orderAndCap puts problems in document order, the order a person reading
// the file meets them, and keeps the first MaxProblems.
func (v *Validator) orderAndCap(ps []Problem, data []byte, start int) Problems {
	if len(ps) > 1 {
		locs := make([]string, len(ps))
		for i := range ps {
			locs[i] = ps[i].Location
		}
		idx := v.docOrder(locs, data, start)
		sorted := make(Problems, len(ps))
		for i, j := range idx {
			sorted[i] = ps[j]
		}
		ps = sorted
	}
	return capProblems(ps)
}

// docOrder returns the indexes of locs sorted by where each location appears
// in data; ties keep their order. A location missing from the document (a
// required field that is absent) sorts with its nearest ancestor present.
func (v *Validator) docOrder(locs []string, data []byte, start int) []int {
	want := make(map[string]int, len(locs)*2)
	for _, loc := range locs {
		for ; ; loc = parentPointer(loc) {
			want[loc] = -1
			if loc == "/" {
				break
			}
		}
	}
	ix := indexer{scanner: scanner{data: data, pos: start, maxDepth: v.opts.MaxDepth}, want: want}
	ix.run()
	keys := make([]int, len(locs))
	for i, loc := range locs {
		for ; ; loc = parentPointer(loc) {
			if o := want[loc]; o >= 0 {
				keys[i] = o
				break
			}
			if loc == "/" {
				break
			}
		}
	}
	idx := make([]int, len(locs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	return idx
}

func parentPointer(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// ---- semantic checks ----

// semantic checks what the JSON Schema cannot: codes against the frame,
// places against the geography, numbering and references, and dates against
// the clock. It appends to ps and returns it.
func (v *Validator) semantic(name string, e *Export, ps []Problem) []Problem {
	add := func(loc, msg, expected, hint string) {
		ps = append(ps, Problem{File: name, Location: loc, Message: msg, Expected: expected, Hint: hint})
	}
	if e.Format != schemas.ExportFormat {
		add("/format", fmt.Sprintf("unsupported format %q", clip(e.Format)), strconv.Quote(schemas.ExportFormat),
			"this version of Collate reads "+schemas.ExportFormat+" exports; check the tool that wrote the file")
	}
	r := &e.Review

	// Geography: the board decides; region and nation must be the board's.
	place, boardOK := v.boards[r.Board]
	if !boardOK {
		hint := "nearest board codes: " + strings.Join(nearest(r.Board, v.boardList, 3), ", ")
		if bs := v.boardsByReg[r.Region]; len(bs) > 0 {
			hint = "nearest board codes: " + strings.Join(nearest(r.Board, bs, 3), ", ") + " (boards of region " + r.Region + ")"
		}
		add("/review/board", fmt.Sprintf("unknown board %q", clip(r.Board)), "a board code from schemas/geography.json", hint)
	}
	regionNation, regionOK := v.regions[r.Region]
	switch {
	case !regionOK:
		hint := "nearest region codes: " + strings.Join(nearest(r.Region, v.regionList, 3), ", ")
		exp := "a region code from schemas/geography.json"
		if boardOK {
			exp = strconv.Quote(place.Region) + ", the region of board " + place.Board
		}
		add("/review/region", fmt.Sprintf("unknown region %q", clip(r.Region)), exp, hint)
	case boardOK && r.Region != place.Region:
		add("/review/region", fmt.Sprintf("board %s is in region %s, not %s", place.Board, place.Region, r.Region),
			strconv.Quote(place.Region), "region and nation must be those of the board in schemas/geography.json")
	}
	switch {
	case !v.nations[r.Nation]:
		exp := "one of " + quoteList(v.nationList)
		if boardOK {
			exp = strconv.Quote(place.Nation) + ", the nation of board " + place.Board
		}
		add("/review/nation", fmt.Sprintf("unknown nation %q", clip(r.Nation)), exp,
			"nearest nation codes: "+strings.Join(nearest(r.Nation, v.nationList, 3), ", "))
	case boardOK && r.Nation != place.Nation:
		add("/review/nation", fmt.Sprintf("board %s is in nation %s, not %s", place.Board, place.Nation, r.Nation),
			strconv.Quote(place.Nation), "region and nation must be those of the board in schemas/geography.json")
	case !boardOK && regionOK && r.Nation != regionNation:
		add("/review/nation", fmt.Sprintf("region %s is in nation %s, not %s", r.Region, regionNation, r.Nation),
			strconv.Quote(regionNation), "region and nation must be those of the board in schemas/geography.json")
	}

	// Dates: the schema bounds the year loosely; the clock bounds it exactly.
	now := v.opts.Now()
	if y := r.Completed.Year; y < minYear || y > now.Year() {
		ps = append(ps, yearProblem(name, y, now))
	} else if m := r.Completed.Month; m != nil && y == now.Year() && *m > int(now.Month()) {
		add("/review/completed/month", fmt.Sprintf("impossible month: %s %d is in the future", monthName(*m), y),
			fmt.Sprintf("a month up to %s %d", monthName(int(now.Month())), now.Year()),
			"the month the review was completed; leave month out if it was not recorded")
	}
	if a := r.Coding.SecondCoderAgreement; a != nil {
		switch {
		case a.Measure == "cohens_kappa" && (a.Value < -1 || a.Value > 1):
			add("/review/coding/second_coder_agreement/value", fmt.Sprintf("Cohen's kappa of %v is out of range", a.Value),
				"a kappa from -1 to 1", "for agreement as a percentage use measure \"percent_agreement\"")
		case a.Measure == "percent_agreement" && (a.Value < 0 || a.Value > 100):
			add("/review/coding/second_coder_agreement/value", fmt.Sprintf("percent agreement of %v is out of range", a.Value),
				"a percentage from 0 to 100", "for Cohen's kappa use measure \"cohens_kappa\"")
		}
	}

	// Frame.
	fc := v.frames[r.Frame.ID+"@"+r.Frame.Version]
	if fc == nil {
		var versions []string
		for _, f := range v.opts.Frames {
			if f != nil && f.ID == r.Frame.ID {
				versions = append(versions, f.Version)
			}
		}
		hint := "known frames and versions: " + v.frameNames + "; a review coded against another frame needs that frame registered first"
		if len(versions) > 0 {
			add("/review/frame/version", fmt.Sprintf("unknown version %q of coding frame %s", clip(r.Frame.Version), r.Frame.ID),
				"one of "+quoteList(versions), hint)
		} else {
			add("/review/frame/id", fmt.Sprintf("unknown coding frame %q", clip(r.Frame.ID)), "a registered frame", hint)
		}
	}
	frameName := r.Frame.ID + " " + r.Frame.Version

	// Episodes.
	episodes := make(map[int]int, len(e.Episodes))
	for i := range e.Episodes {
		ep := &e.Episodes[i]
		if j, dup := episodes[ep.Number]; dup {
			add(fmt.Sprintf("/episodes/%d/number", i), fmt.Sprintf("episode number %d is used twice (first at /episodes/%d)", ep.Number, j),
				"a number no other episode uses", "number the key practice episodes 1, 2, 3, … in the order of the case")
		} else {
			episodes[ep.Number] = i
		}
		if fc == nil {
			continue
		}
		for k := range ep.Factors {
			code := ep.Factors[k].Code
			retired, ok := fc.factors[code]
			loc := fmt.Sprintf("/episodes/%d/factors/%d/code", i, k)
			switch {
			case !ok:
				add(loc, fmt.Sprintf("unknown factor code %q", clip(code)), "a code of the factor tree of frame "+frameName,
					"nearest valid codes: "+strings.Join(nearest(code, fc.factorList, 3), ", "))
			case retired:
				add(loc, fmt.Sprintf("factor code %s is retired in frame %s", code, frameName), "a current code of the factor tree",
					"nearest current codes: "+strings.Join(nearest(code, fc.factorList, 3), ", "))
			}
		}
	}

	// Patterns.
	patterns := make(map[int]int, len(e.Patterns))
	if len(e.Patterns) > 0 && fc != nil && !fc.hasPatterns {
		add("/patterns", fmt.Sprintf("the export has patterns, but frame %s has no pattern typology", frameName),
			"no patterns for this frame", "leave patterns out, or code the review against a frame with a typology of patterns")
	}
	for i := range e.Patterns {
		p := &e.Patterns[i]
		if j, dup := patterns[p.Number]; dup {
			add(fmt.Sprintf("/patterns/%d/number", i), fmt.Sprintf("pattern number %d is used twice (first at /patterns/%d)", p.Number, j),
				"a number no other pattern uses", "number the patterns 1, 2, 3, …")
		} else {
			patterns[p.Number] = i
		}
		if fc != nil && fc.hasPatterns {
			ps = v.checkPattern(name, fc, frameName, i, p, ps)
		}
		if p.SubPattern != "" && p.ProposedSubPattern != "" {
			add(fmt.Sprintf("/patterns/%d/proposed_sub_pattern", i), "the pattern has both a listed sub_pattern and a proposed_sub_pattern",
				"sub_pattern or proposed_sub_pattern, not both", "use proposed_sub_pattern only where no listed sub-pattern fits")
		}
		for j, n := range p.Episodes {
			if _, ok := episodes[n]; !ok {
				add(fmt.Sprintf("/patterns/%d/episodes/%d", i, j), fmt.Sprintf("episode %d does not exist", n),
					"the number of one of this review's episodes ("+numberList(episodes)+")",
					"patterns refer to episodes by their number, not by their position in the list")
			}
		}
	}

	// Recommendations.
	recs := make(map[int]int, len(e.Recommendations))
	for i := range e.Recommendations {
		rec := &e.Recommendations[i]
		if j, dup := recs[rec.Number]; dup {
			add(fmt.Sprintf("/recommendations/%d/number", i), fmt.Sprintf("recommendation number %d is used twice (first at /recommendations/%d)", rec.Number, j),
				"a number no other recommendation uses", "number the recommendations 1, 2, 3, …")
		} else {
			recs[rec.Number] = i
		}
		for j, n := range rec.Patterns {
			if _, ok := patterns[n]; !ok {
				exp := "the number of one of this review's patterns (" + numberList(patterns) + ")"
				if len(patterns) == 0 {
					exp = "no pattern references: this review records no patterns"
				}
				add(fmt.Sprintf("/recommendations/%d/patterns/%d", i, j), fmt.Sprintf("pattern %d does not exist", n), exp,
					"recommendations refer to patterns by their number, not by their position in the list")
			}
		}
	}
	return ps
}

func (v *Validator) checkPattern(name string, fc *frameCodes, frameName string, i int, p *Pattern, ps []Problem) []Problem {
	add := func(loc, msg, expected, hint string) {
		ps = append(ps, Problem{File: name, Location: loc, Message: msg, Expected: expected, Hint: hint})
	}
	typeLoc := fmt.Sprintf("/patterns/%d/type", i)
	parent, known := fc.patternParent[p.Type]
	typeOK := false
	switch {
	case !known:
		add(typeLoc, fmt.Sprintf("unknown pattern type %q", clip(p.Type)), "one of "+quoteList(fc.patternTypes),
			"nearest pattern types: "+strings.Join(nearest(p.Type, fc.patternTypes, 3), ", "))
	case parent != "":
		top := fc.topOf(p.Type)
		add(typeLoc, fmt.Sprintf("%s is a sub-pattern, not a pattern type", p.Type), "one of "+quoteList(fc.patternTypes),
			fmt.Sprintf("put %s in sub_pattern and its type %s in type", p.Type, top))
	case fc.patternRetired[p.Type]:
		add(typeLoc, fmt.Sprintf("pattern type %s is retired in frame %s", p.Type, frameName), "one of "+quoteList(fc.patternTypes),
			"nearest current pattern types: "+strings.Join(nearest(p.Type, fc.patternTypes, 3), ", "))
	default:
		typeOK = true
	}
	if p.SubPattern == "" {
		return ps
	}
	subLoc := fmt.Sprintf("/patterns/%d/sub_pattern", i)
	under := fc.patternList
	expected := "a sub-pattern of the typology of frame " + frameName
	if typeOK {
		under = fc.descendants(p.Type)
		expected = "a sub-pattern of pattern type " + p.Type
	}
	sparent, sknown := fc.patternParent[p.SubPattern]
	switch {
	case !sknown:
		add(subLoc, fmt.Sprintf("unknown sub-pattern %q", clip(p.SubPattern)), expected,
			"nearest valid codes: "+strings.Join(nearest(p.SubPattern, under, 3), ", "))
	case sparent == "":
		add(subLoc, fmt.Sprintf("%s is a pattern type, not a sub-pattern", p.SubPattern), expected,
			"put the pattern type in type; nearest sub-patterns: "+strings.Join(nearest(p.SubPattern, under, 3), ", "))
	case typeOK && fc.topOf(p.SubPattern) != p.Type:
		add(subLoc, fmt.Sprintf("sub-pattern %s is not under pattern type %s", p.SubPattern, p.Type), expected,
			fmt.Sprintf("%s belongs to type %s; nearest sub-patterns of %s: %s", p.SubPattern, fc.topOf(p.SubPattern), p.Type,
				strings.Join(nearest(p.SubPattern, under, 3), ", ")))
	case fc.patternRetired[p.SubPattern]:
		add(subLoc, fmt.Sprintf("sub-pattern %s is retired in frame %s", p.SubPattern, frameName), expected,
			"nearest current sub-patterns: "+strings.Join(nearest(p.SubPattern, under, 3), ", "))
	}
	return ps
}

// topOf returns the pattern type a pattern code sits under.
func (fc *frameCodes) topOf(code string) string {
	for i := 0; i < 64; i++ { // bounded: frames are shallow, and a cycle must not hang
		parent, ok := fc.patternParent[code]
		if !ok || parent == "" {
			return code
		}
		code = parent
	}
	return code
}

// descendants lists the current codes under a pattern type, in tree order.
func (fc *frameCodes) descendants(typ string) []string {
	var out []string
	for _, c := range fc.patternList {
		if c != typ && fc.topOf(c) == typ {
			out = append(out, c)
		}
	}
	return out
}

func yearProblem(name string, y int, now time.Time) Problem {
	why := "before 1990"
	if y > now.Year() {
		why = "in the future"
	}
	return Problem{File: name, Location: "/review/completed/year",
		Message:  fmt.Sprintf("impossible year %d: %s", y, why),
		Expected: fmt.Sprintf("a year from %d to %d", minYear, now.Year()),
		Hint:     "the year the review was completed, as four digits",
	}
}

func monthName(m int) string {
	if m < 1 || m > 12 {
		return strconv.Itoa(m)
	}
	return time.Month(m).String()
}

// numberList summarises the numbers in use for an Expected text: runs are
// collapsed ("1–24") and long lists cut, so a 200-episode review stays readable.
func numberList(m map[int]int) string {
	if len(m) == 0 {
		return "none"
	}
	nums := make([]int, 0, len(m))
	for n := range m {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(nums[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(nums[i]), strconv.Itoa(nums[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d–%d", nums[i], nums[j]))
		}
		i = j + 1
	}
	if len(parts) > 8 {
		parts = append(parts[:8], "…")
	}
	return strings.Join(parts, ", ")
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) > 12 {
		q = append(q[:12], "…")
	}
	return strings.Join(q, ", ")
}

// clip keeps echoed input short: a wrong value is shown to help, not to be
// copied into logs at length.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// nearest returns the best n candidates for a mistyped code: smallest edit
// distance (ignoring case), then the longest shared prefix, then tree order.
func nearest(code string, candidates []string, n int) []string {
	type scored struct {
		code         string
		dist, prefix int
		ord          int
	}
	lc := strings.ToLower(code)
	all := make([]scored, 0, len(candidates))
	for i, c := range candidates {
		l := strings.ToLower(c)
		all = append(all, scored{c, editDistance(lc, l), sharedPrefix(lc, l), i})
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if a.prefix != b.prefix {
			return a.prefix > b.prefix
		}
		return a.ord < b.ord
	})
	out := make([]string, 0, n)
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].code)
	}
	return out
}

func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance over bytes; codes are ASCII.
func editDistance(a, b string) int {
	if len(a) > 128 {
		a = a[:128] // a code is at most 64 characters; longer input gains nothing
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ---- JSON Schema problems ----

// schemaProblems turns the schema library's error tree into one Problem per
// failed rule, worded for the people who fill in exports rather than for
// schema authors. A hostile file can fail hundreds of thousands of rules, so
// the failures are put in document order first and only the first few are
// worded.
func (v *Validator) schemaProblems(name string, err error, inst any, data []byte, start int) []Problem {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{{File: name, Location: "/", Message: "the export could not be checked against the schema: " + err.Error()}}
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Reference, *kind.Group, *kind.AllOf:
			if len(e.Causes) > 0 {
				for _, c := range e.Causes {
					walk(c)
				}
				return
			}
		}
		leaves = append(leaves, e)
	}
	walk(ve)
	if len(leaves) > MaxProblems {
		locs := make([]string, len(leaves))
		for i, l := range leaves {
			locs[i] = pointerOf(l.InstanceLocation)
		}
		idx := v.docOrder(locs, data, start)
		sorted := make([]*jsonschema.ValidationError, MaxProblems)
		for i := range sorted {
			sorted[i] = leaves[idx[i]]
		}
		leaves = sorted
	}
	var ps []Problem
	for _, l := range leaves {
		ps = append(ps, v.schemaProblem(name, l, inst)...)
	}
	return ps
}

func pointerOf(tokens []string) string {
	if len(tokens) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(t))
	}
	return b.String()
}

func escapePointerToken(t string) string {
	if !strings.ContainsAny(t, "~/") {
		return t
	}
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

func (v *Validator) schemaProblem(name string, e *jsonschema.ValidationError, inst any) []Problem {
	loc := pointerOf(e.InstanceLocation)
	node := v.schemaAt(e.InstanceLocation)
	p := Problem{File: name, Location: loc, Expected: v.describe(node), Hint: hintOf(node)}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		p.Message = "wrong type: found " + typeWord(k.Got)
		p.Hint = typeHint(k.Got, k.Want, p.Hint)
	case *kind.Required:
		var out []Problem
		for _, m := range k.Missing {
			child := v.schemaAt(append(append([]string(nil), e.InstanceLocation...), m))
			hint := hintOf(child)
			if hint == "" {
				hint = "see schemas/REFERENCE.md for this field"
			}
			out = append(out, Problem{File: name, Location: strings.TrimSuffix(loc, "/") + "/" + escapePointerToken(m),
				Message: fmt.Sprintf("required field %q is missing", m), Expected: v.describe(child), Hint: hint})
		}
		return out
	case *kind.AdditionalProperties:
		allowed := propertyNames(node)
		var out []Problem
		for _, f := range k.Properties {
			hint := "allowed fields here: " + strings.Join(allowed, ", ")
			if near := nearest(f, allowed, 1); len(near) == 1 && closeEnough(f, near[0]) {
				hint = fmt.Sprintf("did you mean %q?", near[0])
			}
			out = append(out, Problem{File: name, Location: strings.TrimSuffix(loc, "/") + "/" + escapePointerToken(f),
				Message: fmt.Sprintf("unknown field %q", clip(f)), Expected: "one of the fields " + strings.Join(allowed, ", "), Hint: hint})
		}
		return out
	case *kind.Enum:
		p.Message = fmt.Sprintf("%s is not an allowed value", display(k.Got))
		if s, ok := k.Got.(string); ok {
			var opts []string
			for _, w := range k.Want {
				if ws, ok := w.(string); ok {
					opts = append(opts, ws)
				}
			}
			if near := nearest(s, opts, 1); len(near) == 1 && closeEnough(s, near[0]) {
				p.Hint = fmt.Sprintf("did you mean %q?", near[0])
			}
		}
	case *kind.Const:
		if loc == "/format" {
			p.Message = fmt.Sprintf("unsupported format %s", display(k.Got))
			p.Hint = "this version of Collate reads " + schemas.ExportFormat + " exports; check the tool that wrote the file"
		} else {
			p.Message = fmt.Sprintf("%s is not the expected value", display(k.Got))
		}
	case *kind.Pattern:
		what := "code"
		if loc == "/review/id" {
			what = "review ID"
		}
		p.Message = fmt.Sprintf("%s is not a valid %s", display(k.Got), what)
		p.Hint = "use only letters, digits, '.', '_' and '-', with no spaces"
	case *kind.MinLength:
		p.Message = "the text is empty"
		if k.Got > 0 {
			p.Message = fmt.Sprintf("the text is %d characters long, too short", k.Got)
		}
		if p.Hint == "" {
			p.Hint = "leave an optional field out when it was not recorded, rather than sending empty text"
		}
	case *kind.MaxLength:
		p.Message = fmt.Sprintf("the text is %d characters long, too long", k.Got)
		p.Hint = "summarise; the full account stays in the review report"
	case *kind.MinItems:
		p.Message = "the list is empty"
		if k.Got > 0 {
			p.Message = fmt.Sprintf("the list has %d items, too few", k.Got)
		}
	case *kind.MaxItems:
		p.Message = fmt.Sprintf("the list has %d items, too many", k.Got)
	case *kind.UniqueItems:
		p.Location = strings.TrimSuffix(loc, "/") + "/" + strconv.Itoa(k.Duplicates[1])
		p.Message = fmt.Sprintf("repeats the value at %s/%d", strings.TrimSuffix(loc, "/"), k.Duplicates[0])
		p.Expected = "each value once"
		p.Hint = "remove the repeated value"
	case *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum, *kind.ExclusiveMaximum:
		if loc == "/review/completed/year" {
			if n, ok := intOf(valueAt(inst, e.InstanceLocation)); ok {
				return []Problem{yearProblem(name, n, v.opts.Now())}
			}
		}
		got := numberText(valueAt(inst, e.InstanceLocation))
		switch e.ErrorKind.(type) {
		case *kind.Minimum, *kind.ExclusiveMinimum:
			p.Message = fmt.Sprintf("%s is too small", got)
		default:
			p.Message = fmt.Sprintf("%s is too large", got)
		}
	case *kind.Not:
		if _, both := objectAt(inst, e.InstanceLocation)["proposed_sub_pattern"]; both {
			p.Location = strings.TrimSuffix(loc, "/") + "/proposed_sub_pattern"
			p.Message = "the pattern has both a listed sub_pattern and a proposed_sub_pattern"
			p.Expected = "sub_pattern or proposed_sub_pattern, not both"
			p.Hint = "use proposed_sub_pattern only where no listed sub-pattern fits"
		} else {
			p.Message = "the value matches a form that is not allowed here"
		}
	default:
		p.Message = "the value breaks the schema rule " + strconv.Quote(strings.Join(e.ErrorKind.KeywordPath(), "/"))
	}
	if len(e.InstanceLocation) == 0 && p.Hint == hintOf(v.schemaAt(nil)) {
		p.Hint = "" // the schema's overall description is no hint for one fault
	}
	if loc == "/review/completed/year" {
		p.Expected = fmt.Sprintf("a year from %d to %d", minYear, v.opts.Now().Year())
	}
	if p.Hint == "" {
		p.Hint = "see schemas/REFERENCE.md for this field"
	}
	return []Problem{p}
}

// schemaAt finds the schema that governs an instance location, following
// $ref, properties and items. It returns nil when nothing does.
func (v *Validator) schemaAt(tokens []string) map[string]any {
	node := v.resolve(v.raw)
	for _, t := range tokens {
		if node == nil {
			return nil
		}
		if props, ok := node["properties"].(map[string]any); ok {
			if child, ok := props[t].(map[string]any); ok {
				node = v.resolve(child)
				continue
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			if _, err := strconv.Atoi(t); err == nil {
				node = v.resolve(items)
				continue
			}
		}
		return nil
	}
	return node
}

// resolve follows a local $ref, merging the referring node's own keywords
// (a description next to a $ref) over the target's.
func (v *Validator) resolve(node map[string]any) map[string]any {
	for i := 0; i < 8 && node != nil; i++ {
		ref, ok := node["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/$defs/") {
			return node
		}
		defs, _ := v.raw["$defs"].(map[string]any)
		target, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		merged := make(map[string]any, len(target)+len(node)+1)
		for k, val := range target {
			merged[k] = val
		}
		for k, val := range node {
			if k != "$ref" {
				merged[k] = val
			}
		}
		merged["x-def"] = strings.TrimPrefix(ref, "#/$defs/")
		node = merged
	}
	return node
}

// describe says in plain English what a schema node accepts.
func (v *Validator) describe(node map[string]any) string {
	if node == nil {
		return ""
	}
	if c, ok := node["const"]; ok {
		return display(c)
	}
	if en, ok := node["enum"].([]any); ok {
		vals := make([]string, len(en))
		for i, x := range en {
			vals[i] = display(x)
		}
		return "one of " + strings.Join(vals, ", ")
	}
	switch node["x-def"] {
	case "code":
		return "a code of letters, digits, '.', '_' or '-' (at most 64 characters)"
	case "text", "short":
		return fmt.Sprintf("text of 1 to %s characters", numberText(node["maxLength"]))
	}
	typ, _ := node["type"].(string)
	lo, hasLo := node["minimum"]
	hi, hasHi := node["maximum"]
	rng := ""
	switch {
	case hasLo && hasHi:
		rng = fmt.Sprintf(" from %s to %s", numberText(lo), numberText(hi))
	case hasLo:
		rng = " of at least " + numberText(lo)
	case hasHi:
		rng = " of at most " + numberText(hi)
	}
	switch typ {
	case "integer":
		return "a whole number" + rng
	case "number":
		return "a number" + rng
	case "string":
		if _, ok := node["pattern"]; ok {
			return "an ID of 3 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
		}
		return "text"
	case "array":
		noun := "values"
		if items, ok := node["items"].(map[string]any); ok {
			noun = itemNoun(v.resolve(items))
		}
		lo, hi := numberText(node["minItems"]), numberText(node["maxItems"])
		switch {
		case lo != "" && lo != "0" && hi != "":
			return fmt.Sprintf("a list of %s to %s %s", lo, hi, noun)
		case lo != "" && lo != "0":
			return fmt.Sprintf("a list of at least %s %s", lo, noun)
		case hi != "":
			return fmt.Sprintf("a list of at most %s %s", hi, noun)
		}
		return "a list of " + noun
	case "object":
		if req, ok := node["required"].([]any); ok && len(req) > 0 {
			names := make([]string, len(req))
			for i, r := range req {
				names[i], _ = r.(string)
			}
			return "an object with " + strings.Join(names, ", ")
		}
		return "an object"
	}
	return ""
}

// itemNoun names what a list holds, in the plural.
func itemNoun(node map[string]any) string {
	switch {
	case node == nil:
		return "values"
	case node["x-def"] == "code":
		return "codes"
	case node["type"] == "string":
		return "texts"
	case node["type"] == "integer":
		return "whole numbers"
	case node["type"] == "object":
		return "objects"
	}
	return "values"
}

func hintOf(node map[string]any) string {
	if node == nil {
		return ""
	}
	d, _ := node["description"].(string)
	return d
}

func propertyNames(node map[string]any) []string {
	props, _ := node["properties"].(map[string]any)
	out := make([]string, 0, len(props))
	for k := range props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func typeWord(t string) string {
	switch t {
	case "string":
		return "text"
	case "integer", "number":
		return "a number"
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "boolean":
		return "true or false"
	case "null":
		return "null"
	}
	return t
}

func typeHint(got string, want []string, fallback string) string {
	w := strings.Join(want, " ")
	switch {
	case got == "string" && (strings.Contains(w, "integer") || strings.Contains(w, "number")):
		return "write the number without quotes"
	case (got == "integer" || got == "number" || got == "boolean") && strings.Contains(w, "string"):
		return "put the value in double quotes"
	case got == "null":
		return "leave an optional field out when it was not recorded; a required field needs a value"
	case strings.Contains(w, "array") && got != "array":
		return "put the value in a list: [ … ]"
	}
	return fallback
}

// display shows a JSON value briefly, as in an Expected text.
func display(x any) string {
	switch x := x.(type) {
	case string:
		return strconv.Quote(clip(x))
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprint(x)
}

func numberText(x any) string {
	switch x := x.(type) {
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(x)
}

func valueAt(inst any, tokens []string) any {
	for _, t := range tokens {
		switch x := inst.(type) {
		case map[string]any:
			inst = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			inst = x[i]
		default:
			return nil
		}
	}
	return inst
}

func objectAt(inst any, tokens []string) map[string]any {
	m, _ := valueAt(inst, tokens).(map[string]any)
	return m
}

// intOf reads a JSON number that must be a whole number in int range. The
// schema calls 1.0 and 1e2 integers, so they are accepted here too.
func intOf(x any) (int, bool) {
	n, ok := x.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.Atoi(string(n)); err == nil {
		return i, true
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	i := r.Num().Int64()
	if int64(int(i)) != i {
		return 0, false
	}
	return int(i), true
}

// ---- the byte scanner ----

// A scanner checks that bytes are one well-formed JSON value, in UTF-8, nested
// no deeper than maxDepth, with no field given twice in an object. It
// allocates nothing on valid input and stops at the first fault, so a hostile
// file costs one linear pass before anything is decoded. It keeps the path to
// the current value so that faults are reported with a JSON pointer.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int
	path     []pathElem
	keys     [][]byte // keys of the open objects, innermost last
	dups     []*scanError
}

type pathElem struct {
	key   []byte // a member's raw key, escapes and all
	index int
	elem  bool // an array element rather than an object member
}

type scanKind int

const (
	scanSyntax scanKind = iota
	scanTruncated
	scanUTF8
	scanDepth
	scanDuplicate
	scanEmpty
	scanLimit
)

type scanError struct {
	kind     scanKind
	off      int
	ptr      string
	msg      string
	expected string
	hint     string
}

func (se *scanError) problem(name string, data []byte) Problem {
	line, col := lineCol(data, se.off)
	p := Problem{File: name, Location: se.ptr, Expected: se.expected, Hint: se.hint}
	switch se.kind {
	case scanTruncated:
		p.Message = fmt.Sprintf("truncated JSON: the file ends at line %d, column %d (byte %d) %s", line, col, se.off, se.msg)
	case scanUTF8:
		p.Message = fmt.Sprintf("invalid UTF-8 at byte %d (line %d, column %d)", se.off, line, col)
	case scanDepth:
		p.Message = fmt.Sprintf("nesting deeper than %s at line %d, column %d (byte %d)", se.msg, line, col, se.off)
	case scanDuplicate:
		p.Message = fmt.Sprintf("%s at line %d, column %d", se.msg, line, col)
	case scanEmpty:
		p.Message = se.msg
	case scanLimit:
		p.Message = fmt.Sprintf("%s at line %d, column %d (byte %d)", se.msg, line, col, se.off)
	default:
		p.Message = fmt.Sprintf("malformed JSON at line %d, column %d (byte %d): %s", line, col, se.off, se.msg)
	}
	return p
}

// lineCol turns a byte offset into a 1-based line and column (in characters).
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	if start == 0 && bytes.HasPrefix(before, utf8BOM) {
		start = len(utf8BOM) // editors do not show the mark as a column
	}
	return line, utf8.RuneCount(before[start:]) + 1
}

func (s *scanner) pointer() string {
	if len(s.path) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, e := range s.path {
		b.WriteByte('/')
		if e.elem {
			b.WriteString(strconv.Itoa(e.index))
		} else {
			b.WriteString(escapePointerToken(unescapeKey(e.key)))
		}
	}
	return b.String()
}

// unescapeKey decodes a raw JSON key; keys with escapes are rare, so the slow
// path may allocate.
func unescapeKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	return (&builder{data: append(append([]byte{'"'}, raw...), '"')}).str()
}

func (s *scanner) scanDocument() *scanError {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return &scanError{kind: scanEmpty, off: s.pos, ptr: "/", msg: "the file is empty",
			expected: "a JSON object holding one review export", hint: "check that the export was written completely"}
	}
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos < len(s.data) {
		if err := s.badUTF8(); err != nil {
			return err
		}
		return s.syntaxErr("unexpected "+s.describeAt()+" after the end of the JSON value", "the end of the file",
			"a file holds exactly one review export; remove what follows its closing '}'")
	}
	return nil
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) *scanError {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.truncErr("before a value", "a value")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		return s.number()
	}
	return s.unexpected("a value (an object, a list, text in double quotes, a number, true, false or null)")
}

func (s *scanner) object(depth int) *scanError {
	if depth > s.maxDepth {
		return s.depthErr()
	}
	s.pos++
	base := len(s.keys)
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.truncErr("inside an object", "a field name in double quotes")
		}
		if s.data[s.pos] != '"' {
			return s.unexpected("a field name in double quotes")
		}
		if len(s.keys)-base >= maxObjectFields {
			return s.limitErr(fmt.Sprintf("the object has more than %d fields", maxObjectFields),
				"an object of the format, which has at most 13 fields")
		}
		kstart := s.pos
		if err := s.str(); err != nil {
			return err
		}
		raw := s.data[kstart+1 : s.pos-1]
		s.checkDup(base, raw, kstart)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.truncErr("after a field name", "':' after the field name")
		}
		if s.data[s.pos] != ':' {
			return s.unexpected("':' after the field name")
		}
		s.pos++
		s.path = append(s.path, pathElem{key: raw})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.truncErr("before the object is closed", "',' or '}'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.keys = s.keys[:base]
			return nil
		default:
			return s.unexpected("',' or '}'")
		}
	}
}

// checkDup records a field given twice in one object. Readers disagree on
// which copy wins, so the file is ambiguous and refused. The comparison is
// quadratic, but maxObjectFields bounds it.
func (s *scanner) checkDup(base int, raw []byte, off int) {
	k := raw
	if bytes.IndexByte(raw, '\\') >= 0 {
		k = []byte(unescapeKey(raw))
	}
	for _, prev := range s.keys[base:] {
		if bytes.Equal(prev, k) {
			if len(s.dups) < MaxProblems {
				ptr := strings.TrimSuffix(s.pointer(), "/") + "/" + escapePointerToken(string(k))
				s.dups = append(s.dups, &scanError{kind: scanDuplicate, off: off, ptr: ptr,
					msg: fmt.Sprintf("duplicate field %q", clip(string(k))), expected: "each field once in an object",
					hint: "remove one of the two; readers disagree on which copy counts"})
			}
			break
		}
	}
	s.keys = append(s.keys, k)
}

func (s *scanner) array(depth int) *scanError {
	if depth > s.maxDepth {
		return s.depthErr()
	}
	s.pos++
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.truncErr("inside a list", "a value or ']'")
	}
	if s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if i >= maxListItems {
			return s.limitErr(fmt.Sprintf("the list has more than %d items", maxListItems),
				"a list of the format, which has at most 200 items")
		}
		s.path = append(s.path, pathElem{index: i, elem: true})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.truncErr("before the list is closed", "',' or ']'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.unexpected("',' or ']'")
		}
	}
}

// plainByte marks bytes that need no attention inside a JSON string.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) str() *scanError {
	d := s.data
	i := s.pos + 1
	for {
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		if i >= len(d) {
			s.pos = len(d)
			return s.truncErr("inside text", "a closing '\"'")
		}
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(d) {
				s.pos = len(d)
				return s.truncErr("inside text", "a closing '\"'")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(d) {
						s.pos = len(d)
						return s.truncErr("inside text", "four hex digits after \\u")
					}
					if !isHex(d[j]) {
						s.pos = i
						return s.syntaxErr("invalid escape in text", "four hex digits after \\u",
							"to write a backslash in text, double it: \\\\")
					}
				}
				i += 6
			default:
				s.pos = i
				return s.syntaxErr("invalid escape in text", `one of \" \\ \/ \b \f \n \r \t \uXXXX`,
					"to write a backslash in text, double it: \\\\")
			}
		case c < 0x20:
			s.pos = i
			return s.syntaxErr(fmt.Sprintf("control character U+%04X inside text", c), "\\n, \\t or \\u00XX in place of the raw character",
				"a line break inside text must be written as \\n; or the text's closing quote is missing")
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return s.utf8Err()
			}
			i += size
		}
	}
}

func (s *scanner) number() *scanError {
	d := s.data
	i := s.pos
	bad := func(at int, expected string) *scanError {
		if at >= len(d) {
			s.pos = len(d)
			return s.truncErr("inside a number", expected)
		}
		s.pos = at
		return s.syntaxErr("malformed number", expected, "numbers are written like 12, -3 or 0.74, without quotes, spaces or leading zeros")
	}
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && isDigit(d[i]):
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return bad(i, "a digit")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return bad(i, "a digit after '.'")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return bad(i, "a digit in the exponent")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return nil
}

func (s *scanner) literal(word string) *scanError {
	d := s.data
	for j := 0; j < len(word); j++ {
		if s.pos+j >= len(d) {
			s.pos = len(d)
			return s.truncErr("inside "+word, word)
		}
		if d[s.pos+j] != word[j] {
			return s.syntaxErr("unexpected "+s.describeAt(), "a value (an object, a list, text in double quotes, a number, true, false or null)",
				"put text in double quotes")
		}
	}
	s.pos += len(word)
	return nil
}

func (s *scanner) truncErr(where, expected string) *scanError {
	return &scanError{kind: scanTruncated, off: len(s.data), ptr: s.pointer(), msg: where, expected: expected,
		hint: "the file was cut short; export or copy it again"}
}

func (s *scanner) limitErr(msg, expected string) *scanError {
	return &scanError{kind: scanLimit, off: s.pos, ptr: s.pointer(), msg: msg, expected: expected,
		hint: "this file is damaged or is not a review export"}
}

func (s *scanner) depthErr() *scanError {
	return &scanError{kind: scanDepth, off: s.pos, ptr: s.pointer(), msg: strconv.Itoa(s.maxDepth) + " levels",
		expected: fmt.Sprintf("at most %d levels of nested objects and lists", s.maxDepth),
		hint:     "a review export nests five levels deep; this file is damaged or is not a review export"}
}

func (s *scanner) utf8Err() *scanError {
	return &scanError{kind: scanUTF8, off: s.pos, ptr: s.pointer(), expected: "text encoded as UTF-8",
		hint: "save the file as UTF-8; text pasted from older Windows programs is often Windows-1252"}
}

func (s *scanner) syntaxErr(msg, expected, hint string) *scanError {
	return &scanError{kind: scanSyntax, off: s.pos, ptr: s.pointer(), msg: msg, expected: expected, hint: hint}
}

// badUTF8 reports an invalid UTF-8 sequence at the current position, if any,
// so that stray bytes are named as an encoding fault, not a syntax fault.
func (s *scanner) badUTF8() *scanError {
	if s.pos < len(s.data) && s.data[s.pos] >= 0x80 {
		if r, size := utf8.DecodeRune(s.data[s.pos:]); r == utf8.RuneError && size == 1 {
			return s.utf8Err()
		}
	}
	return nil
}

func (s *scanner) unexpected(expected string) *scanError {
	if err := s.badUTF8(); err != nil {
		return err
	}
	c := s.data[s.pos]
	hint := "check just before this point for a missing comma, quote or bracket"
	prev := s.pos - 1
	for prev >= 0 && (s.data[prev] == ' ' || s.data[prev] == '\t' || s.data[prev] == '\n' || s.data[prev] == '\r') {
		prev--
	}
	switch {
	case (c == '}' || c == ']') && prev >= 0 && s.data[prev] == ',':
		hint = fmt.Sprintf("remove the comma before '%c'", c)
	case c == '\'':
		hint = "JSON text goes in double quotes, not single quotes"
	case c == '"' && (expected == "',' or '}'" || expected == "',' or ']'"):
		hint = "a comma is missing before this point"
	case isDigit(c) && prev >= 0 && s.data[prev] == '0':
		hint = "numbers are written without leading zeros"
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		hint = "put text and field names in double quotes"
	}
	return s.syntaxErr("unexpected "+s.describeAt(), expected, hint)
}

// describeAt names the character at the current position for a message.
func (s *scanner) describeAt() string {
	if s.pos >= len(s.data) {
		return "end of file"
	}
	c := s.data[s.pos]
	if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		end := s.pos
		for end < len(s.data) && end-s.pos < 20 && (s.data[end] >= 'A' && s.data[end] <= 'Z' || s.data[end] >= 'a' && s.data[end] <= 'z') {
			end++
		}
		return "word " + strconv.Quote(string(s.data[s.pos:end]))
	}
	r, _ := utf8.DecodeRune(s.data[s.pos:])
	if r < 0x20 {
		return fmt.Sprintf("control character U+%04X", r)
	}
	return strconv.QuoteRune(r)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ---- document order ----

// An indexer walks JSON already known to be well formed and records the byte
// offset of each value whose pointer is wanted, so problems can be sorted
// into the order a reader meets them.
type indexer struct {
	scanner
	want map[string]int
	buf  []byte
}

func (ix *indexer) run() {
	ix.skipSpace()
	if ix.pos < len(ix.data) {
		ix.walk()
	}
}

func (ix *indexer) walk() {
	ix.skipSpace()
	ptr := ix.buf
	if len(ptr) == 0 {
		ptr = []byte{'/'}
	}
	if o, ok := ix.want[string(ptr)]; ok && o < 0 {
		ix.want[string(ptr)] = ix.pos
	}
	d := ix.data
	switch d[ix.pos] {
	case '{':
		ix.pos++
		for {
			ix.skipSpace()
			if d[ix.pos] == '}' {
				ix.pos++
				return
			}
			kstart := ix.pos
			ix.skipString()
			raw := d[kstart+1 : ix.pos-1]
			mark := len(ix.buf)
			ix.buf = append(ix.buf, '/')
			if bytes.IndexAny(raw, `\~/`) >= 0 {
				ix.buf = append(ix.buf, escapePointerToken(unescapeKey(raw))...)
			} else {
				ix.buf = append(ix.buf, raw...)
			}
			ix.skipSpace()
			ix.pos++ // ':'
			ix.walk()
			ix.buf = ix.buf[:mark]
			ix.skipSpace()
			if d[ix.pos] == ',' {
				ix.pos++
			}
		}
	case '[':
		ix.pos++
		for i := 0; ; i++ {
			ix.skipSpace()
			if d[ix.pos] == ']' {
				ix.pos++
				return
			}
			mark := len(ix.buf)
			ix.buf = append(ix.buf, '/')
			ix.buf = strconv.AppendInt(ix.buf, int64(i), 10)
			ix.walk()
			ix.buf = ix.buf[:mark]
			ix.skipSpace()
			if d[ix.pos] == ',' {
				ix.pos++
			}
		}
	case '"':
		ix.skipString()
	default:
		for ix.pos < len(d) {
			switch d[ix.pos] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return
			}
			ix.pos++
		}
	}
}

// skipString moves past a string known to be well formed.
func (s *scanner) skipString() {
	i := s.pos + 1
	for {
		switch s.data[i] {
		case '"':
			s.pos = i + 1
			return
		case '\\':
			i += 2
		default:
			i++
		}
	}
}

// ---- decoding ----

// A builder decodes JSON already known to be well formed into the generic
// values the schema library validates (numbers stay exact as json.Number).
// It is faster than encoding/json because nothing has to be checked twice.
type builder struct {
	data   []byte
	pos    int
	intern map[string]string // field names and enum values: shared, read-only
}

func (b *builder) skipSpace() {
	for b.pos < len(b.data) {
		switch b.data[b.pos] {
		case ' ', '\t', '\n', '\r':
			b.pos++
		default:
			return
		}
	}
}

func (b *builder) value() any {
	b.skipSpace()
	if b.pos >= len(b.data) {
		return nil
	}
	d := b.data
	switch d[b.pos] {
	case '{':
		b.pos++
		m := make(map[string]any, 8)
		for {
			b.skipSpace()
			if d[b.pos] == '}' {
				b.pos++
				return m
			}
			k := b.str()
			b.skipSpace()
			b.pos++ // ':'
			m[k] = b.value()
			b.skipSpace()
			if d[b.pos] == ',' {
				b.pos++
			}
		}
	case '[':
		b.pos++
		a := make([]any, 0, 4)
		for {
			b.skipSpace()
			if d[b.pos] == ']' {
				b.pos++
				return a
			}
			a = append(a, b.value())
			b.skipSpace()
			if d[b.pos] == ',' {
				b.pos++
			}
		}
	case '"':
		return b.str()
	case 't':
		b.pos += 4
		return true
	case 'f':
		b.pos += 5
		return false
	case 'n':
		b.pos += 4
		return nil
	}
	start := b.pos
	for b.pos < len(d) {
		c := d[b.pos]
		if !(isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		b.pos++
	}
	return json.Number(d[start:b.pos])
}

// str decodes a string; escapes follow encoding/json, including U+FFFD for
// a lone surrogate.
func (b *builder) str() string {
	d := b.data
	start := b.pos + 1
	i := start
	for d[i] != '"' && d[i] != '\\' {
		i++
	}
	if d[i] == '"' {
		b.pos = i + 1
		if s, ok := b.intern[string(d[start:i])]; ok {
			return s
		}
		return string(d[start:i])
	}
	out := make([]byte, 0, i-start+16)
	out = append(out, d[start:i]...)
	for {
		switch c := d[i]; c {
		case '"':
			b.pos = i + 1
			return string(out)
		case '\\':
			switch e := d[i+1]; e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(d[i+2 : i+6])
				i += 6
				if utf16IsSurrogate(r) {
					if i+6 <= len(d) && d[i] == '\\' && d[i+1] == 'u' {
						if r2 := hex4(d[i+2 : i+6]); r >= 0xD800 && r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000 {
							out = utf8.AppendRune(out, (r-0xD800)<<10|(r2-0xDC00)+0x10000)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, e)
			}
			i += 2
		default:
			out = append(out, c)
			i++
		}
	}
}

func utf16IsSurrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case isDigit(c):
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// ---- from generic values to an Export ----

// toExport turns a schema-valid document into an Export. The schema has
// already fixed every field's type, so this is a copy, not a second parse;
// the one thing left to refuse is a whole number too large for Go's int.
// It mirrors encoding/json exactly: a list that is present is non-nil even
// when empty, and an optional object or number that is present is non-nil.
func toExport(inst any, report func(Problem)) *Export {
	c := converter{report: report}
	root, _ := inst.(map[string]any)
	e := &Export{Format: str(root["format"])}
	if r, ok := root["review"].(map[string]any); ok {
		c.review(r, &e.Review)
	}
	if xs, ok := root["episodes"].([]any); ok {
		e.Episodes = make([]Episode, len(xs))
		for i, x := range xs {
			c.episode(x, &e.Episodes[i], i)
		}
	}
	if xs, ok := root["patterns"].([]any); ok {
		e.Patterns = make([]Pattern, len(xs))
		for i, x := range xs {
			m, _ := x.(map[string]any)
			p := &e.Patterns[i]
			p.Number = c.int(m["number"], "/patterns/%d/number", i, 0)
			p.Type = str(m["type"])
			p.SubPattern = str(m["sub_pattern"])
			p.ProposedSubPattern = str(m["proposed_sub_pattern"])
			p.Nature = str(m["nature"])
			if x, ok := m["priority"]; ok {
				n := c.int(x, "/patterns/%d/priority", i, 0)
				p.Priority = &n
			}
			p.Widespread = str(m["widespread"])
			p.Relevance = str(m["relevance"])
			p.Summary = str(m["summary"])
			if xs, ok := m["episodes"].([]any); ok {
				p.Episodes = make([]int, len(xs))
				for j, x := range xs {
					p.Episodes[j] = c.int(x, "/patterns/%d/episodes/%d", i, j)
				}
			}
		}
	}
	if xs, ok := root["recommendations"].([]any); ok {
		e.Recommendations = make([]Recommendation, len(xs))
		for i, x := range xs {
			m, _ := x.(map[string]any)
			r := &e.Recommendations[i]
			r.Number = c.int(m["number"], "/recommendations/%d/number", i, 0)
			r.Kind = c.int(m["kind"], "/recommendations/%d/kind", i, 0)
			r.Level = str(m["level"])
			r.Text = str(m["text"])
			if xs, ok := m["patterns"].([]any); ok {
				r.Patterns = make([]int, len(xs))
				for j, x := range xs {
					r.Patterns[j] = c.int(x, "/recommendations/%d/patterns/%d", i, j)
				}
			}
		}
	}
	return e
}

type converter struct {
	report func(Problem)
}

func str(x any) string {
	s, _ := x.(string)
	return s
}

func strs(x any) []string {
	xs, ok := x.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(xs))
	for i, s := range xs {
		out[i] = str(s)
	}
	return out
}

// int reads a whole number; loc is a pointer format with up to two indexes,
// formatted only when the number is refused.
func (c converter) int(x any, loc string, i, j int) int {
	n, ok := intOf(x)
	if !ok {
		switch strings.Count(loc, "%d") {
		case 1:
			loc = fmt.Sprintf(loc, i)
		case 2:
			loc = fmt.Sprintf(loc, i, j)
		}
		c.report(Problem{Location: loc, Message: fmt.Sprintf("%s is not a whole number Collate can store", clip(numberText(x))),
			Expected: "a whole number of at most 9 digits", Hint: "check for a typing error"})
	}
	return n
}

func (c converter) review(m map[string]any, r *Review) {
	r.ID = str(m["id"])
	r.Board = str(m["board"])
	r.Region = str(m["region"])
	r.Nation = str(m["nation"])
	r.Kind = str(m["kind"])
	r.Questions = strs(m["questions"])
	if cm, ok := m["completed"].(map[string]any); ok {
		r.Completed.Year = c.int(cm["year"], "/review/completed/year", 0, 0)
		if x, ok := cm["month"]; ok {
			n := c.int(x, "/review/completed/month", 0, 0)
			r.Completed.Month = &n
		}
	}
	r.Agencies = strs(m["agencies"])
	if xs, ok := m["participants"].([]any); ok {
		r.Participants = make([]Participant, len(xs))
		for i, x := range xs {
			pm, _ := x.(map[string]any)
			r.Participants[i] = Participant{Role: str(pm["role"]), Agency: str(pm["agency"])}
		}
	}
	r.FamilyParticipation = str(m["family_participation"])
	if dm, ok := m["dialogue_stages"].(map[string]any); ok {
		r.DialogueStages = &DialogueStage{Preliminary: str(dm["preliminary"]), Interim: str(dm["interim"]), Final: str(dm["final"])}
	}
	if fm, ok := m["frame"].(map[string]any); ok {
		r.Frame = FrameRef{ID: str(fm["id"]), Version: str(fm["version"])}
	}
	if cm, ok := m["coding"].(map[string]any); ok {
		r.Coding.CoderRole = str(cm["coder_role"])
		r.Coding.Method = str(cm["method"])
		if am, ok := cm["second_coder_agreement"].(map[string]any); ok {
			a := &Agreement{Measure: str(am["measure"])}
			if n, ok := am["value"].(json.Number); ok {
				a.Value, _ = strconv.ParseFloat(string(n), 64)
			}
			r.Coding.SecondCoderAgreement = a
		}
	}
}

func (c converter) episode(x any, ep *Episode, i int) {
	m, _ := x.(map[string]any)
	ep.Number = c.int(m["number"], "/episodes/%d/number", i, 0)
	ep.Title = str(m["title"])
	ep.Description = str(m["description"])
	ep.Significance = str(m["significance"])
	ep.Adequacy = str(m["adequacy"])
	ep.Agencies = strs(m["agencies"])
	if xs, ok := m["evidence"].([]any); ok {
		ep.Evidence = make([]Evidence, len(xs))
		for j, x := range xs {
			em, _ := x.(map[string]any)
			ep.Evidence[j] = Evidence{Kind: str(em["kind"]), Note: str(em["note"])}
		}
	}
	if xs, ok := m["factors"].([]any); ok {
		ep.Factors = make([]ContributoryFactor, len(xs))
		for j, x := range xs {
			fm, _ := x.(map[string]any)
			ep.Factors[j] = ContributoryFactor{Code: str(fm["code"]), Detail: str(fm["detail"]), Influence: str(fm["influence"])}
		}
	}
}

// closeEnough says whether a typed value is near enough to a valid one to
// suggest it: a slip of one character in four, so "supported_goood" suggests
// "supported_good" but "poor" does not suggest "good".
func closeEnough(typed, valid string) bool {
	return editDistance(strings.ToLower(typed), strings.ToLower(valid)) <= max(1, len(typed)/4)
}
