package ingest

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/schemas"
)

// The writer adds a batch's contributions to the aggregates from the exports
// it already holds in memory, rather than reading them back with SQL: the
// same figures as the fill statements in aggregates.go (which rebuild from
// the base tables), at a fraction of the cost. TestAggregatesMatchRebuild
// keeps the two in step.

// partKey is the columns every aggregate row starts with.
type partKey struct {
	board, region, nation string
	year                  int
	kind, frameID, frameV string
}

func partOf(rv Review) partKey {
	return partKey{rv.Board, rv.Region, rv.Nation, rv.Completed.Year, rv.Kind, rv.Frame.ID, rv.Frame.Version}
}

type nodeKey struct {
	partKey
	tree, code string
}

// nodeVals holds agg_nodes' sums after the key: reviews, episodes, mentions,
// then r1..r7, e1..e7, m1..m7. null7 marks factor rows, whose seventh split
// does not exist.
type nodeVals struct {
	reviews, episodes, mentions int64
	r, e, m                     [7]int64
	null7                       bool
}

type pairKey struct {
	partKey
	within string
	depth  int
	a, b   string
}

type flowKey struct {
	partKey
	factorType, patternType, nature string
}

type recKey struct {
	partKey
	recKind     int
	level       string
	patternType string
}

// contributions is what a batch of reviews adds to the aggregate tables.
type contributions struct {
	totals map[partKey]*[27]int64
	nodes  map[nodeKey]*nodeVals
	pairs  map[pairKey]*[2]int64
	flows  map[flowKey]*[2]int64
	recs   map[recKey]*[2]int64
}

