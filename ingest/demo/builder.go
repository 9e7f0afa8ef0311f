package demo

import (
	"math"
	"slices"
	"strings"

	"github.com/collate-project/collate/ingest"
)

// builder assembles one review from its random stream.
type builder struct {
	g       *Generator
	r       *rng
	place   place
	yearIdx int
	kind    string

	mother, father, child, child2 string
	agencyKeys                    []int // indexes into agencies, in order of first use
	sb                            strings.Builder

	// per episode: its adequacy and, per factor, factor index and influence class
	adequacies []string
	epFactors  [][]codedFactor
}

type codedFactor struct {
	factor int
	class  int // 0 supported good, 1 made problematic more likely
}

const (
	classGood = 0
	classProb = 1
)

var numberWords = []string{"two", "three", "four", "five", "six"}

// family chooses the pseudonyms: four consecutive letters from a random start.
func (b *builder) family() {
	base := b.r.intn(22)
	letter := func(k int) string { return string(rune('A' + base + k)) }
	b.mother = "Ms " + letter(0)
	b.father = "Mr " + letter(1)
	b.child = "Child " + letter(2)
	b.child2 = "Child " + letter(3)
}

// slots carries the values of the template slots for one piece of text.
type slots struct {
	role, agency, role2, agency2, topic string
}

// fill replaces the template's slots.
func (b *builder) fill(t string, s *slots) string {
	if strings.IndexByte(t, '{') < 0 {
		return t
	}
	sb := &b.sb
	sb.Reset()
	sb.Grow(len(t) + 48)
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			sb.WriteString(t)
			break
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			sb.WriteString(t)
			break
		}
		sb.WriteString(t[:i])
		name := t[i+1 : i+j]
		t = t[i+j+1:]
		upper := name != "" && name[0] >= 'A' && name[0] <= 'Z'
		var v string
		switch strings.ToLower(name) {
		case "mother":
			v = b.mother
		case "father":
			v = b.father
		case "child":
			v = b.child
		case "child2":
			v = b.child2
		case "role":
			v = lowerFirst(s.role)
		case "agency":
			v = lowerFirst(s.agency)
		case "role2":
			v = lowerFirst(s.role2)
		case "agency2":
			v = lowerFirst(s.agency2)
		case "topic":
			v = s.topic
		case "n":
			v = pick(b.r, numberWords)
		case "body":
			v = bodies[b.place.nation]
		case "national":
			v = nationals[b.place.nation]
		default:
			v = "{" + name + "}"
		}
		if upper {
			v = upperFirst(v)
		}
		sb.WriteString(v)
	}
	return sb.String()
}

// lowerFirst lower-cases the first letter of ordinary phrases ("Children's
// social care") but leaves proper names ("Families First") alone.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	for k := 1; k < len(s); k++ {
		if s[k] >= 'A' && s[k] <= 'Z' {
			return s
		}
	}
	return string(s[0]+'a'-'A') + s[1:]
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func agencyIndex(key string) int {
	for i, a := range agencies {
		if a.key == key {
			return i
		}
	}
	panic("demo: unknown agency " + key)
}

// useAgency records that the review involves an agency and returns its name.
func (b *builder) useAgency(k int) string {
	if !slices.Contains(b.agencyKeys, k) {
		b.agencyKeys = append(b.agencyKeys, k)
	}
	return agencies[k].names[b.place.nation]
}

func (b *builder) frontRole(k int) string {
	a := agencies[k]
	n := a.front
	if n == 0 {
		n = len(a.roles)
	}
	return a.roles[b.r.intn(n)]
}

// adequacyShares are the chances of good, problematic and mixed practice by
// kind; the rest is not judged.
var adequacyShares = map[string][3]float64{
	ingest.KindStatutory:  {0.25, 0.50, 0.15},
	ingest.KindRoutine:    {0.35, 0.40, 0.15},
	ingest.KindInnovation: {0.45, 0.30, 0.15},
	ingest.KindPositive:   {0.65, 0.15, 0.15},
}

func (b *builder) adequacy() string {
	s := adequacyShares[b.kind]
	x := b.r.float()
	switch {
	case x < s[0]:
		return ingest.AdequacyGood
	case x < s[0]+s[1]:
		return ingest.AdequacyProblematic
	case x < s[0]+s[1]+s[2]:
		return ingest.AdequacyMixed
	}
	return ingest.AdequacyNotJudged
}

