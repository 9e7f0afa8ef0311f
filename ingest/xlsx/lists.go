package xlsx

import (
	"strconv"
	"strings"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// codeList is one column of the Lists sheet: the texts a dropdown offers and
// the code each text stands for. Codes from the frame and the geography are
// offered as "CODE label" so people see what they pick; the reader takes
// such a text back to its code.
type codeList struct {
	name   string
	header string
	items  []string
	codes  []string
}

// Enumerations of the export format that the ingest package names only as
// constants.
var (
	enumTristate   = []string{ingest.Yes, ingest.No, ingest.NotRecorded}
	enumMethod     = []string{"human", "machine_assisted"}
	enumMeasure    = []string{"percent_agreement", "cohens_kappa"}
	enumAdequacy   = []string{ingest.AdequacyGood, ingest.AdequacyProblematic, ingest.AdequacyMixed, ingest.AdequacyNotJudged}
	enumEvidence   = []string{"document", "conversation", "group_meeting"}
	enumInfluence  = []string{ingest.InfluenceGood, ingest.InfluenceProblematic}
	enumNature     = []string{ingest.NatureConstructive, ingest.NatureUnsafe}
	enumWidespread = []string{"this_case", "local", "regional", "national", ingest.NotRecorded}
	enumRelevance  = []string{"high", "medium", "low", ingest.NotRecorded}
	enumLevel      = []string{"local", "regional", "national"}
	enumRecKind    = []string{"1", "2", "3"}
)

func labelled(code, label string) string {
	if label == "" {
		return code
	}
	return code + " " + oneLine(label)
}

// oneLine keeps a label on one line, as dropdown items must be.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func enumList(name, header string, values []string) codeList {
	return codeList{name: name, header: header, items: values, codes: values}
}

// buildLists makes the code lists for a frame and a geography, in the order
// the Lists sheet shows them.
func buildLists(frame *schemas.Frame, geo *schemas.Geography) []codeList {
	var lists []codeList
	add := func(name, header string, nodes []schemas.FlatNode, keep func(schemas.FlatNode) bool) {
		l := codeList{name: name, header: header}
		for _, n := range nodes {
			if keep(n) {
				l.items = append(l.items, labelled(n.Code, n.Label))
				l.codes = append(l.codes, n.Code)
			}
		}
		lists = append(lists, l)
	}
	all := func(schemas.FlatNode) bool { return true }
	if frame != nil {
		add("factors", "Contributory factors", frame.Flat(schemas.TreeFactor), all)
		add("pattern_types", "Pattern types", frame.Flat(schemas.TreePattern), func(n schemas.FlatNode) bool { return n.Depth == 1 })
		add("sub_patterns", "Sub-patterns", frame.Flat(schemas.TreePattern), func(n schemas.FlatNode) bool { return n.Depth > 1 })
		lists = append(lists, enumList("frame_ids", "Coding frame", []string{frame.ID}), enumList("frame_versions", "Frame version", []string{frame.Version}))
	}
	if geo != nil {
		boards := codeList{name: "boards", header: "Boards"}
		regions := codeList{name: "regions", header: "Regions"}
		nations := codeList{name: "nations", header: "Nations"}
		for _, n := range geo.Nations {
			nations.items = append(nations.items, labelled(n.Code, n.Name))
			nations.codes = append(nations.codes, n.Code)
			for _, r := range n.Regions {
				regions.items = append(regions.items, labelled(r.Code, r.Name))
				regions.codes = append(regions.codes, r.Code)
				for _, b := range r.Boards {
					boards.items = append(boards.items, labelled(b.Code, b.Name))
					boards.codes = append(boards.codes, b.Code)
				}
			}
		}
		lists = append(lists, boards, regions, nations)
	}
	return append(lists,
		enumList("kinds", "Kinds of review", ingest.ReviewKinds),
		enumList("tristate", "Yes, no, not recorded", enumTristate),
		enumList("methods", "Coding methods", enumMethod),
		enumList("measures", "Agreement measures", enumMeasure),
		enumList("adequacy", "Adequacy of practice", enumAdequacy),
		enumList("evidence", "Evidence sources", enumEvidence),
		enumList("influence", "Influence of a factor", enumInfluence),
		enumList("nature", "Nature of a pattern", enumNature),
		enumList("widespread", "How widespread", enumWidespread),
		enumList("relevance", "Contemporary relevance", enumRelevance),
		enumList("recommendation_kind", "Kinds of recommendation", enumRecKind),
		enumList("level", "Levels addressed", enumLevel),
	)
}

// decoder turns dropdown texts back into codes. It knows the texts of the
// built-in frames and the embedded geography, and those found on the
// workbook's own Lists sheet, so a workbook made for another frame reads too.
type decoder struct {
	items map[string]string // dropdown text (normalised spacing) → code
	enums map[string]string // normalised enum spelling → value
}

func newDecoder() *decoder {
	d := &decoder{items: map[string]string{}, enums: map[string]string{}}
	for _, f := range schemas.BuiltinFrames() {
		d.addLists(buildLists(f, nil))
	}
	d.addLists(buildLists(nil, schemas.LoadGeography()))
	return d
}

func (d *decoder) addLists(lists []codeList) {
	for _, l := range lists {
		for i, it := range l.items {
			d.addItem(it, l.codes[i])
		}
		if l.name != "frame_ids" && l.name != "frame_versions" && len(l.items) > 0 && l.items[0] == l.codes[0] {
			for _, c := range l.codes {
				d.enums[enumKey(c)] = c
			}
		}
	}
}

// addItem learns one dropdown text; the code is the first word of the text.
func (d *decoder) addItem(item, code string) {
	item = oneLine(item)
	if item == "" || item == code {
		return
	}
	if code == "" {
		code, _, _ = strings.Cut(item, " ")
	}
	d.items[item] = code
}

func enumKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// code reads a coded cell: the code alone, a dropdown's "CODE label", or an
// enum value in other capitals or with spaces ("Not judged"). Anything else
// is returned as typed (trimmed) for the validator to refuse with hints.
func (d *decoder) code(s string) string {
	s = strings.TrimSpace(s)
	if c, ok := d.items[oneLine(s)]; ok {
		return c
	}
	if c, ok := d.enums[enumKey(s)]; ok {
		return c
	}
	return s
}

// parseInt reads a whole number, written as 3 or 3.0.
func parseInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) || f > 1e9 || f < -1e9 {
		return 0, false
	}
	return int(f), true
}
