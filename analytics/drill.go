package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// Drill-down shows the episodes and reviews behind a figure. A list of
// episodes with their boards reveals every count behind it, suppressed or not,
// so only a viewer who sees the whole collection in full detail may drill
// down: an admin, a researcher granted unsuppressed figures anywhere, a
// regional analyst inside their region, a board member inside their board.

const (
	defaultPerPage = 20
	maxPerPage     = 100
	excerptRunes   = 280
)

func (sc *scope) requireFull(what string) error {
	if sc.full || sc.v.Role == RoleAdmin {
		return nil
	}
	switch sc.v.Role {
	case RolePublic:
		return errs.E(errs.Forbidden, "%s is not available to the public", what)
	case RoleNationalResearcher:
		return errs.E(errs.Forbidden, "%s needs a grant of unsuppressed figures", what)
	}
	return errs.E(errs.Forbidden, "%s is only available inside your own scope; choose a collection within it", what)
}

// reviewScope is the WHERE clause selecting the collection's current reviews.
func (s *Store) reviewScope(sc *scope, alias string) (string, []any) {
	a := alias + "."
	w := []string{a + "status = 'current'", a + "year BETWEEN ? AND ?", a + "frame_id = ?", a + "frame_version = ?"}
	args := []any{sc.from, sc.to, sc.frame.info.ID, sc.frame.info.Version}
	if sc.custom != nil {
		boards := make([]string, len(sc.boards))
		for i, b := range sc.boards {
			boards[i] = s.geo.nodes[b].code
		}
		w = append(w, "list_contains(?::VARCHAR[], "+a+"board)")
		args = append(args, boards)
		if len(sc.custom.Kinds) > 0 {
			w = append(w, "list_contains(?::VARCHAR[], "+a+"kind)")
			args = append(args, sc.custom.Kinds)
		}
		if len(sc.custom.Agencies) > 0 {
			w = append(w, "list_has_any("+a+"agencies, ?::VARCHAR[])")
			args = append(args, sc.custom.Agencies)
		}
	} else if sc.place != 0 {
		n := &s.geo.nodes[sc.place]
		switch n.level {
		case LevelNation:
			w = append(w, a+"nation = ?")
		case LevelRegion:
			w = append(w, a+"region = ?")
		case LevelBoard:
			w = append(w, a+"board = ?")
		}
		args = append(args, n.code)
	}
	return strings.Join(w, " AND "), args
}

func pageOf(page, perPage int) (int, int, error) {
	return pageUpTo(page, perPage, maxPerPage)
}

// pageUpTo checks a page and page size against the most rows a page may hold.
func pageUpTo(page, perPage, most int) (int, int, error) {
	if page == 0 {
		page = 1
	}
	if perPage == 0 {
		perPage = defaultPerPage
	}
	if page < 1 || perPage < 1 || perPage > most {
		return 0, 0, errs.E(errs.Invalid, "page %d of %d per page: pages start at 1 and hold 1 to %d", page, perPage, most)
	}
	return page, perPage, nil
}

// descendants lists a node and every node under it.
func descendants(f *frameData, tree, code string) []string {
	out := []string{code}
	for _, n := range f.nodes(tree) {
		for p := n.Parent; p != ""; {
			if p == code {
				out = append(out, n.Code)
				break
			}
			pn, ok := f.node(tree, p)
			if !ok {
				break
			}
			p = pn.Parent
		}
	}
	return out
}

// Episodes are listed most recently stored first (by review key, then
// episode number). That order lets each page be read from a narrow range of
// keys, which DuckDB's zone maps find without scanning the whole table.
func (s *Store) episodes(ctx context.Context, v Viewer, sel Selection, q EpisodeQuery) (*EpisodePage, error) {
	return s.episodesUpTo(ctx, v, sel, q, maxPerPage)
}