func (b *builder) episodes(e *ingest.Export) {
	n := b.r.between(10, 30)
	// Scenarios without replacement while they last.
	order := make([]int, len(scenarios))
	for i := range order {
		order[i] = i
	}
	adequacies := make([]string, n)
	for i := range adequacies {
		adequacies[i] = b.adequacy()
	}
	// Every review has some good and some problematic practice to draw
	// patterns from: if one is missing, an episode of another judgement
	// becomes it.
	for _, want := range []string{ingest.AdequacyGood, ingest.AdequacyProblematic} {
		if slices.Contains(adequacies, want) {
			continue
		}
		k := b.r.intn(n)
		if want == ingest.AdequacyProblematic {
			// Keep the good episodes: take the next one that is not good; if
			// every one is good, any will do.
			for j := 0; j < n && adequacies[k] == ingest.AdequacyGood; j++ {
				k = (k + 1) % n
			}
		}
		adequacies[k] = want
	}
	b.adequacies = adequacies
	table := b.yearIdx
	tbl := func(class int) []float64 {
		return b.g.tables[((b.place.region*b.g.years)+table)*2+class]
	}
	e.Episodes = make([]ingest.Episode, n)
	b.epFactors = make([][]codedFactor, n)
	for i := 0; i < n; i++ {
		var sc scenario
		if i < len(order) {
			j := i + b.r.intn(len(order)-i)
			order[i], order[j] = order[j], order[i]
			sc = scenarios[order[i]]
		} else {
			sc = scenarios[b.r.intn(len(scenarios))]
		}
		ag := agencyIndex(sc.agency)
		s := slots{agency: b.useAgency(ag), role: b.frontRole(ag)}
		epAgencies := []string{s.agency}
		if sc.agency2 != "" {
			ag2 := agencyIndex(sc.agency2)
			s.agency2 = b.useAgency(ag2)
			s.role2 = b.frontRole(ag2)
			if s.agency2 != s.agency {
				epAgencies = append(epAgencies, s.agency2)
			}
		}
		ep := ingest.Episode{Number: i + 1, Title: sc.title, Adequacy: adequacies[i], Agencies: epAgencies}
		switch ep.Adequacy {
		case ingest.AdequacyGood:
			ep.Description = b.fill(sc.good, &s)
			ep.Significance = b.fill(sc.sigGood, &s)
		case ingest.AdequacyProblematic:
			ep.Description = b.fill(sc.problematic, &s)
			ep.Significance = b.fill(sc.sigProblematic, &s)
		case ingest.AdequacyMixed:
			ep.Description = b.fill(sc.good, &s) + " " + b.fill(pick(b.r, mixedTails), &s)
			ep.Significance = b.fill(sc.sigProblematic, &s)
		default:
			ep.Description = b.fill(sc.problematic, &s)
			ep.Significance = pick(b.r, notJudgedSignificance)
		}
		if b.r.chance(0.08) {
			ep.Significance = ""
		}
		ep.Evidence = b.evidence(&s)

		// Factors.
		k := b.r.between(2, 8)
		coded := make([]codedFactor, 0, 8)
		has := func(f int) bool {
			for _, c := range coded {
				if c.factor == f {
					return true
				}
			}
			return false
		}
		for tries := 0; len(coded) < k && tries < 64; tries++ {
			class := classProb
			switch ep.Adequacy {
			case ingest.AdequacyGood:
				class = classGood
			case ingest.AdequacyMixed:
				if b.r.chance(0.5) {
					class = classGood
				}
			case ingest.AdequacyNotJudged:
				if b.r.chance(0.3) {
					class = classGood
				}
			}
			f := b.r.weighted(tbl(class))
			if has(f) {
				continue
			}
			coded = append(coded, codedFactor{f, class})
			if p := b.g.factors[f].partner; p >= 0 && len(coded) < 8 && !has(p) && b.r.chance(pairProbability) {
				coded = append(coded, codedFactor{p, class})
			}
		}
		ep.Factors = make([]ingest.ContributoryFactor, len(coded))
		for j, c := range coded {
			f := b.g.factors[c.factor]
			cf := ingest.ContributoryFactor{Code: f.code, Influence: ingest.InfluenceProblematic}
			if c.class == classGood {
				cf.Influence = ingest.InfluenceGood
			}
			if !b.r.chance(0.1) {
				cf.Detail = b.fill(pick(b.r, f.detail[c.class]), &s)
			}
			ep.Factors[j] = cf
		}
		b.epFactors[i] = coded
		e.Episodes[i] = ep
	}
}

