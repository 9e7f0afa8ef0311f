package dashboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
)

type factorsPage struct {
	Base
	Framework *ChartView
}

// handleFactors shows the whole factor framework as a treemap sized by the
// reviews citing each factor, with every node in the table.
func (s *Server) handleFactors(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	vm := factorsPage{Base: s.base(c, "Contributory factors")}
	vm.HasCharts = true
	cv := &ChartView{ID: "factors_framework", Title: "The contributory factor framework",
		Description: "Every level, factor type and factor of the frame, sized by the number of reviews citing it. Choose a factor to see its own page.",
		Size:        "lg"}
	rec, err := s.an.Recurrence(c.Request.Context(), r.v, r.sel, analytics.RecurrenceOptions{Tree: analytics.TreeFactor, Splits: true})
	if cv.Empty, err = s.soft(c, cv.ID, err); err != nil {
		return err
	}
	cv.Table = Table{Columns: []Column{{Label: "Node"}, {Label: "Level"}, {Label: "Reviews", Numeric: true},
		{Label: "Share of reviews coded (%)", Numeric: true}, {Label: "95% interval from (%)", Numeric: true}, {Label: "95% interval to (%)", Numeric: true},
		{Label: "Share of reviews received (%)", Numeric: true}, {Label: "Episodes", Numeric: true},
		{Label: "Supported good practice (reviews)", Numeric: true}, {Label: "Made problematic practice more likely (reviews)", Numeric: true}}}
	if rec != nil {
		nodes := map[string]*treeNode{}
		children := map[string][]string{}
		for _, row := range rec.Rows {
			n := &treeNode{Name: nodeLabel(row.Node), Value: row.Reviews, Drill: factorHref(r, row.Node)}
			nodes[row.Code] = n
			if row.Parent != "" {
				children[row.Parent] = append(children[row.Parent], row.Code)
			}
			href := factorHref(r, row.Node)
			first := textCell(strings.Repeat("— ", row.Depth-1) + nodeLabel(row.Node))
			if href != "" {
				first = linkCell(first.Text, href)
			}
			cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{first, textCell(row.Level), countCell(row.Reviews),
				percentCell(row.Share), percentCell(row.Interval.Lo), percentCell(row.Interval.Hi), percentCell(row.ShareReceived),
				countCell(row.Episodes), countCell(splitCount(row.Splits, "influence", "supported_good")),
				countCell(splitCount(row.Splits, "influence", "made_problematic_more_likely"))}})
		}
		var build func(n *treeNode, code string) treeNode
		build = func(n *treeNode, code string) treeNode {
			out := *n
			for _, ch := range children[code] {
				out.Children = append(out.Children, build(nodes[ch], ch))
			}
			if len(out.Children) > 0 {
				out.Value = analytics.KnownCount(0) // sized by the children
			}
			return out
		}
		var tree []treeNode
		for _, row := range rec.Rows {
			if row.Parent == "" {
				tree = append(tree, build(nodes[row.Code], row.Code))
			}
		}
		cv.Table.Provenance = provenanceLine(rec.Provenance)
		if len(tree) > 0 {
			cv.Options = treemap("factors", tree)
		}
	}
	vm.Framework = r.chart(cv)
	return s.respond(c, "factors", &vm, chartTable(vm.Framework))
}

// factorHref links a factor (the deepest level) to its own page.
func factorHref(r *request, n analytics.Node) string {
	return r.link("/factors/" + n.Code)
}

type factorPage struct {
	Base
	Node         analytics.Node
	Headline     []Headline
	HeadlineNote string
	Regions      *ChartView
	Trend        *ChartView
	Network      *ChartView
	Flows        *ChartView
	Episodes     *analytics.EpisodePage
	EpisodesNote string
	Pager        pager
	EpisodesCSV  string
}