// episodesUpTo lists a page of up to most episodes (more for a download than
// for a page).
func (s *Store) episodesUpTo(ctx context.Context, v Viewer, sel Selection, q EpisodeQuery, most int) (*EpisodePage, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	if err := sc.requireFull("drill-down to episodes"); err != nil {
		return nil, err
	}
	page, perPage, err := pageUpTo(q.Page, q.PerPage, most)
	if err != nil {
		return nil, err
	}
	tree, err := treeName(q.Tree)
	if err != nil {
		return nil, err
	}
	// sel_ selects (review_key, episode_no) of the episodes behind the figure,
	// among the reviews of CTE r; its ? are selArgs.
	var sel_ string
	var selArgs []any
	// countCol is the agg_nodes episode column (and review column) holding
	// the number of episodes listed, when the aggregates can answer.
	countE, countR := "episodes", "reviews"
	switch {
	case q.Code == "":
		if q.Dim != "" || q.With != "" {
			return nil, errs.E(errs.Invalid, "a split or a second factor needs a code")
		}
		sel_ = `SELECT e.review_key, e.episode_no FROM episodes e JOIN r ON r.review_key = e.review_key
			WHERE e.review_key BETWEEN ? AND ?`
	case tree == TreeFactor:
		if _, ok := sc.frame.node(TreeFactor, q.Code); !ok {
			return nil, errs.E(errs.NotFound, "factor %q is not in frame %s", q.Code, sc.frame.info.Key())
		}
		cond := ""
		switch q.Dim {
		case "":
		case "influence":
			if q.Value != ingest.InfluenceGood && q.Value != ingest.InfluenceProblematic {
				return nil, errs.E(errs.Invalid, "influence %q: give %s or %s", q.Value, ingest.InfluenceGood, ingest.InfluenceProblematic)
			}
			cond = " AND f.influence = ?"
			selArgs = append(selArgs, q.Value)
			if q.Value == ingest.InfluenceGood {
				countE, countR = "e1", "r1"
			} else {
				countE, countR = "e2", "r2"
			}
		case "adequacy":
			if q.Adequacy != "" && q.Adequacy != q.Value {
				return nil, errs.E(errs.Invalid, "adequacy given twice: %s and %s", q.Value, q.Adequacy)
			}
			q.Adequacy = q.Value
		default:
			return nil, errs.E(errs.Invalid, "split %q: factors split by influence or adequacy", q.Dim)
		}
		sel_ = `SELECT DISTINCT f.review_key, f.episode_no FROM episode_factors f JOIN r ON r.review_key = f.review_key
			WHERE f.review_key BETWEEN ? AND ? AND list_contains(?::VARCHAR[], f.code)` + cond
		selArgs = append([]any{descendants(sc.frame, TreeFactor, q.Code)}, selArgs...)
		if q.With != "" {
			if _, ok := sc.frame.node(TreeFactor, q.With); !ok {
				return nil, errs.E(errs.NotFound, "factor %q is not in frame %s", q.With, sc.frame.info.Key())
			}
			sel_ = `SELECT * FROM (` + sel_ + `) x WHERE EXISTS (SELECT 1 FROM episode_factors g
				WHERE g.review_key = x.review_key AND g.episode_no = x.episode_no AND list_contains(?::VARCHAR[], g.code))`
			selArgs = append(selArgs, descendants(sc.frame, TreeFactor, q.With))
			countE = ""
		}
	default:
		if _, ok := sc.frame.node(TreePattern, q.Code); !ok {
			return nil, errs.E(errs.NotFound, "pattern %q is not in frame %s", q.Code, sc.frame.info.Key())
		}
		cond := ""
		switch q.Dim {
		case "":
		case "nature":
			switch q.Value {
			case ingest.NatureConstructive:
				countE, countR = "e1", "r1"
			case ingest.NatureUnsafe:
				countE, countR = "e2", "r2"
			default:
				return nil, errs.E(errs.Invalid, "nature %q: give constructive or unsafe", q.Value)
			}
			cond = " AND p.nature = ?"
			selArgs = append(selArgs, q.Value)
		case "priority":
			switch q.Value {
			case "1", "2", "3":
				cond = " AND p.priority = ?"
				n, _ := strconv.Atoi(q.Value)
				selArgs = append(selArgs, n)
				countE, countR = "e"+strconv.Itoa(n+2), "r"+strconv.Itoa(n+2)
			case "4+":
				cond = " AND p.priority >= 4"
				countE, countR = "e6", "r6"
			case "none":
				cond = " AND p.priority IS NULL"
				countE, countR = "e7", "r7"
			default:
				return nil, errs.E(errs.Invalid, "priority %q: give 1, 2, 3, 4+ or none", q.Value)
			}
		default:
			return nil, errs.E(errs.Invalid, "split %q: patterns split by nature or priority", q.Dim)
		}
		match := `list_contains(?::VARCHAR[], coalesce(p.sub_code, p.type_code))`
		margs := []any{descendants(sc.frame, TreePattern, q.Code)}
		if typ, ok := strings.CutSuffix(q.Code, ProposedSuffix); ok {
			match = `(p.proposed IS NOT NULL AND p.type_code = ?)`
			margs = []any{typ}
		}
		sel_ = `SELECT DISTINCT p.review_key, unnest(p.episodes) AS episode_no FROM patterns p JOIN r ON r.review_key = p.review_key
			WHERE p.review_key BETWEEN ? AND ? AND ` + match + cond
		selArgs = append(margs, selArgs...)
	}
	filter := ""
	var fargs []any
	if q.Adequacy != "" {
		switch q.Adequacy {
		case ingest.AdequacyGood, ingest.AdequacyProblematic, ingest.AdequacyMixed, ingest.AdequacyNotJudged:
		default:
			return nil, errs.E(errs.Invalid, "adequacy %q: give good, problematic, mixed or not_judged", q.Adequacy)
		}
		filter += " AND e.adequacy = ?"
		fargs = append(fargs, q.Adequacy)
		if tree == TreeFactor && q.Dim != "influence" && countE != "" {
			i := slices.Index([]string{"good", "problematic", "mixed", "not_judged"}, q.Adequacy)
			countE, countR = "e"+strconv.Itoa(i+3), "r"+strconv.Itoa(i+3)
		} else {
			countE = ""
		}
	}
	words, err := searchWords(q.Text)
	if err != nil {
		return nil, err
	}
	if len(words) > 0 {
		cond, cargs := textCond(words, "r.review_key IS NULL", "e.description", "e.title")
		filter += cond
		fargs = append(fargs, cargs...)
		countE = ""
	}
	if q.Before < 0 {
		return nil, errs.E(errs.Invalid, "before must be a position given by an earlier page")
	}
	scopeSQL, scopeArgs := s.reviewScope(sc, "r")
	// hit(lo, hi) is the statement prefix selecting the matching episodes
	// with keys in [lo, hi]; its arguments come from hitArgs.
	hit := `WITH r AS (SELECT review_key, review_id, version, board, year, kind FROM reviews r WHERE ` + scopeSQL +
		` AND r.review_key BETWEEN ? AND ?),
		sel AS (` + sel_ + `),
		hit AS (SELECT e.review_key, e.episode_no, e.title, e.description, e.adequacy, r.review_id, r.version, r.board, r.year, r.kind
			FROM sel JOIN episodes e ON e.review_key = sel.review_key AND e.episode_no = sel.episode_no
			JOIN r ON r.review_key = e.review_key WHERE e.review_key BETWEEN ? AND ?` + filter + `)`
	hitArgs := func(lo, hi int64) []any {
		a := append(append([]any{}, scopeArgs...), lo, hi, lo, hi)
		a = append(a, selArgs...)
		a = append(a, lo, hi)
		return append(a, fargs...)
	}
	out := &EpisodePage{Provenance: sc.prov, Collection: sc.coll, Query: q, Page: page, PerPage: perPage, Episodes: []EpisodeExcerpt{}, TotalExact: true}
	minKey, maxKey, ok, err := s.keySpan(ctx, scopeSQL, scopeArgs, q.Before)
	if err != nil || !ok {
		return out, err
	}
	// Counts: from the aggregates when they hold them; by counting when
	// there are no words to read; otherwise as the walk finds them.
	known := false
	if countE != "" && !sc.byAgency() && q.Before == 0 {
		known, err = s.drillCounts(ctx, sc, tree, q.Code, countE, countR, out)
		if err != nil {
			return nil, err
		}
	}
	if !known && len(words) == 0 {
		if err := s.db.QueryRowContext(ctx, hit+` SELECT count(*), count(DISTINCT review_key) FROM hit`,
			hitArgs(minKey, maxKey)...).Scan(&out.Total, &out.Reviews); err != nil {
			return nil, wrapDB(ctx, err, "count episodes")
		}
		known = true
	}
	skip := (page - 1) * perPage
	if known && skip >= out.Total {
		out.Pages = (out.Total + perPage - 1) / perPage
		return out, nil
	}
	reviews := 0
	w := walk{lo: minKey, hi: maxKey, skip: skip, need: perPage, known: known,
		count: func(lo, hi int64) (int, error) {
			var n, r int
			err := s.db.QueryRowContext(ctx, hit+` SELECT count(*), count(DISTINCT review_key) FROM hit`, hitArgs(lo, hi)...).Scan(&n, &r)
			if err != nil {
				return 0, wrapDB(ctx, err, "count episodes")
			}
			reviews += r
			return n, nil
		},
		list: func(lo, hi int64, limit, offset int) (int, error) {
			rows, err := s.db.QueryContext(ctx, hit+`
				SELECT review_key, review_id, version, year, board, kind, episode_no, title, description, adequacy
				FROM hit ORDER BY review_key DESC, episode_no LIMIT ? OFFSET ?`, append(hitArgs(lo, hi), limit, offset)...)
			if err != nil {
				return 0, wrapDB(ctx, err, "list episodes")
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var x EpisodeExcerpt
				var key int64
				var desc string
				if err := rows.Scan(&key, &x.ReviewID, &x.Version, &x.Year, &x.Board, &x.Kind, &x.Number, &x.Title, &desc, &x.Adequacy); err != nil {
					return n, wrapDB(ctx, err, "list episodes")
				}
				if n, ok := s.geo.lookup(x.Board); ok {
					x.BoardName = n.name
				}
				x.Title = screenText(x.Title)
				x.Excerpt = excerpt(desc)
				x.key = key
				out.Episodes = append(out.Episodes, x)
				n++
			}
			return n, wrapRowsErr(ctx, rows.Err(), "list episodes")
		}}
	if known {
		w.width = firstWidth(minKey, maxKey, out.Total, skip, perPage)
	}
	if len(words) > 0 && most <= maxPerPage {
		w.budget = max(textBudget(ctx)/2, 1) * int64(page)
	}
	res, err := w.run()
	if err != nil {
		return nil, err
	}
	if known {
		out.Pages = (out.Total + perPage - 1) / perPage
	} else {
		out.Total, out.Reviews, out.TotalExact = res.matched, reviews, res.complete
		out.Pages = pagesOf(res, page, perPage)
		out.ContinueBefore = res.continueAt()
	}
	if err := s.episodeFactors(ctx, out.Episodes); err != nil {
		return nil, err
	}
	return out, nil
}

