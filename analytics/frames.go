package analytics

import (
	"context"
	"sync"

	"github.com/collate-project/collate/schemas"
)

// Trees of a frame, as schemas names them.
const (
	TreeFactor  = schemas.TreeFactor
	TreePattern = schemas.TreePattern
)

// ProposedSuffix names the node that groups, under each pattern type, the
// proposed sub-patterns still awaiting a place in the typology: P4 + ".proposed".
const ProposedSuffix = ".proposed"

// Node is one node of a frame tree as analytics reports it.
type Node struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	Parent  string `json:"parent,omitempty"`
	Depth   int    `json:"depth"`
	Level   string `json:"level"`             // the tree's name for the depth, e.g. "Factor type"
	Virtual bool   `json:"virtual,omitempty"` // the group of proposed sub-patterns of a type
}

// FrameInfo is a registered frame with its trees flattened in tree order.
type FrameInfo struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Title    string `json:"title"`
	Factors  []Node `json:"factors"`
	Patterns []Node `json:"patterns"`
}

// Key is id@version.
func (f *FrameInfo) Key() string { return f.ID + "@" + f.Version }

// frameCache holds parsed frames by key; frames never change once registered.
type frameCache struct {
	mu     sync.Mutex
	frames map[string]*frameData
}

func newFrameCache() *frameCache { return &frameCache{frames: map[string]*frameData{}} }

// frameData is a frame with lookups by code.
type frameData struct {
	info  FrameInfo
	index map[string]map[string]int // tree → code → position in the tree's slice
}

func (f *frameData) nodes(tree string) []Node {
	if tree == TreePattern {
		return f.info.Patterns
	}
	return f.info.Factors
}

func (f *frameData) node(tree, code string) (Node, bool) {
	i, ok := f.index[tree][code]
	if !ok {
		return Node{}, false
	}
	return f.nodes(tree)[i], true
}

// hasChildren reports whether any node of the tree has code as its parent.
func (f *frameData) hasChildren(tree, code string) bool {
	for _, n := range f.nodes(tree) {
		if n.Parent == code {
			return true
		}
	}
	return false
}

// Frames lists the frames registered in the store.
func (s *Store) Frames(ctx context.Context) ([]FrameInfo, error) {
	return s.listFrames(ctx)
}

// Frame returns one registered frame by id@version; empty means the default frame.
func (s *Store) Frame(ctx context.Context, key string) (*FrameInfo, error) {
	f, err := s.frame(ctx, key)
	if err != nil {
		return nil, err
	}
	info := f.info
	return &info, nil
}
