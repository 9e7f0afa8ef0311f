package analytics

import (
	"context"
	"slices"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

func (s *Store) overview(ctx context.Context, v Viewer, sel Selection) (*Overview, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	sc.needAdequacy = true
	var t *protected
	if sc.byAgency() {
		// Only the collection's own figures are shown: read them alone.
		t, _, err = s.readOwn(ctx, sc, ownRead{overview: true})
	} else {
		t, err = s.readTotals(ctx, sc, s.planFor(sc))
	}
	if err != nil {
		return nil, err
	}
	totals, coded, codedSup := s.totalsOf(sc, t)
	out := &Overview{Provenance: sc.prov, Collection: sc.coll, Totals: totals}
	good, goodSup := s.collect(sc, t, tGood, vEpGood)
	prob, probSup := s.collect(sc, t, tProblematic, vEpProblematic)
	mixed, mixedSup := s.collect(sc, t, tMixed, vEpMixed)
	nj, njSup := s.collect(sc, t, tNotJudged, vEpNotJudged)
	out.GoodEpisodes, out.ProblematicEpisodes = count(good, goodSup), count(prob, probSup)
	out.MixedEpisodes, out.NotJudgedEpisodes = count(mixed, mixedSup), count(nj, njSup)
	judged := good + prob
	out.GoodShare, _ = shareOf(good, judged, goodSup || probSup)
	out.ProblematicShare, _ = shareOf(prob, judged, goodSup || probSup)
	fam, famSup := s.collect(sc, t, tFamilyYes, vFamilyYes)
	out.FamilyInvolved = count(fam, famSup)
	out.FamilyShare, out.FamilyInterval = shareOf(fam, coded, famSup || codedSup)
	pats, patSup := s.collect(sc, t, tPatterns, vPatterns)
	recs, recSup := s.collect(sc, t, tRecs, vRecs)
	out.Patterns, out.Recommendations = count(pats, patSup), count(recs, recSup)
	return out, nil
}

func (s *Store) process(ctx context.Context, v Viewer, sel Selection) (*Process, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	// A narrowed collection is seen only in full, so it is read alone.
	var t *protected
	switch {
	case sc.byAgency():
		t, err = s.processAlone(ctx, sc)
	case sc.alone():
		t, err = s.totalsAlone(ctx, sc)
	default:
		t, err = s.readTotals(ctx, sc, s.planFor(sc))
	}
	if err != nil {
		return nil, err
	}
	_, coded, codedSup := s.totalsOf(sc, t)
	out := &Process{Provenance: sc.prov, Collection: sc.coll, Reviews: count(coded, codedSup)}
	cat := func(value string, m, col int) Category {
		n, sup := s.collect(sc, t, m, col)
		sh, iv := shareOf(n, coded, sup || codedSup)
		return Category{Value: value, Reviews: count(n, sup), Share: sh, Interval: iv}
	}
	for i, k := range kindsOrder {
		out.Kinds = append(out.Kinds, cat(k, tStatutory+i, vStatutory+i))
	}
	answers := []string{"yes", "no", "not_recorded"}
	for i, a := range answers {
		out.Family = append(out.Family, cat(a, tFamilyYes+i, vFamilyYes+i))
	}
	for st, name := range []string{"preliminary", "interim", "final"} {
		row := StageRow{Stage: name}
		for i, a := range answers {
			row.Values = append(row.Values, cat(a, tPrelimYes+3*st+i, vPrelimYes+3*st+i))
		}
		out.Stages = append(out.Stages, row)
	}
	out.AllStages = cat("all_three", tAllStages, vAllStages)
	return out, nil
}

// processAlone reads the totals a process view shows for a collection
// narrowed by agency, as one place, in one statement over its reviews: the
// reviews by kind, whether coded with the scope's frame, family involvement
// and each dialogue stage, counted as groups (as naive SQL would ask) and
// laid out here as the v* columns. Patterns, recommendations and episodes
// by adequacy, which process does not show, are left 0.
func (s *Store) processAlone(ctx context.Context, sc *scope) (*protected, error) {
	cte, args := sc.baseReviews(s.geo, false)
	stmt := `WITH r AS (` + cte + `)
	SELECT 't' AS part, concat_ws('|', kind, (frame_id = ? AND frame_version = ?)::INT, coalesce(family_participation, ''),
	       coalesce(stage_preliminary, ''), coalesce(stage_interim, ''), coalesce(stage_final, '')) AS key, 0 AS year,
	       [count(*), sum(n_episodes)]::BIGINT[] AS vals
	FROM r GROUP BY ALL`
	got, err := s.ownRows(ctx, sc, stmt, append(args, sc.frame.info.ID, sc.frame.info.Version))
	if err != nil {
		return nil, err
	}
	c := newCube(vTotals, 1, 1)
	v := c.cell("", 0)
	answer := func(a string) int { // yes, no, not recorded
		switch a {
		case "yes":
			return 0
		case "no":
			return 1
		}
		return 2
	}
	for _, r := range got {
		f := strings.Split(r.key, "|")
		if len(f) != 6 || len(r.vals) != 2 {
			return nil, errs.E(errs.Internal, "read the collection's reviews: process row %q", r.key)
		}
		n := r.vals[0]
		v[vReceived] += n
		if f[1] != "1" {
			continue
		}
		v[vCoded] += n
		v[vEpisodes] += r.vals[1]
		if k := slices.Index(kindsOrder, f[0]); k >= 0 {
			v[vStatutory+k] += n
		}
		v[vFamilyYes+answer(f[2])] += n
		for st := range 3 {
			v[vPrelimYes+3*st+answer(f[3+st])] += n
		}
		if f[3] == "yes" && f[4] == "yes" && f[5] == "yes" {
			v[vAllStages] += n
		}
	}
	return &protected{ms: &measureSet{c: c, fam: totalsFamily, rv: totalsReviews, own: true}}, nil
}