// keySpan is the range of review keys of the collection's current reviews,
// below before when it is set; ok is false when there are none.
func (s *Store) keySpan(ctx context.Context, scopeSQL string, scopeArgs []any, before int64) (lo, hi int64, ok bool, err error) {
	var minKey, maxKey sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(review_key), max(review_key) FROM reviews r WHERE `+scopeSQL, scopeArgs...).Scan(&minKey, &maxKey); err != nil {
		return 0, 0, false, wrapDB(ctx, err, "read the collection's reviews")
	}
	if !minKey.Valid {
		return 0, 0, false, nil
	}
	lo, hi = minKey.Int64, maxKey.Int64
	if before > 0 {
		hi = min(hi, before-1)
	}
	return lo, hi, lo <= hi, nil
}

// episodeFactors fills in the factor codes of the listed episodes.
func (s *Store) episodeFactors(ctx context.Context, eps []EpisodeExcerpt) error {
	if len(eps) == 0 {
		return nil
	}
	keys := make([]int64, len(eps))
	nos := make([]int32, len(eps))
	lo, hi := eps[0].key, eps[0].key
	for i, e := range eps {
		keys[i], nos[i] = e.key, int32(e.Number)
		lo, hi = min(lo, e.key), max(hi, e.key)
	}
	// Joined with the page's own episodes: a download's page of thousands of
	// episodes comes from thousands of reviews, and listing every episode of
	// those reviews, or testing each row with list_contains, costs ten times
	// as much.
	rows, err := s.db.QueryContext(ctx, `SELECT f.review_key, f.episode_no, list(f.code ORDER BY f.seq) FROM episode_factors f
		JOIN (SELECT unnest(?::BIGINT[]) AS k, unnest(?::INTEGER[]) AS n) w ON f.review_key = w.k AND f.episode_no = w.n
		WHERE f.review_key BETWEEN ? AND ? GROUP BY 1, 2`, keys, nos, lo, hi)
	if err != nil {
		return wrapDB(ctx, err, "list episode factors")
	}
	defer rows.Close()
	type ek struct {
		key int64
		no  int
	}
	codes := map[ek][]string{}
	for rows.Next() {
		var k ek
		var list []any
		if err := rows.Scan(&k.key, &k.no, &list); err != nil {
			return wrapDB(ctx, err, "list episode factors")
		}
		codes[k] = anyStrings(list)
	}
	for i := range eps {
		eps[i].Factors = codes[ek{eps[i].key, eps[i].Number}]
		if eps[i].Factors == nil {
			eps[i].Factors = []string{}
		}
	}
	return rows.Err()
}

// drillCounts reads the number of episodes (and reviews) behind a drill-down
// from the aggregates, exactly (the viewer sees the collection in full).
func (s *Store) drillCounts(ctx context.Context, sc *scope, tree, code, colE, colR string, out *EpisodePage) (bool, error) {
	where, args := sc.filter(s.geo, true)
	inColl, cargs := s.collectionCond(sc)
	var q string
	if code == "" {
		// Every episode of the collection: agg_totals.
		cols := map[string]string{"episodes": "episodes", "e3": "ep_good", "e4": "ep_problematic", "e5": "ep_mixed", "e6": "ep_not_judged"}
		rcols := map[string]string{"reviews": "reviews", "r3": "r_good", "r4": "r_problematic", "r5": "r_mixed", "r6": "r_not_judged"}
		e, r := cols[colE], rcols[colR]
		if e == "" || r == "" {
			return false, nil
		}
		q = `SELECT coalesce(sum(` + e + `), 0), coalesce(sum(` + r + `), 0) FROM agg_totals WHERE ` + where + inColl
	} else {
		table := "agg_nodes"
		if s.rollupServes(sc) {
			table = "agg_nodes_r"
		}
		q = `SELECT coalesce(sum(` + colE + `), 0), coalesce(sum(` + colR + `), 0) FROM ` + table + ` WHERE ` + where +
			` AND tree = ? AND code = ?` + inColl
		args = append(args, tree, code)
	}
	args = append(args, cargs...)
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&out.Total, &out.Reviews); err != nil {
		return false, wrapDB(ctx, err, "count episodes")
	}
	return true, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// excerpt shortens a description to about excerptRunes characters at a word
// boundary and screens it.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > excerptRunes {
		rs := []rune(s)
		cut := excerptRunes
		for i := excerptRunes; i > excerptRunes*2/3; i-- {
			if unicode.IsSpace(rs[i]) {
				cut = i
				break
			}
		}
		s = strings.TrimRight(string(rs[:cut]), " ,;:") + "…"
	}
	return screenText(s)
}

// screenText masks what ingest's screen should already have refused, as a
// second line of defence: e-mail addresses and runs of six or more digits
// (telephone, NHS and case numbers).
func screenText(s string) string {
	words := strings.Fields(s)
	changed := false
	for i, w := range words {
		digits := 0
		run := 0
		for _, r := range w {
			if unicode.IsDigit(r) {
				run++
				digits = max(digits, run)
			} else if r != ' ' && r != '-' {
				run = 0
			}
		}
		if strings.Contains(w, "@") && strings.Contains(w, ".") || digits >= 6 {
			words[i] = "[removed]"
			changed = true
		}
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// The review list. Its total and its place, year and kind facets come from
// agg_totals when the list is filtered only by collection, years and kinds;
// its page is then read a year at a time (the list is ordered by year, newest
// first, then by review ID), so only the reviews of the years on the page are
// sorted. Words and agencies need the reviews themselves. The agencies facet
// always reads the reviews' agency lists: no aggregate keeps them.
func (s *Store) reviews(ctx context.Context, v Viewer, sel Selection, q ReviewQuery) (*ReviewPage, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	if err := sc.requireFull("the review list"); err != nil {
		return nil, err
	}
	page, perPage, err := pageOf(q.Page, q.PerPage)
	if err != nil {
		return nil, err
	}
	where, args := s.reviewScope(sc, "r")
	if len(q.Kinds) > 0 {
		where += " AND list_contains(?::VARCHAR[], r.kind)"
		args = append(args, q.Kinds)
	}
	if len(q.Agencies) > 0 {
		where += " AND list_has_any(r.agencies, ?::VARCHAR[])"
		args = append(args, q.Agencies)
	}
	text := strings.TrimSpace(q.Text)
	if text != "" {
		if utf8.RuneCountInString(text) > 200 {
			return nil, errs.E(errs.Invalid, "search text is longer than 200 characters")
		}
		for _, w := range strings.Fields(text) {
			where += ` AND (r.review_id ILIKE ? ESCAPE '\' OR array_to_string(r.questions, ' ') ILIKE ? ESCAPE '\'
				OR EXISTS (SELECT 1 FROM recommendations x WHERE x.review_key = r.review_key AND x.text ILIKE ? ESCAPE '\'))`
			pat := "%" + likeEscape(w) + "%"
			args = append(args, pat, pat, pat)
		}
	}
	out := &ReviewPage{Provenance: sc.prov, Collection: sc.coll, Page: page, PerPage: perPage, Reviews: []ReviewSummary{}}
	name := func(code string) string {
		if n, ok := s.geo.lookup(code); ok {
			return n.name
		}
		return code
	}
	// Counts by place, year and kind: from the aggregates or the reviews.
	counts := map[string]map[string]int{"nation": {}, "region": {}, "board": {}, "year": {}, "kind": {}}
	if text == "" && len(q.Agencies) == 0 && !sc.byAgency() {
		aw, aargs := sc.filter(s.geo, true)
		inColl, cargs := s.collectionCond(sc)
		aw += inColl
		aargs = append(aargs, cargs...)
		if len(q.Kinds) > 0 {
			aw += " AND list_contains(?::VARCHAR[], kind)"
			aargs = append(aargs, q.Kinds)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT nation, region, board, year, kind, sum(reviews)::BIGINT FROM agg_totals WHERE `+aw+
			` GROUP BY ALL HAVING sum(reviews) > 0`, aargs...)
		if err != nil {
			return nil, wrapDB(ctx, err, "count reviews")
		}
		for rows.Next() {
			var nation, region, board, kind string
			var year, n int
			if err := rows.Scan(&nation, &region, &board, &year, &kind, &n); err != nil {
				rows.Close()
				return nil, wrapDB(ctx, err, "count reviews")
			}
			counts["nation"][nation] += n
			counts["region"][region] += n
			counts["board"][board] += n
			counts["year"][strconv.Itoa(year)] += n
			counts["kind"][kind] += n
			out.Total += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapDB(ctx, err, "count reviews")
		}
	} else {
		rows, err := s.db.QueryContext(ctx, `SELECT CASE WHEN grouping(nation) = 0 THEN 'nation' WHEN grouping(region) = 0 THEN 'region'
			WHEN grouping(board) = 0 THEN 'board' WHEN grouping(year) = 0 THEN 'year' ELSE 'kind' END,
			coalesce(nation, region, board, year::VARCHAR, kind), count(*)
			FROM reviews r WHERE `+where+` GROUP BY GROUPING SETS ((nation), (region), (board), (year), (kind))`, args...)
		if err != nil {
			return nil, wrapDB(ctx, err, "count reviews")
		}
		for rows.Next() {
			var dim, val string
			var n int
			if err := rows.Scan(&dim, &val, &n); err != nil {
				rows.Close()
				return nil, wrapDB(ctx, err, "count reviews")
			}
			counts[dim][val] += n
			if dim == "nation" {
				out.Total += n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapDB(ctx, err, "count reviews")
		}
	}
	out.Pages = (out.Total + perPage - 1) / perPage
	// The page: a year at a time, newest first, passing over the years
	// before it by their counts.
	years := make([]int, 0, len(counts["year"]))
	for y := range counts["year"] {
		n, _ := strconv.Atoi(y)
		years = append(years, n)
	}
	slices.Sort(years)
	slices.Reverse(years)
	skip := (page - 1) * perPage
	var keys []int64
	for _, y := range years {
		n := counts["year"][strconv.Itoa(y)]
		if skip >= n {
			skip -= n
			continue
		}
		need := perPage - len(keys)
		rows, err := s.db.QueryContext(ctx, `SELECT review_key FROM reviews r WHERE `+where+` AND r.year = ? ORDER BY review_id LIMIT ? OFFSET ?`,
			append(append([]any{}, args...), y, need, skip)...)
		if err != nil {
			return nil, wrapDB(ctx, err, "list reviews")
		}
		for rows.Next() {
			var k int64
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, wrapDB(ctx, err, "list reviews")
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapDB(ctx, err, "list reviews")
		}
		skip = 0
		if len(keys) >= perPage {
			break
		}
	}
	if len(keys) > 0 {
		lo, hi := slices.Min(keys), slices.Max(keys)
		rows, err := s.db.QueryContext(ctx, `
			SELECT review_id, version, board, region, nation, kind, year, agencies, n_episodes, n_patterns, n_recommendations,
			       family_participation, frame_id || '@' || frame_version
			FROM reviews WHERE review_key BETWEEN ? AND ? AND list_contains(?::BIGINT[], review_key)
			ORDER BY year DESC, review_id`, lo, hi, keys)
		if err != nil {
			return nil, wrapDB(ctx, err, "list reviews")
		}
		for rows.Next() {
			var x ReviewSummary
			var ag []any
			if err := rows.Scan(&x.ID, &x.Version, &x.Board, &x.Region, &x.Nation, &x.Kind, &x.Year, &ag, &x.Episodes,
				&x.Patterns, &x.Recommendations, &x.FamilyParticipation, &x.Frame); err != nil {
				rows.Close()
				return nil, wrapDB(ctx, err, "list reviews")
			}
			x.Agencies = anyStrings(ag)
			x.BoardName = name(x.Board)
			out.Reviews = append(out.Reviews, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapDB(ctx, err, "list reviews")
		}
	}
	facet := func(m map[string]int, label func(string) string) []FacetValue {
		out := facetValues(m, label)
		if len(out) > 500 {
			out = out[:500]
		}
		return out
	}
	// Agencies: from the reviews' lists, unless left out.
	var agencyFacet []FacetValue
	if !q.NoAgencyFacet {
		agencies := map[string]int{}
		rows, err := s.db.QueryContext(ctx, `SELECT v, count(*) FROM (SELECT unnest(agencies) AS v FROM reviews r WHERE `+where+`) GROUP BY v`, args...)
		if err != nil {
			return nil, wrapDB(ctx, err, "facets")
		}
		for rows.Next() {
			var v string
			var n int
			if err := rows.Scan(&v, &n); err != nil {
				rows.Close()
				return nil, wrapDB(ctx, err, "facets")
			}
			agencies[strings.TrimSpace(strings.Trim(strings.ReplaceAll(v, "\n", " "), "\""))] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapDB(ctx, err, "facets")
		}
		agencyFacet = facet(agencies, nil)
	}
	out.Facets = ReviewFacets{
		Nations:  facet(counts["nation"], name),
		Regions:  facet(counts["region"], name),
		Boards:   facet(counts["board"], name),
		Years:    facet(counts["year"], nil),
		Kinds:    facet(counts["kind"], nil),
		Agencies: agencyFacet,
	}
	return out, nil
}

func anyStrings(xs []any) []string {
	out := []string{}
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// latestVersion returns the key of the review id's latest version that is
// not superseded, or -1 if it has none. Only the index on review_id is
// used: a further filter in the statement makes DuckDB scan instead.
func (s *Store) latestVersion(ctx context.Context, id string) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT review_key, version, status FROM reviews WHERE review_id = ?`, id)
	if err != nil {
		return 0, wrapDB(ctx, err, "read review "+id)
	}
	defer rows.Close()
	key, latest := int64(-1), -1
	for rows.Next() {
		var k int64
		var version int
		var status string
		if err := rows.Scan(&k, &version, &status); err != nil {
			return 0, wrapDB(ctx, err, "read review "+id)
		}
		if status != "superseded" && version > latest {
			key, latest = k, version
		}
	}
	return key, wrapRowsErr(ctx, rows.Err(), "read review "+id)
}

func (s *Store) review(ctx context.Context, v Viewer, id string) (*ReviewDetail, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	var x ReviewSummary
	var status, body string
	var ag []any
	notFound := errs.E(errs.NotFound, "there is no review %q in your scope", id)
	// Two point lookups, each through an index (review_id, then the key):
	// one statement filtering and sorting on review_id reads the reviews
	// table whole, bodies and all, about ten times slower.
	key, err := s.latestVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	if key < 0 {
		return nil, notFound
	}
	err = s.db.QueryRowContext(ctx, `
		SELECT review_id, version, board, region, nation, kind, year, agencies, n_episodes, n_patterns, n_recommendations,
		       family_participation, frame_id || '@' || frame_version, status, body
		FROM reviews WHERE review_key = ?`, key).Scan(&x.ID, &x.Version, &x.Board, &x.Region, &x.Nation, &x.Kind, &x.Year, &ag,
		&x.Episodes, &x.Patterns, &x.Recommendations, &x.FamilyParticipation, &x.Frame, &status, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound // superseded or removed between the two reads
	}
	if err != nil {
		return nil, wrapDB(ctx, err, "read review "+id)
	}
	// Out of scope looks the same as missing, so IDs cannot be probed.
	sc, err := s.resolve(ctx, v, Selection{Collection: x.Board})
	if err != nil {
		return nil, err
	}
	// An admin may drill down anywhere (requireFull), so may read any review,
	// withdrawn and loading ones included.
	if v.Role != RoleAdmin && (!sc.full || status != "current") {
		return nil, notFound
	}
	x.Agencies = anyStrings(ag)
	if n, ok := s.geo.lookup(x.Board); ok {
		x.BoardName = n.name
	}
	var e ingest.Export
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "review %s cannot be read", id)
	}
	return &ReviewDetail{Provenance: sc.prov, Summary: x, Status: status, Export: &e}, nil
}
