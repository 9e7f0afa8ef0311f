package analytics

import (
	"fmt"
	"strings"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// A fixture is a hand-built review. Episodes are written "adequacy:CODE+influence,CODE+influence",
// with influence g (supported good) or p (made problematic more likely).
type fixture struct {
	id       string
	board    string
	year     int
	kind     string
	family   string
	stages   [3]string
	agencies []string
	episodes []string
	patterns []fxPattern
	recs     []fxRec
	frame    string // id@version; the default when empty
}

type fxPattern struct {
	typ, sub, proposed, nature string
	priority                   int // 0: none
	episodes                   []int
}

type fxRec struct {
	kind     int
	level    string
	patterns []int
}

var fixtureGeo = schemas.LoadGeography()

func (f fixture) export() *ingest.Export {
	p, ok := fixtureGeo.Board(f.board)
	if !ok {
		panic("fixture: unknown board " + f.board)
	}
	kind := f.kind
	if kind == "" {
		kind = ingest.KindStatutory
	}
	agencies := f.agencies
	if len(agencies) == 0 {
		agencies = []string{"Children's social care"}
	}
	fid, fver := schemas.DefaultFrameID, schemas.DefaultFrameVersion
	if f.frame != "" {
		fid, fver, _ = strings.Cut(f.frame, "@")
	}
	e := &ingest.Export{
		Format: schemas.ExportFormat,
		Review: ingest.Review{
			ID: f.id, Board: f.board, Region: p.Region, Nation: p.Nation, Kind: kind,
			Questions:           []string{"What happened?"},
			Completed:           ingest.Completed{Year: f.year},
			Agencies:            agencies,
			FamilyParticipation: f.family,
			Frame:               ingest.FrameRef{ID: fid, Version: fver},
			Coding:              ingest.Coding{CoderRole: "Lead reviewer", Method: "human"},
		},
	}
	if f.stages != [3]string{} {
		e.Review.DialogueStages = &ingest.DialogueStage{Preliminary: f.stages[0], Interim: f.stages[1], Final: f.stages[2]}
	}
	for i, s := range f.episodes {
		adequacy, codes, _ := strings.Cut(s, ":")
		ep := ingest.Episode{Number: i + 1, Title: fmt.Sprintf("Episode %d of %s", i+1, f.id),
			Description: fmt.Sprintf("What happened in episode %d of review %s.", i+1, f.id), Adequacy: adequacy}
		for _, c := range strings.Split(codes, ",") {
			if c == "" {
				continue
			}
			code, inf, _ := strings.Cut(c, "+")
			influence := ingest.InfluenceProblematic
			if inf == "g" {
				influence = ingest.InfluenceGood
			}
			ep.Factors = append(ep.Factors, ingest.ContributoryFactor{Code: code, Influence: influence})
		}
		e.Episodes = append(e.Episodes, ep)
	}
	for i, p := range f.patterns {
		pat := ingest.Pattern{Number: i + 1, Type: p.typ, SubPattern: p.sub, ProposedSubPattern: p.proposed,
			Nature: p.nature, Episodes: p.episodes}
		if pat.Nature == "" {
			pat.Nature = ingest.NatureUnsafe
		}
		if len(pat.Episodes) == 0 {
			pat.Episodes = []int{1}
		}
		if p.priority > 0 {
			pr := p.priority
			pat.Priority = &pr
		}
		e.Patterns = append(e.Patterns, pat)
	}
	for i, r := range f.recs {
		e.Recommendations = append(e.Recommendations, ingest.Recommendation{Number: i + 1, Kind: r.kind,
			Level: r.level, Text: fmt.Sprintf("Recommendation %d of %s.", i+1, f.id), Patterns: r.patterns})
	}
	return e
}

func exports(fs ...fixture) []*ingest.Export {
	out := make([]*ingest.Export, len(fs))
	for i, f := range fs {
		out[i] = f.export()
	}
	return out
}