// handleFactor is one factor's page: where it is cited, how it has moved,
// what it is found with, which patterns it leads to, and the episodes behind it.
func (s *Server) handleFactor(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	code := c.Param("code")
	if !codePattern.MatchString(code) {
		return errs.E(errs.NotFound, "there is no factor %q", code)
	}
	ctx := c.Request.Context()
	node := analytics.Node{Code: code}
	if r.frame != nil {
		found := false
		for _, n := range r.frame.Factors {
			if n.Code == code {
				node, found = n, true
			}
		}
		if !found {
			return errs.E(errs.NotFound, "there is no factor %q in frame %s", code, r.frame.Key())
		}
	}
	vm := factorPage{Base: s.base(c, "Factor "+nodeLabel(node)), Node: node}
	vm.HasCharts = true

	page, err := pageNumber(c)
	if err != nil {
		return err
	}
	err = parallel(
		func() error {
			rec, err := s.an.Recurrence(ctx, r.v, r.sel, analytics.RecurrenceOptions{Tree: analytics.TreeFactor, Codes: []string{code}, Splits: true})
			if vm.HeadlineNote, err = s.soft(c, "factor recurrence", err); err != nil {
				return err
			}
			if rec != nil && len(rec.Rows) > 0 {
				row := rec.Rows[0]
				vm.Headline = []Headline{
					{Label: "Reviews citing it", Value: countCell(row.Reviews)},
					{Label: "Share of reviews coded", Value: percentText(row.Share), Note: intervalNote(row.Interval)},
					{Label: "Episodes citing it", Value: countCell(row.Episodes)},
					{Label: "Supported good practice", Value: countCell(splitCount(row.Splits, "influence", "supported_good")), Note: "reviews"},
					{Label: "Made problematic practice more likely", Value: countCell(splitCount(row.Splits, "influence", "made_problematic_more_likely")), Note: "reviews"},
				}
			}
			return nil
		},
		func() (err error) { vm.Regions, err = s.factorRegions(r, node); return err },
		func() (err error) { vm.Trend, err = s.factorTrend(r, node); return err },
		func() (err error) { vm.Network, err = s.factorNetwork(r, node); return err },
		func() (err error) { vm.Flows, err = s.factorFlows(r, node); return err },
		func() error {
			eps, err := s.an.Episodes(ctx, r.v, r.sel, analytics.EpisodeQuery{Tree: analytics.TreeFactor, Code: code, Page: page, PerPage: 10})
			if vm.EpisodesNote, err = s.soft(c, "episodes", err); err != nil {
				return err
			}
			if eps != nil {
				vm.Episodes = eps
				vm.Pager = r.pager(eps.Page, eps.Pages)
				vm.EpisodesCSV = r.link("/api/v1/episodes.csv", "tree", analytics.TreeFactor, "code", code)
			}
			return nil
		},
	)
	if err != nil {
		return err
	}
	return s.respond(c, "factor", &vm, chartTable(vm.Regions), chartTable(vm.Trend), chartTable(vm.Network), chartTable(vm.Flows))
}

// factorRegions is a grid of the factor and its sibling factors by the places
// under the collection (regions of a nation, boards of a region).
func (s *Server) factorRegions(r *request, node analytics.Node) (*ChartView, error) {
	cv := &ChartView{ID: "factor_places", Title: "Share of reviews by place",
		Description: "The share of reviews citing this factor and the other factors of its type, in each place of the collection.", Size: "lg"}
	codes := []string{node.Code}
	if r.frame != nil && node.Parent != "" {
		codes = nil
		for _, n := range r.frame.Factors {
			if n.Parent == node.Parent {
				codes = append(codes, n.Code)
			}
		}
	}
	bd, err := s.an.Breakdown(r.c.Request.Context(), r.v, r.sel, analytics.BreakdownOptions{Tree: analytics.TreeFactor, Codes: codes})
	if cv.Empty, err = s.soft(r.c, cv.ID, err); err != nil {
		return nil, err
	}
	if bd == nil {
		cv.Table = Table{Columns: []Column{{Label: "Place"}}}
		return r.chart(cv), nil
	}
	cv.Table.Columns = []Column{{Label: "Place"}, {Label: "Reviews coded", Numeric: true}}
	var cols []string
	for _, n := range bd.Nodes {
		cols = append(cols, n.Code)
		cv.Table.Columns = append(cv.Table.Columns, Column{Label: nodeLabel(n) + " (%)", Numeric: true})
	}
	var rows []string
	var cells [][]analytics.Figure
	drill := map[string]string{}
	for _, p := range bd.Places {
		rows = append(rows, p.Place.Name)
		drill[p.Place.Name] = withQuery(r.c.Request.URL.Path, selQuery(analytics.Selection{Collection: p.Place.Ref, From: r.sel.From, To: r.sel.To}))
		row := Row{Cells: []Cell{textCell(p.Place.Name), countCell(p.ReviewsCoded)}}
		var fs []analytics.Figure
		for _, cell := range p.Cells {
			fs = append(fs, cell.Share)
			row.Cells = append(row.Cells, percentCell(cell.Share))
		}
		cells = append(cells, fs)
		cv.Table.Rows = append(cv.Table.Rows, row)
	}
	cv.Table.Provenance = provenanceLine(bd.Provenance)
	if len(rows) == 0 || len(cols) == 0 {
		cv.Empty = "There are no places under this collection to compare."
	} else {
		cv.Options = heatmap(cols, rows, cells, 100, "% of reviews", drill)
	}
	return r.chart(cv), nil
}

