package xlsx

import (
	"errors"
	"fmt"

	"github.com/collate-project/collate/ingest"
)

// screen runs the screen for identifying information over the workbook's
// texts: all of them, or only those the validator's Check does not already
// screen as fields of the converted export.
//
// Package ingest does not export its screen, so the texts are screened by
// the one entry point it offers: they are packed into the free-text fields
// of a stand-in export (factor details, split into pieces the schema
// accepts), that export goes through v.Check, and only the problems at those
// fields are kept, each moved back to the cell its text came from. The
// stand-in names no known frame or board, so Check skips the code checks
// that would otherwise crowd out the screen's findings. An exported
// ingest.ScreenText would make this a plain loop.
func (wb *Workbook) screen(v *ingest.Validator, name string, all bool) (ingest.Problems, error) {
	var texts []Text
	for _, t := range wb.Texts {
		if all || t.Kind != "" || !wb.screened[t.Location] {
			texts = append(texts, t)
		}
	}
	var out ingest.Problems
	for len(texts) > 0 {
		e, where, rest := standIn(texts)
		texts = rest
		err := v.Check(name, e)
		if err == nil {
			continue
		}
		var ps ingest.Problems
		if !errors.As(err, &ps) {
			return nil, err
		}
		for _, p := range ps {
			t, ok := where[p.Location]
			if !ok {
				continue
			}
			p.File, p.Location = name, t.cell()
			if t.Kind != "" {
				p.Message += " in the " + t.Kind
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Limits of the stand-in export, within the review schema's.
const (
	standInEpisodes = 200
	standInFactors  = 100
	pieceRunes      = 3900 // a detail holds at most 4000 characters
	pieceOverlap    = 100  // so an identifier cut by a piece boundary is whole in the next
)

// standIn packs as many texts as fit into one export and says which field
// holds which text; it returns the texts left over.
func standIn(texts []Text) (*ingest.Export, map[string]Text, []Text) {
	e := &ingest.Export{
		Format: "collate.review/1",
		Review: ingest.Review{
			ID: "xlsx-screen", Board: "screen", Region: "screen", Nation: "screen", Kind: ingest.KindRoutine,
			Questions: []string{"screen"}, Completed: ingest.Completed{Year: 2000}, Agencies: []string{"screen"},
			Frame: ingest.FrameRef{ID: "screen", Version: "0"}, Coding: ingest.Coding{CoderRole: "screen", Method: "human"},
		},
	}
	where := map[string]Text{}
	var ep *ingest.Episode
	for len(texts) > 0 {
		pieces := split(texts[0].Value)
		if ep != nil && len(ep.Factors)+len(pieces) > standInFactors {
			ep = nil
		}
		if ep == nil {
			if len(e.Episodes) == standInEpisodes {
				break
			}
			e.Episodes = append(e.Episodes, ingest.Episode{Number: len(e.Episodes) + 1, Title: "screen", Description: "screen",
				Adequacy: ingest.AdequacyNotJudged, Factors: []ingest.ContributoryFactor{}})
			ep = &e.Episodes[len(e.Episodes)-1]
		}
		for _, p := range pieces {
			if len(ep.Factors) == standInFactors {
				// A text too long for one episode's factors (over 390,000
				// characters) is screened as far as it fits.
				break
			}
			where[fmt.Sprintf("/episodes/%d/factors/%d/detail", len(e.Episodes)-1, len(ep.Factors))] = texts[0]
			ep.Factors = append(ep.Factors, ingest.ContributoryFactor{Code: "screen", Detail: p, Influence: ingest.InfluenceGood})
		}
		texts = texts[1:]
	}
	return e, where, texts
}

// split cuts a text into overlapping pieces short enough for a detail field.
func split(s string) []string {
	r := []rune(s)
	if len(r) <= pieceRunes {
		return []string{s}
	}
	var out []string
	for start := 0; ; start += pieceRunes - pieceOverlap {
		end := min(start+pieceRunes, len(r))
		out = append(out, string(r[start:end]))
		if end == len(r) {
			return out
		}
	}
}