func (b *builder) evidence(s *slots) []ingest.Evidence {
	if b.r.chance(0.1) {
		return nil
	}
	out := []ingest.Evidence{{Kind: "document", Note: pick(b.r, evidenceDocuments)}}
	if b.r.chance(0.8) {
		out = append(out, ingest.Evidence{Kind: "conversation", Note: upperFirst(lowerFirst(s.role))})
	}
	if b.r.chance(0.25) {
		out = append(out, ingest.Evidence{Kind: "group_meeting"})
	}
	return out
}

func (b *builder) patterns(e *ingest.Export) {
	g := b.g
	if len(g.subPatterns) == 0 || len(g.types) == 0 {
		return
	}
	n := b.r.between(5, 15)
	used := make([]bool, len(g.subPatterns))
	var proposedUsed []string
	pc := constructiveShare[b.kind]
	var out []ingest.Pattern

	if g.p61 >= 0 {
		share := p61Share
		if b.kind == ingest.KindPositive {
			share = p61SharePositive
		}
		if b.r.chance(share) {
			used[g.p61] = true
			out = append(out, b.pattern(e, g.subPatterns[g.p61], false))
		}
	}
	for tries := 0; len(out) < n && tries < 200; tries++ {
		if b.r.chance(proposedShare) {
			t := g.types[b.r.intn(len(g.types))]
			texts := proposedSubPatterns[t.Code]
			if len(texts) == 0 {
				texts = []string{"A new " + lowerFirst(t.Label) + " pattern seen in this case"}
			}
			text := pick(b.r, texts)
			if slices.Contains(proposedUsed, text) {
				continue
			}
			proposedUsed = append(proposedUsed, text)
			constructive := b.r.chance(pc) && b.hasAdequacy(true)
			p := ingest.Pattern{Type: t.Code, ProposedSubPattern: text, Nature: nature(constructive)}
			p.Episodes = b.linkEpisodes(nil, constructive)
			if b.r.chance(0.85) {
				if constructive {
					p.Summary = text + ": seen in this case as a strength worth protecting."
				} else {
					p.Summary = text + ": seen in this case and judged likely to recur elsewhere."
				}
			}
			out = append(out, p)
			continue
		}
		k := b.r.weighted(g.subCum)
		if used[k] {
			continue
		}
		used[k] = true
		pn := g.subPatterns[k]
		constructive := pn.info.constructive && b.r.chance(pc) && b.hasAdequacy(true)
		out = append(out, b.pattern(e, pn, constructive))
	}
	// The planted lesson usually ranks among the top three.
	if len(out) > 1 && out[0].SubPattern == p61Code {
		k := b.r.intn(3)
		out[0], out[k] = out[k], out[0]
	}
	withPriority := b.r.chance(0.9)
	for i := range out {
		out[i].Number = i + 1
		if withPriority {
			p := i + 1
			out[i].Priority = &p
		}
		out[i].Widespread = b.widespread(out[i].SubPattern == p61Code)
		out[i].Relevance = pickWeighted(b.r, relevances)
	}
	e.Patterns = out
}

func nature(constructive bool) string {
	if constructive {
		return ingest.NatureConstructive
	}
	return ingest.NatureUnsafe
}

func (b *builder) pattern(e *ingest.Export, pn patternNode, constructive bool) ingest.Pattern {
	p := ingest.Pattern{Type: pn.typ, Nature: nature(constructive)}
	if pn.node.Code != pn.typ {
		p.SubPattern = pn.node.Code
	}
	p.Episodes = b.linkEpisodes(pn.factors, constructive)
	if b.r.chance(0.85) {
		if constructive {
			p.Summary = pn.info.positive
		} else {
			p.Summary = pn.info.unsafe
		}
	}
	return p
}

