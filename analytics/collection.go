package analytics

import (
	"context"
	"time"
)

// Selection says which reviews a view is about: a collection, a range of
// completion years (which applies to every view) and the frame the figures are
// coded against.
type Selection struct {
	// Collection is "UK", a nation, region or board code from the geography
	// (e.g. "ENG", "ENG-NE", "ENG-NE-NCL"), or "saved:NAME" for a saved
	// custom collection.
	Collection string `json:"collection"`
	From       int    `json:"from,omitempty"`  // first completion year; 0 for no lower bound
	To         int    `json:"to,omitempty"`    // last completion year; 0 for no upper bound
	Frame      string `json:"frame,omitempty"` // id@version; the default frame when empty
}

// SavedPrefix marks a saved custom collection in Selection.Collection.
const SavedPrefix = "saved:"

// CollectionInfo describes a collection.
type CollectionInfo struct {
	Ref    string `json:"ref"`   // what Selection.Collection takes
	Level  Level  `json:"level"` // uk, nation, region, board or custom
	Code   string `json:"code"`  // geography code, or the saved collection's name
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"` // the parent's Ref; for a custom collection the smallest place containing it
	// FullDetail is true when the viewer sees this collection without
	// suppression and may drill down to its excerpts.
	FullDetail bool `json:"full_detail"`
}

// CollectionNode is a place in the collection switcher with the places under it.
type CollectionNode struct {
	CollectionInfo
	Children []CollectionNode `json:"children,omitempty"`
}

// Collections is what the collection switcher offers a viewer.
type Collections struct {
	Geography CollectionNode    `json:"geography"` // the UK, its nations, regions and boards
	Saved     []SavedCollection `json:"saved"`
}

// SavedCollection is a named filter over nations, regions, boards, years,
// review kinds, agencies and frame. Empty lists mean no restriction. Places
// combine as a union of the boards they contain; the other filters narrow it.
type SavedCollection struct {
	Name      string    `json:"name"` // lower-case letters, digits and '-', 1 to 64
	Title     string    `json:"title"`
	Nations   []string  `json:"nations,omitempty"`
	Regions   []string  `json:"regions,omitempty"`
	Boards    []string  `json:"boards,omitempty"`
	From      int       `json:"from,omitempty"`
	To        int       `json:"to,omitempty"`
	Kinds     []string  `json:"kinds,omitempty"`
	Agencies  []string  `json:"agencies,omitempty"` // a review counts when it involved any of these agencies
	Frame     string    `json:"frame,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Collections lists the collections a viewer can choose, marking those the
// viewer sees in full detail. Of the saved collections it lists those the
// viewer can open: one narrowed by kind or agency, or to some years, only
// where the viewer sees it in full.
func (s *Store) Collections(ctx context.Context, v Viewer) (*Collections, error) {
	return s.collections(ctx, v)
}

// SaveCollection stores (or replaces, for its creator or an admin) a named
// custom collection. The public role cannot save collections.
func (s *Store) SaveCollection(ctx context.Context, v Viewer, c SavedCollection) (*SavedCollection, error) {
	return s.saveCollection(ctx, v, c)
}

// SavedCollections lists the saved custom collections.
func (s *Store) SavedCollections(ctx context.Context, v Viewer) ([]SavedCollection, error) {
	return s.savedCollections(ctx, v)
}

// SavedCollection returns one saved custom collection by name.
func (s *Store) SavedCollection(ctx context.Context, v Viewer, name string) (*SavedCollection, error) {
	return s.savedCollection(ctx, v, name)
}

// DeleteCollection removes a saved collection; only its creator or an admin may.
func (s *Store) DeleteCollection(ctx context.Context, v Viewer, name string) error {
	return s.deleteCollection(ctx, v, name)
}
