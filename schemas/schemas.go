// Package schemas owns what Collate treats as data rather than code: the review
// export JSON Schema, the coding frames, the geography of boards, regions and
// nations, and the ordered DuckDB DDL. It embeds them and offers typed loaders.
// It must not open a database or know about HTTP.
package schemas

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed review.schema.json frame.schema.json geography.json frames/*.json ddl/*.sql examples/*.json
var files embed.FS

// ExportFormat is the format and major version every review export declares.
const ExportFormat = "collate.review/1"

// FrameFormat is the format every coding frame file declares.
const FrameFormat = "collate.frame/1"

// ReviewSchema returns the JSON Schema (draft 2020-12) of a review export.
func ReviewSchema() []byte { return mustRead("review.schema.json") }

// FrameSchema returns the JSON Schema of a coding frame file.
func FrameSchema() []byte { return mustRead("frame.schema.json") }

// Examples returns the complete example exports shipped with the format, by file name.
func Examples() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.ReadDir(files, "examples")
	for _, e := range entries {
		out[e.Name()] = mustRead(path.Join("examples", e.Name()))
	}
	return out
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("schemas: embedded file %s missing: %v", name, err))
	}
	return b
}

// Migration is one ordered DDL step; Version is the schema version it brings the store to.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the DDL steps in the order they must be applied.
func Migrations() []Migration {
	entries, err := fs.ReadDir(files, "ddl")
	if err != nil {
		panic(err)
	}
	var out []Migration
	for _, e := range entries {
		var v int
		if _, err := fmt.Sscanf(e.Name(), "%04d_", &v); err != nil {
			panic(fmt.Sprintf("schemas: ddl file %s has no version prefix", e.Name()))
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(mustRead(path.Join("ddl", e.Name())))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// Node is one code of a frame tree.
type Node struct {
	Code     string `json:"code"`
	Label    string `json:"label"`
	Retired  bool   `json:"retired,omitempty"`
	Children []Node `json:"children,omitempty"`
}

// Tree is a hierarchy of codes with named levels.
type Tree struct {
	Label  string   `json:"label"`
	Levels []string `json:"levels"`
	Nodes  []Node   `json:"nodes"`
}

// Frame is a versioned coding frame: the factor tree and, optionally, the
// pattern typology whose top level holds the pattern types.
type Frame struct {
	Schema   string `json:"$schema,omitempty"`
	Format   string `json:"format"`
	ID       string `json:"id"`
	Version  string `json:"version"`
	Title    string `json:"title"`
	Source   string `json:"source,omitempty"`
	Notes    string `json:"notes,omitempty"`
	Factors  Tree   `json:"factors"`
	Patterns *Tree  `json:"patterns,omitempty"`

	index map[string]FlatNode // "factor:CODE" or "pattern:CODE"
}

// Tree names.
const (
	TreeFactor  = "factor"
	TreePattern = "pattern"
)

// FlatNode is a node with its place in the tree.
type FlatNode struct {
	Tree   string
	Code   string
	Parent string // empty at the top
	Depth  int    // 1 at the top
	Ord    int    // order of appearance in the tree
	Label  string
	Leaf   bool
}

// Key names a frame and version, as exports do.
func (f *Frame) Key() string { return f.ID + "@" + f.Version }

// ParseFrame decodes and indexes a frame file. It checks the structure the
// JSON Schema cannot: unique codes and a patterns tree that is not empty when given.
func ParseFrame(data []byte) (*Frame, error) {
	var f Frame
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode frame: %w", err)
	}
	if f.Format != FrameFormat {
		return nil, fmt.Errorf("frame %s: format %q, want %q", f.ID, f.Format, FrameFormat)
	}
	if f.ID == "" || f.Version == "" {
		return nil, fmt.Errorf("frame: id and version are required")
	}
	f.index = map[string]FlatNode{}
	ord := 0
	var walk func(tree string, nodes []Node, parent string, depth int) error
	walk = func(tree string, nodes []Node, parent string, depth int) error {
		for _, n := range nodes {
			key := tree + ":" + n.Code
			if _, dup := f.index[key]; dup {
				return fmt.Errorf("frame %s: %s code %s appears twice", f.Key(), tree, n.Code)
			}
			ord++
			f.index[key] = FlatNode{Tree: tree, Code: n.Code, Parent: parent, Depth: depth, Ord: ord, Label: n.Label, Leaf: len(n.Children) == 0}
			if err := walk(tree, n.Children, n.Code, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if len(f.Factors.Nodes) == 0 {
		return nil, fmt.Errorf("frame %s: factor tree is empty", f.Key())
	}
	if err := walk(TreeFactor, f.Factors.Nodes, "", 1); err != nil {
		return nil, err
	}
	if f.Patterns != nil {
		if err := walk(TreePattern, f.Patterns.Nodes, "", 1); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

// Lookup finds a code in one tree of the frame.
func (f *Frame) Lookup(tree, code string) (FlatNode, bool) {
	n, ok := f.index[tree+":"+code]
	return n, ok
}

// Flat lists every node of one tree in tree order.
func (f *Frame) Flat(tree string) []FlatNode {
	var out []FlatNode
	for _, n := range f.index {
		if n.Tree == tree {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ord < out[j].Ord })
	return out
}

// Ancestors returns the code and every ancestor of it, nearest first.
func (f *Frame) Ancestors(tree, code string) []string {
	var out []string
	for code != "" {
		n, ok := f.Lookup(tree, code)
		if !ok {
			break
		}
		out = append(out, code)
		code = n.Parent
	}
	return out
}

// Codes lists every code of one tree, for hints.
func (f *Frame) Codes(tree string) []string {
	var out []string
	for _, n := range f.Flat(tree) {
		out = append(out, n.Code)
	}
	return out
}

// DefaultFrameID and DefaultFrameVersion name the seed's frame.
const (
	DefaultFrameID      = "scie-lt"
	DefaultFrameVersion = "2008.1"
)

// BuiltinFrames returns the frames shipped in the binary, the default first.
func BuiltinFrames() []*Frame {
	entries, err := fs.ReadDir(files, "frames")
	if err != nil {
		panic(err)
	}
	var out []*Frame
	for _, e := range entries {
		f, err := ParseFrame(mustRead(path.Join("frames", e.Name())))
		if err != nil {
			panic(fmt.Sprintf("schemas: embedded frame %s: %v", e.Name(), err))
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID == DefaultFrameID && out[j].ID != DefaultFrameID })
	return out
}

// Board, Region and Nation make up the geography.
type Board struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Region groups boards.
type Region struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Boards []Board `json:"boards"`
}

// Nation groups regions.
type Nation struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Regions []Region `json:"regions"`
}

// Geography is the board → region → nation list exports are coded against.
type Geography struct {
	Format  string   `json:"format"`
	Version string   `json:"version"`
	Nations []Nation `json:"nations"`
}

// Place is one board with its region and nation.
type Place struct {
	Board, BoardName, Region, RegionName, Nation, NationName string
}

// LoadGeography decodes the embedded geography.
func LoadGeography() *Geography {
	var g Geography
	if err := json.Unmarshal(mustRead("geography.json"), &g); err != nil {
		panic(fmt.Sprintf("schemas: geography.json: %v", err))
	}
	return &g
}

// Places lists every board with its region and nation, in list order.
func (g *Geography) Places() []Place {
	var out []Place
	for _, n := range g.Nations {
		for _, r := range n.Regions {
			for _, b := range r.Boards {
				out = append(out, Place{b.Code, b.Name, r.Code, r.Name, n.Code, n.Name})
			}
		}
	}
	return out
}

// Board finds a board's place.
func (g *Geography) Board(code string) (Place, bool) {
	for _, p := range g.Places() {
		if p.Board == code {
			return p, true
		}
	}
	return Place{}, false
}