// hasAdequacy reports whether some episode can support a pattern of the nature.
func (b *builder) hasAdequacy(constructive bool) bool {
	for i := range b.adequacies {
		if b.fits(i, constructive) {
			return true
		}
	}
	return false
}

// fits reports whether episode i (from 0) can support a pattern of the nature:
// good or mixed practice for constructive patterns, problematic or mixed for
// unsafe ones.
func (b *builder) fits(i int, constructive bool) bool {
	switch b.adequacies[i] {
	case ingest.AdequacyMixed:
		return true
	case ingest.AdequacyGood:
		return constructive
	case ingest.AdequacyProblematic:
		return !constructive
	}
	return false
}

// linkEpisodes chooses the episodes a pattern draws on: episodes whose
// adequacy fits its nature, preferring those coded with the pattern's typical
// factors with the matching influence.
func (b *builder) linkEpisodes(factors []int, constructive bool) []int {
	want := classProb
	if constructive {
		want = classGood
	}
	var fits, typical []int
	for i, coded := range b.epFactors {
		if !b.fits(i, constructive) {
			continue
		}
		fits = append(fits, i+1)
		for _, c := range coded {
			if c.class == want && slices.Contains(factors, c.factor) {
				typical = append(typical, i+1)
				break
			}
		}
	}
	n := b.r.between(1, 4)
	var out []int
	for len(out) < n && len(typical) > 0 {
		k := b.r.intn(len(typical))
		out = append(out, typical[k])
		typical = slices.Delete(typical, k, k+1)
	}
	for tries := 0; len(out) < n && len(fits) > 0 && tries < 8; tries++ {
		ep := fits[b.r.intn(len(fits))]
		if !slices.Contains(out, ep) {
			out = append(out, ep)
		}
	}
	if len(out) == 0 {
		out = append(out, 1+b.r.intn(len(b.epFactors)))
	}
	slices.Sort(out)
	return out
}

type weightedString struct {
	s string
	w float64
}

func pickWeighted(r *rng, xs []weightedString) string {
	var t float64
	for _, x := range xs {
		t += x.w
	}
	v := r.float() * t
	for _, x := range xs {
		if v < x.w {
			return x.s
		}
		v -= x.w
	}
	return xs[len(xs)-1].s
}

var (
	widespreads  = []weightedString{{"this_case", 0.15}, {"local", 0.35}, {"regional", 0.2}, {"national", 0.2}, {"not_recorded", 0.1}}
	lessonSpread = []weightedString{{"local", 0.2}, {"regional", 0.3}, {"national", 0.45}, {"not_recorded", 0.05}}
	relevances   = []weightedString{{"high", 0.5}, {"medium", 0.3}, {"low", 0.1}, {"not_recorded", 0.1}}
	recKinds     = []weightedString{{"1", 0.45}, {"2", 0.35}, {"3", 0.2}}
	levelsByKind = [4][]weightedString{
		1: {{"local", 0.85}, {"regional", 0.15}},
		2: {{"local", 0.5}, {"regional", 0.4}, {"national", 0.1}},
		3: {{"local", 0.05}, {"regional", 0.25}, {"national", 0.7}},
	}
	generalTopics = []string{"multi-agency information sharing", "hearing the voice of the child", "the quality of assessments", "escalation of professional concerns", "work with fathers and male carers"}
)

func (b *builder) widespread(lesson bool) string {
	if lesson {
		return pickWeighted(b.r, lessonSpread)
	}
	return pickWeighted(b.r, widespreads)
}