func (s *Server) factorTrend(r *request, node analytics.Node) (*ChartView, error) {
	cv := &ChartView{ID: "factor_trend", Title: "Trend by year",
		Description: "The share of reviews coded each year that cite this factor, with its 95% interval as dashed lines."}
	tr, err := s.an.Trends(r.c.Request.Context(), r.v, r.sel, analytics.TrendOptions{Tree: analytics.TreeFactor, Codes: []string{node.Code}})
	if cv.Empty, err = s.soft(r.c, cv.ID, err); err != nil {
		return nil, err
	}
	cv.Table.Columns = []Column{{Label: "Year"}, {Label: "Reviews coded", Numeric: true}, {Label: "Reviews citing it", Numeric: true},
		{Label: "Share (%)", Numeric: true}, {Label: "95% interval from (%)", Numeric: true}, {Label: "95% interval to (%)", Numeric: true}}
	if tr == nil || len(tr.Series) == 0 {
		if tr != nil {
			cv.Empty = "No years to show for this selection."
		}
		return r.chart(cv), nil
	}
	ser := tr.Series[0]
	var years []string
	share, lo, hi := series{Name: "share"}, series{Name: "95% interval from"}, series{Name: "95% interval to"}
	for _, p := range ser.Points {
		years = append(years, strconv.Itoa(p.Year))
		share.Values = append(share.Values, p.Share)
		lo.Values = append(lo.Values, p.Interval.Lo)
		hi.Values = append(hi.Values, p.Interval.Hi)
		cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{textCell(strconv.Itoa(p.Year)), countCell(p.Coded), countCell(p.Reviews),
			percentCell(p.Share), percentCell(p.Interval.Lo), percentCell(p.Interval.Hi)}})
	}
	cv.Description += " " + trendSentence(ser)
	cv.Table.Provenance = provenanceLine(tr.Provenance)
	cv.Options = lines(years, []series{share, lo, hi}, 100, "% of reviews", map[string]bool{lo.Name: true, hi.Name: true})
	return r.chart(cv), nil
}

func trendSentence(ts analytics.TrendSeries) string {
	p := ts.Trend.P.String()
	switch {
	case ts.Emerging:
		return fmt.Sprintf("Emerging: rising significantly over recent years (Cochran–Armitage p = %s over all years).", p)
	case ts.Trend.Direction != "":
		return fmt.Sprintf("Trend: %s (Cochran–Armitage p = %s).", ts.Trend.Direction, p)
	case p != "":
		return fmt.Sprintf("No significant trend (Cochran–Armitage p = %s).", p)
	}
	return ""
}

