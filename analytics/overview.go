package analytics

import "context"

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
	p := s.planFor(sc)
	t, err := s.readTotals(ctx, sc, p)
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