func (b *builder) recommendations(e *ingest.Export) {
	n := b.r.between(5, 20)
	e.Recommendations = make([]ingest.Recommendation, n)
	var unsafe, constructive []int
	for _, p := range e.Patterns {
		if p.Nature == ingest.NatureConstructive {
			constructive = append(constructive, p.Number)
		} else {
			unsafe = append(unsafe, p.Number)
		}
	}
	for i := range e.Recommendations {
		kind := int(pickWeighted(b.r, recKinds)[0] - '0')
		rec := ingest.Recommendation{Number: i + 1, Kind: kind, Level: pickWeighted(b.r, levelsByKind[kind])}
		s := slots{topic: pick(b.r, generalTopics)}
		texts := recommendationTexts[kind]
		if len(e.Patterns) > 0 && b.r.chance(0.92) {
			pool := unsafe
			if len(constructive) > 0 && (len(unsafe) == 0 || b.r.chance(0.15)) {
				pool = constructive
				texts = recommendationConstructive[kind]
			}
			first := pick(b.r, pool)
			rec.Patterns = []int{first}
			if len(pool) > 1 && b.r.chance(0.25) {
				second := pick(b.r, pool)
				if second != first {
					rec.Patterns = append(rec.Patterns, second)
					slices.Sort(rec.Patterns)
				}
			}
			s.topic = b.topic(e.Patterns[first-1])
		}
		rec.Text = b.fill(pick(b.r, texts), &s)
		e.Recommendations[i] = rec
	}
}

func (b *builder) topic(p ingest.Pattern) string {
	if p.SubPattern != "" {
		for _, pn := range b.g.subPatterns {
			if pn.node.Code == p.SubPattern {
				return pn.info.topic
			}
		}
	}
	if t, ok := typeTopics[p.Type]; ok {
		return t
	}
	return pick(b.r, generalTopics)
}

var codingMethods = []weightedString{{"human", 0.75}, {"machine_assisted", 0.25}}
var tristates = []weightedString{{"yes", 0.55}, {"no", 0.3}, {"not_recorded", 0.15}}

func (b *builder) review(e *ingest.Export, i, year int) {
	p := b.place
	rv := ingest.Review{
		ID:     reviewID(p.Board, year, b.kind, i),
		Board:  p.Board,
		Region: p.Region,
		Nation: p.Nation,
		Kind:   b.kind,
		Frame:  ingest.FrameRef{ID: b.g.frame.ID, Version: b.g.frame.Version},
	}
	qs := questions[b.kind]
	nq := b.r.between(1, 3)
	start := b.r.intn(len(qs))
	for k := 0; k < nq && k < len(qs); k++ {
		rv.Questions = append(rv.Questions, b.fill(qs[(start+k)%len(qs)], &slots{}))
	}
	rv.Completed.Year = year
	if b.r.chance(0.85) {
		m := b.r.between(1, 12)
		rv.Completed.Month = &m
	}
	// A few agencies contributed without featuring in an episode.
	for extra := b.r.intn(3); extra > 0; extra-- {
		b.useAgency(b.r.intn(len(agencies)))
	}
	for _, k := range b.agencyKeys {
		name := agencies[k].names[p.nation]
		rv.Agencies = append(rv.Agencies, name)
		if b.r.chance(0.85) {
			for c := b.r.between(1, 2); c > 0; c-- {
				rv.Participants = append(rv.Participants, ingest.Participant{Role: pick(b.r, agencies[k].roles), Agency: name})
			}
		}
	}
	if b.kind == ingest.KindPositive {
		rv.FamilyParticipation = pickWeighted(b.r, []weightedString{{"yes", 0.8}, {"no", 0.1}, {"not_recorded", 0.1}})
	} else {
		rv.FamilyParticipation = pickWeighted(b.r, tristates)
	}
	if b.r.chance(0.9) {
		rv.DialogueStages = &ingest.DialogueStage{
			Preliminary: pickWeighted(b.r, []weightedString{{"yes", 0.85}, {"no", 0.05}, {"not_recorded", 0.1}}),
			Interim:     pickWeighted(b.r, []weightedString{{"yes", 0.7}, {"no", 0.15}, {"not_recorded", 0.15}}),
			Final:       pickWeighted(b.r, []weightedString{{"yes", 0.6}, {"no", 0.2}, {"not_recorded", 0.2}}),
		}
	}
	rv.Coding = ingest.Coding{CoderRole: pick(b.r, coderRoles), Method: pickWeighted(b.r, codingMethods)}
	if b.r.chance(0.4) {
		if b.r.chance(0.6) {
			rv.Coding.SecondCoderAgreement = &ingest.Agreement{Measure: "cohens_kappa", Value: round2(0.55 + 0.4*b.r.float())}
		} else {
			rv.Coding.SecondCoderAgreement = &ingest.Agreement{Measure: "percent_agreement", Value: math.Round(70 + 28*b.r.float())}
		}
	}
	e.Review = rv
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