func (s *Server) factorNetwork(r *request, node analytics.Node) (*ChartView, error) {
	cv := &ChartView{ID: "factor_cooccurrence", Title: "Factors found in the same episodes",
		Description: "Factors cited in the same key practice episodes as this one; thicker links mean more episodes. Choose a factor to go to its page.", Size: "lg"}
	co, err := s.an.CoOccurrence(r.c.Request.Context(), r.v, r.sel, analytics.CoOccurrenceOptions{Focus: node.Code, Limit: 20})
	if cv.Empty, err = s.soft(r.c, cv.ID, err); err != nil {
		return nil, err
	}
	cv.Table.Columns = []Column{{Label: "Factor found with it"}, {Label: "Episodes together", Numeric: true}, {Label: "Reviews", Numeric: true},
		{Label: "Lift", Numeric: true}, {Label: "Jaccard", Numeric: true}, {Label: "Episodes"}}
	if co == nil {
		return r.chart(cv), nil
	}
	labels := map[string]string{}
	for _, n := range co.Nodes {
		labels[n.Code] = nodeLabel(n.Node)
	}
	name := func(code string) string {
		if l, ok := labels[code]; ok {
			return l
		}
		return code
	}
	nodes := []netNode{{Name: name(node.Code), Size: 1, Focus: true}}
	var links []netLink
	for _, p := range co.Pairs {
		other := p.B
		if other == node.Code {
			other = p.A
		}
		n, ok := p.Count.Value()
		episodes := r.link("/query", "what", "episodes", "code", node.Code, "with", other)
		cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{linkCell(name(other), r.link("/factors/"+other)), countCell(p.Count),
			countCell(p.Reviews), figureCell(p.Lift, 3), figureCell(p.Jaccard, 3), linkCell("episodes", episodes)}})
		if !ok {
			continue
		}
		nodes = append(nodes, netNode{Name: name(other), Size: float64(n), Drill: r.link("/factors/" + other)})
		links = append(links, netLink{Source: name(node.Code), Target: name(other), Weight: float64(n)})
	}
	cv.Table.Provenance = provenanceLine(co.Provenance)
	if len(links) == 0 {
		cv.Empty = "No other factor is found with this one often enough to show."
	} else {
		cv.Options = network(nodes, links)
	}
	return r.chart(cv), nil
}

func (s *Server) factorFlows(r *request, node analytics.Node) (*ChartView, error) {
	cv := &ChartView{ID: "factor_flows", Title: "From this factor's type to pattern types",
		Description: "Episodes carrying a factor of this type that patterns of each type draw on."}
	fl, err := s.an.Flows(r.c.Request.Context(), r.v, r.sel, analytics.FlowOptions{})
	if cv.Empty, err = s.soft(r.c, cv.ID, err); err != nil {
		return nil, err
	}
	cv.Table.Columns = []Column{{Label: "Factor type"}, {Label: "Pattern type"}, {Label: "Episodes", Numeric: true}, {Label: "Reviews", Numeric: true}}
	if fl == nil {
		return r.chart(cv), nil
	}
	typ := node.Parent
	if typ == "" {
		typ = node.Code
	}
	flows, table := flowRows(r, fl, func(l analytics.FlowLink) bool { return l.Source == typ || strings.HasPrefix(node.Code, l.Source+".") })
	cv.Table.Rows = table
	cv.Table.Provenance = provenanceLine(fl.Provenance)
	if len(flows) == 0 {
		cv.Empty = "No pattern draws on episodes with this factor's type in this selection."
	} else {
		cv.Options = sankey(flows, nil)
	}
	return r.chart(cv), nil
}

// flowRows turns flow links into Sankey flows and table rows.
func flowRows(r *request, fl *analytics.Flows, keep func(analytics.FlowLink) bool) ([]flow, []Row) {
	labels := map[string]string{}
	for _, n := range fl.Sources {
		labels[n.Code] = nodeLabel(n)
	}
	for _, n := range fl.Targets {
		labels[n.Code] = nodeLabel(n)
	}
	label := func(c string) string {
		if l, ok := labels[c]; ok {
			return l
		}
		return c
	}
	var flows []flow
	var rows []Row
	for _, l := range fl.Links {
		if !keep(l) {
			continue
		}
		flows = append(flows, flow{Source: label(l.Source), Target: label(l.Target), Value: l.Episodes})
		rows = append(rows, Row{Cells: []Cell{textCell(label(l.Source)), textCell(label(l.Target)), countCell(l.Episodes), countCell(l.Reviews)}})
	}
	return flows, rows
}