func newContributions() *contributions {
	return &contributions{
		totals: map[partKey]*[27]int64{}, nodes: map[nodeKey]*nodeVals{},
		pairs: map[pairKey]*[2]int64{}, flows: map[flowKey]*[2]int64{}, recs: map[recKey]*[2]int64{},
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// triState splits a yes/no/not recorded answer into three counters.
func triState(s string) (yes, no, nr int64) {
	switch s {
	case Yes:
		return 1, 0, 0
	case No:
		return 0, 1, 0
	}
	return 0, 0, 1
}

var adequacyIndex = map[string]int{AdequacyGood: 0, AdequacyProblematic: 1, AdequacyMixed: 2, AdequacyNotJudged: 3}

// add adds one current review's contributions.
func (c *contributions) add(e *Export, f *schemas.Frame) {
	rv := e.Review
	pk := partOf(rv)

	// agg_totals
	t := c.totals[pk]
	if t == nil {
		t = new([27]int64)
		c.totals[pk] = t
	}
	var epByAdequacy [4]int64
	for _, ep := range e.Episodes {
		epByAdequacy[adequacyIndex[ep.Adequacy]]++
	}
	stages := DialogueStage{}
	if rv.DialogueStages != nil {
		stages = *rv.DialogueStages
	}
	fy, fn, fr := triState(rv.FamilyParticipation)
	py, pn, pr := triState(stages.Preliminary)
	iy, in, ir := triState(stages.Interim)
	ly, ln, lr := triState(stages.Final)
	vals := [27]int64{
		1, int64(len(e.Episodes)), epByAdequacy[0], epByAdequacy[1], epByAdequacy[2], epByAdequacy[3],
		b2i(epByAdequacy[0] > 0), b2i(epByAdequacy[1] > 0), b2i(epByAdequacy[2] > 0), b2i(epByAdequacy[3] > 0),
		fy, fn, fr, py, pn, pr, iy, in, ir, ly, ln, lr,
		b2i(py == 1 && iy == 1 && ly == 1),
		int64(len(e.Patterns)), b2i(len(e.Patterns) > 0), int64(len(e.Recommendations)), b2i(len(e.Recommendations) > 0),
	}
	for i, v := range vals {
		t[i] += v
	}

	c.addFactors(e, f, pk)
	c.addPatterns(e, f, pk)
	c.addRecs(e, pk)
}

func (c *contributions) addFactors(e *Export, f *schemas.Frame, pk partKey) {
	type epCode struct {
		episode int
		code    string
	}
	type epStat struct {
		adequacy             string
		mentions, good, prob int64
	}
	perEpisode := map[epCode]*epStat{}
	depthOf := map[string]int{}
	for _, ep := range e.Episodes {
		for _, fc := range ep.Factors {
			for _, a := range f.Ancestors(schemas.TreeFactor, fc.Code) {
				k := epCode{ep.Number, a}
				s := perEpisode[k]
				if s == nil {
					s = &epStat{adequacy: ep.Adequacy}
					perEpisode[k] = s
					if _, ok := depthOf[a]; !ok {
						n, _ := f.Lookup(schemas.TreeFactor, a)
						depthOf[a] = n.Depth
					}
				}
				s.mentions++
				if fc.Influence == InfluenceGood {
					s.good++
				}
				if fc.Influence == InfluenceProblematic {
					s.prob++
				}
			}
		}
	}
	perReview := map[string]*nodeVals{}
	codesByEpisode := map[int][]string{}
	for k, s := range perEpisode {
		v := perReview[k.code]
		if v == nil {
			v = &nodeVals{null7: true}
			perReview[k.code] = v
		}
		v.episodes++
		v.mentions += s.mentions
		if s.good > 0 {
			v.e[0]++
		}
		if s.prob > 0 {
			v.e[1]++
		}
		ai := adequacyIndex[s.adequacy]
		v.e[2+ai]++
		v.m[0] += s.good
		v.m[1] += s.prob
		v.m[2+ai] += s.mentions
		codesByEpisode[k.episode] = append(codesByEpisode[k.episode], k.code)
	}
	for code, v := range perReview {
		for i := range 6 {
			v.r[i] = b2i(v.e[i] > 0)
		}
		v.reviews = 1
		c.addNode(nodeKey{pk, schemas.TreeFactor, code}, v)
	}

	// Pairs within an episode at every depth, and within the review at depths 1 and 2.
	reviewCodes := map[string]bool{}
	episodePairs := map[pairKey]bool{}
	for _, codes := range codesByEpisode {
		sort.Strings(codes)
		for i, a := range codes {
			if depthOf[a] <= 2 {
				reviewCodes[a] = true
			}
			for _, b := range codes[i+1:] {
				if depthOf[a] == depthOf[b] {
					k := pairKey{pk, "episode", depthOf[a], a, b}
					c.addPair(k, 0, 1)
					episodePairs[k] = true
				}
			}
		}
	}
	for k := range episodePairs {
		c.pairs[k][0]++ // each review counts once per pair
	}
	var rc []string
	for code := range reviewCodes {
		rc = append(rc, code)
	}
	sort.Strings(rc)
	for i, a := range rc {
		for _, b := range rc[i+1:] {
			if depthOf[a] == depthOf[b] {
				c.addPair(pairKey{pk, "review", depthOf[a], a, b}, 1, 0)
			}
		}
	}

	// Flows: factor types (depth 2) meet pattern types in the episodes a pattern draws on.
	ftypes := map[int]map[string]bool{}
	for k := range perEpisode {
		if depthOf[k.code] == 2 {
			if ftypes[k.episode] == nil {
				ftypes[k.episode] = map[string]bool{}
			}
			ftypes[k.episode][k.code] = true
		}
	}
	type ptype struct {
		episode     int
		typ, nature string
	}
	ptypes := map[ptype]bool{}
	for _, p := range e.Patterns {
		for _, ep := range p.Episodes {
			ptypes[ptype{ep, p.Type, p.Nature}] = true
		}
	}
	type flow struct{ ft, pt, nature string }
	links := map[flow]int64{}
	for p := range ptypes {
		for ft := range ftypes[p.episode] {
			links[flow{ft, p.typ, p.nature}]++
		}
	}
	for l, n := range links {
		k := flowKey{pk, l.ft, l.pt, l.nature}
		v := c.flows[k]
		if v == nil {
			v = new([2]int64)
			c.flows[k] = v
		}
		v[0]++
		v[1] += n
	}
}

func (c *contributions) addPair(k pairKey, reviews, episodes int64) {
	v := c.pairs[k]
	if v == nil {
		v = new([2]int64)
		c.pairs[k] = v
	}
	v[0] += reviews
	v[1] += episodes
}

func (c *contributions) addNode(k nodeKey, v *nodeVals) {
	cur := c.nodes[k]
	if cur == nil {
		cp := *v
		c.nodes[k] = &cp
		return
	}
	cur.reviews += v.reviews
	cur.episodes += v.episodes
	cur.mentions += v.mentions
	for i := range 7 {
		cur.r[i] += v.r[i]
		cur.e[i] += v.e[i]
		cur.m[i] += v.m[i]
	}
}

func (c *contributions) addPatterns(e *Export, f *schemas.Frame, pk partKey) {
	type node struct {
		code     string
		nat, pri int
		episodes []int
	}
	var nodes []node
	for _, p := range e.Patterns {
		nat := 2
		if p.Nature == NatureConstructive {
			nat = 1
		}
		pri := 7
		switch {
		case p.Priority == nil:
		case *p.Priority >= 4:
			pri = 6
		default:
			pri = *p.Priority + 2
		}
		leaf := p.SubPattern
		if leaf == "" {
			leaf = p.Type
		}
		for _, a := range f.Ancestors(schemas.TreePattern, leaf) {
			nodes = append(nodes, node{a, nat, pri, p.Episodes})
		}
		if p.ProposedSubPattern != "" {
			nodes = append(nodes, node{p.Type + ".proposed", nat, pri, p.Episodes})
		}
	}
	type codeEp struct {
		code string
		ep   int
	}
	// per episode: n1, n2, p3..p7 as bits
	perEpisode := map[codeEp]uint8{}
	perReview := map[string]*nodeVals{}
	for _, n := range nodes {
		v := perReview[n.code]
		if v == nil {
			v = &nodeVals{}
			perReview[n.code] = v
		}
		v.mentions++
		v.m[n.nat-1]++
		v.m[n.pri-1]++
		bits := uint8(1)<<(n.nat-1) | uint8(1)<<(n.pri-1)
		for _, ep := range n.episodes {
			perEpisode[codeEp{n.code, ep}] |= bits
		}
	}
	for k, bits := range perEpisode {
		v := perReview[k.code]
		v.episodes++
		for i := range 7 {
			if bits&(1<<i) != 0 {
				v.e[i]++
			}
		}
	}
	for code, v := range perReview {
		v.reviews = 1
		for i := range 7 {
			v.r[i] = b2i(v.m[i] > 0)
		}
		c.addNode(nodeKey{pk, schemas.TreePattern, code}, v)
	}
}

func (c *contributions) addRecs(e *Export, pk partKey) {
	typeOf := map[int]string{}
	for _, p := range e.Patterns {
		typeOf[p.Number] = p.Type
	}
	type rk struct {
		kind       int
		level, typ string
	}
	counts := map[rk]int64{}
	// Margins too, as the fill statement's grouping sets: kind 0 is every
	// kind and level "" every level.
	count := func(kind int, level, typ string) {
		for _, k := range []rk{{kind, level, typ}, {kind, "", typ}, {0, level, typ}, {0, "", typ}} {
			counts[k]++
		}
	}
	for _, r := range e.Recommendations {
		count(r.Kind, r.Level, "")
		seen := map[string]bool{}
		for _, pn := range r.Patterns {
			if t, ok := typeOf[pn]; ok && !seen[t] {
				seen[t] = true
				count(r.Kind, r.Level, t)
			}
		}
	}
	for k, n := range counts {
		key := recKey{pk, k.kind, k.level, k.typ}
		v := c.recs[key]
		if v == nil {
			v = new([2]int64)
			c.recs[key] = v
		}
		v[0]++
		v[1] += n
	}
}

// appendContributions writes the contributions as extra aggregate rows.
func appendContributions(conn *sql.Conn, c *contributions) error {
	return conn.Raw(func(dc any) (err error) {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("not a duckdb connection")
		}
		apps := map[string]*duckdb.Appender{}
		defer func() {
			for t, a := range apps {
				if cerr := a.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("close appender %s: %w", t, cerr)
				}
			}
		}()
		for _, t := range aggTables {
			a, err := duckdb.NewAppenderFromConn(dconn, "", t)
			if err != nil {
				return fmt.Errorf("appender %s: %w", t, err)
			}
			apps[t] = a
		}
		key := func(p partKey) []driver.Value {
			return []driver.Value{p.board, p.region, p.nation, int32(p.year), p.kind, p.frameID, p.frameV}
		}
		for p, v := range c.totals {
			row := key(p)
			for _, x := range v {
				row = append(row, int32(x))
			}
			if err := apps["agg_totals"].AppendRow(row...); err != nil {
				return fmt.Errorf("agg_totals: %w", err)
			}
		}
		for k, v := range c.nodes {
			row := append(key(k.partKey), k.tree, k.code, int32(v.reviews), int32(v.episodes), int32(v.mentions))
			for _, arr := range [][7]int64{v.r, v.e, v.m} {
				for i, x := range arr {
					if i == 6 && v.null7 {
						row = append(row, nil)
						continue
					}
					row = append(row, int32(x))
				}
			}
			if err := apps["agg_nodes"].AppendRow(row...); err != nil {
				return fmt.Errorf("agg_nodes: %w", err)
			}
		}
		for k, v := range c.pairs {
			row := append(key(k.partKey), k.within, int32(k.depth), k.a, k.b, int32(v[0]), int32(v[1]))
			if err := apps["agg_pairs"].AppendRow(row...); err != nil {
				return fmt.Errorf("agg_pairs: %w", err)
			}
		}
		for k, v := range c.flows {
			row := append(key(k.partKey), k.factorType, k.patternType, k.nature, int32(v[0]), int32(v[1]))
			if err := apps["agg_flows"].AppendRow(row...); err != nil {
				return fmt.Errorf("agg_flows: %w", err)
			}
		}
		for k, v := range c.recs {
			row := append(key(k.partKey), int32(k.recKind), k.level, k.patternType, int32(v[0]), int32(v[1]))
			if err := apps["agg_recs"].AppendRow(row...); err != nil {
				return fmt.Errorf("agg_recs: %w", err)
			}
		}
		return nil
	})
}
