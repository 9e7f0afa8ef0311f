package analytics

import (
	"github.com/collate-project/collate/schemas"
)

// Level is the kind of a collection.
type Level string

// Collection levels, widest first.
const (
	LevelUK     Level = "uk"
	LevelNation Level = "nation"
	LevelRegion Level = "region"
	LevelBoard  Level = "board"
	LevelCustom Level = "custom"
)

// UK is the collection reference of the whole UK.
const UK = "UK"

// geoNode is one place of the geography hierarchy UK → nation → region → board.
type geoNode struct {
	idx      int
	code     string
	name     string
	level    Level
	parent   int // -1 at the UK
	children []int
	nation   string
	region   string
}

// geoIndex is the geography as a tree with the UK at index 0.
type geoIndex struct {
	nodes  []geoNode
	byCode map[string]int
}

func newGeoIndex(g *schemas.Geography) *geoIndex {
	gi := &geoIndex{byCode: map[string]int{}}
	add := func(n geoNode) int {
		n.idx = len(gi.nodes)
		gi.nodes = append(gi.nodes, n)
		gi.byCode[n.code] = n.idx
		if n.parent >= 0 {
			gi.nodes[n.parent].children = append(gi.nodes[n.parent].children, n.idx)
		}
		return n.idx
	}
	root := add(geoNode{code: UK, name: "United Kingdom", level: LevelUK, parent: -1})
	for _, na := range g.Nations {
		ni := add(geoNode{code: na.Code, name: na.Name, level: LevelNation, parent: root, nation: na.Code})
		for _, r := range na.Regions {
			ri := add(geoNode{code: r.Code, name: r.Name, level: LevelRegion, parent: ni, nation: na.Code, region: r.Code})
			for _, b := range r.Boards {
				add(geoNode{code: b.Code, name: b.Name, level: LevelBoard, parent: ri, nation: na.Code, region: r.Code})
			}
		}
	}
	return gi
}

func (g *geoIndex) lookup(code string) (*geoNode, bool) {
	i, ok := g.byCode[code]
	if !ok {
		return nil, false
	}
	return &g.nodes[i], true
}

// chain returns the node and its ancestors, the UK first.
func (g *geoIndex) chain(i int) []int {
	var out []int
	for ; i >= 0; i = g.nodes[i].parent {
		out = append([]int{i}, out...)
	}
	return out
}

// within reports whether node i is node anc or lies under it.
func (g *geoIndex) within(i, anc int) bool {
	for ; i >= 0; i = g.nodes[i].parent {
		if i == anc {
			return true
		}
	}
	return false
}

// boardsUnder lists the boards at or under node i, in geography order.
func (g *geoIndex) boardsUnder(i int) []int {
	n := &g.nodes[i]
	if n.level == LevelBoard {
		return []int{i}
	}
	var out []int
	for _, c := range n.children {
		out = append(out, g.boardsUnder(c)...)
	}
	return out
}

func (g *geoIndex) info(i int) CollectionInfo {
	n := &g.nodes[i]
	ci := CollectionInfo{Ref: n.code, Level: n.level, Code: n.code, Name: n.name}
	if n.parent >= 0 {
		ci.Parent = g.nodes[n.parent].code
	}
	return ci
}
