package dashboard

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/collate-project/collate/analytics"
)

// This file is the one place where results become ECharts options. Options
// are built with go-echarts and delivered as JSON written by encoding/json,
// which escapes <, > and &, inside a <script type="application/json"> block
// that static/dist/charts.js reads. go-echarts' own page and snippet
// rendering is never used: it writes labels unescaped into a script block.

// ChartView is one chart on a page: its options, the same figures as a table,
// and where to download them.
type ChartView struct {
	ID          string // a valid JS identifier, stable for golden tests
	Title       string
	Description string
	Size        string // sm, md or lg: the drawing's height
	Options     template.JS
	Table       Table
	CSVHref     string
	Empty       string // said instead of drawing when there is nothing to show
}

// envelope is what the options block holds: the ECharts options, and for
// click-through the page each data name leads to.
type envelope struct {
	Options map[string]any    `json:"options"`
	Drill   map[string]string `json:"drill,omitempty"`
}

// palette is Okabe and Ito's colour-blind-safe set, darkened where needed for
// 3:1 contrast against white; decal patterns are switched on as well, so no
// series is told apart by colour alone.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#F0E442"}

type echartsChart interface {
	JSON() map[string]interface{}
	Validate()
}

// finish validates the go-echarts chart, sets what every chart shares (aria
// description and decals, no animation, tooltips drawn as canvas text so no
// label is ever parsed as HTML) and marshals the envelope.
func finish(c echartsChart, drill map[string]string) template.JS {
	return finishDecals(c, drill, true)
}

// finishDecals is finish with decal patterns switched off for charts whose
// every area is labelled (heatmaps, treemaps, flows, networks): there the
// patterns only make labels harder to read.
func finishDecals(c echartsChart, drill map[string]string, decals bool) template.JS {
	c.Validate()
	m := c.JSON()
	delete(m, "toolbox")
	delete(m, "title")
	m["animation"] = false
	m["color"] = palette
	m["aria"] = map[string]any{"enabled": true, "decal": map[string]any{"show": decals}}
	tooltip := map[string]any{"renderMode": "richText", "confine": true}
	if t, ok := m["tooltip"].(*opts.Tooltip); ok && t != nil && t.Trigger != "" {
		tooltip["trigger"] = t.Trigger
	}
	m["tooltip"] = tooltip
	if !hasLegend(m) {
		m["legend"] = map[string]any{"show": false}
	}
	b, err := json.Marshal(envelope{Options: m, Drill: drill})
	if err != nil {
		// Options are built from plain numbers and strings; this cannot fail.
		panic(fmt.Sprintf("dashboard: marshal chart options: %v", err))
	}
	return template.JS(b)
}

// hasLegend reports whether the builder asked for a legend; go-echarts
// otherwise leaves an empty one, which ECharts would draw.
func hasLegend(m map[string]interface{}) bool {
	b, err := json.Marshal(m["legend"])
	return err == nil && strings.Contains(string(b), `"show":true`)
}

// chartValue is a figure as ECharts takes it: a number, or "-" (no value) for
// suppressed and unavailable figures, so nothing is ever drawn as zero.
func chartValue(f analytics.Figure, scale float64) any {
	if v, ok := f.Value(); ok {
		return round(v*scale, 4)
	}
	return "-"
}

func countValue(c analytics.Count) any {
	if n, ok := c.Value(); ok {
		return n
	}
	return "-"
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// suppressedLabel marks a category whose figure is withheld, so the gap in a
// chart reads as "c", not as zero.
func suppressedLabel(label string, suppressed bool) string {
	if suppressed {
		return label + " (c)"
	}
	return label
}

// shareBar is one bar of a share chart with its interval.
type shareBar struct {
	Label  string
	Share  analytics.Figure
	Lo, Hi analytics.Figure
	Drill  string
}

// shareBars draws shares (as percentages) as horizontal bars with interval
// whiskers; the whisker is a thin stacked bar from the lower to the upper end.
func shareBars(bars []shareBar, valueName string) template.JS {
	b := charts.NewBar()
	cats := make([]string, len(bars))
	share := make([]opts.BarData, len(bars))
	lo := make([]opts.BarData, len(bars))
	span := make([]opts.BarData, len(bars))
	drill := map[string]string{}
	// ECharts draws the first category at the bottom of a vertical category axis.
	for i := range bars {
		bar := bars[len(bars)-1-i]
		cats[i] = suppressedLabel(bar.Label, bar.Share.Suppressed())
		share[i] = opts.BarData{Name: cats[i], Value: chartValue(bar.Share, 100)}
		l, lok := bar.Lo.Value()
		h, hok := bar.Hi.Value()
		if lok && hok {
			lo[i] = opts.BarData{Value: round(100*l, 4)}
			span[i] = opts.BarData{Value: round(100*(h-l), 4)}
		} else {
			lo[i] = opts.BarData{Value: "-"}
			span[i] = opts.BarData{Value: "-"}
		}
		if bar.Drill != "" {
			drill[cats[i]] = bar.Drill
		}
	}
	b.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "4%", Bottom: "6%", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: valueName, NameLocation: "middle", NameGap: 24}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: cats, AxisLabel: &opts.AxisLabel{Width: 260, Overflow: "truncate"}}),
	)
	b.AddSeries(valueName, share, charts.WithBarChartOpts(opts.BarChart{BarWidth: "60%"}))
	b.AddSeries("interval from", lo, charts.WithBarChartOpts(opts.BarChart{Stack: "interval", BarWidth: "12%", BarGap: "-78%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "transparent"}))
	b.AddSeries("95% interval", span, charts.WithBarChartOpts(opts.BarChart{Stack: "interval", BarWidth: "12%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#0b0c0c"}))
	return finish(noValidate{b}, drill)
}

// noValidate keeps go-echarts from overwriting axes that were set explicitly.
type noValidate struct{ *charts.Bar }

func (noValidate) Validate() {}

// series is one named line or bar series over shared categories.
type series struct {
	Name   string
	Values []analytics.Figure
}

// groupedBars draws series side by side (or stacked) over categories, scaled
// by scale (100 for shares as percentages).
func groupedBars(cats []string, ss []series, stack bool, scale float64, valueName string, drill map[string]string) template.JS {
	b := charts.NewBar()
	b.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "14%", Bottom: "4%", ContainLabel: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: valueName}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Interval: "0", Rotate: 30, Width: 160, Overflow: "truncate"}}),
	)
	b.SetXAxis(cats)
	for _, s := range ss {
		data := make([]opts.BarData, len(s.Values))
		for i, v := range s.Values {
			data[i] = opts.BarData{Value: chartValue(v, scale)}
		}
		var so []charts.SeriesOpts
		if stack {
			so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
		}
		b.AddSeries(s.Name, data, so...)
	}
	return finish(b, drill)
}

// lines draws series over ordered categories (years), with gaps for
// suppressed points.
func lines(cats []string, ss []series, scale float64, valueName string, dashed map[string]bool) template.JS {
	l := charts.NewLine()
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Type: "scroll"}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "14%", Bottom: "4%", ContainLabel: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: valueName}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category"}),
	)
	l.SetXAxis(cats)
	for _, s := range ss {
		data := make([]opts.LineData, len(s.Values))
		for i, v := range s.Values {
			data[i] = opts.LineData{Value: chartValue(v, scale)}
		}
		so := []charts.SeriesOpts{charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(false), ShowSymbol: opts.Bool(true)})}
		if dashed[s.Name] {
			so = append(so, charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Width: 1, Color: "#484949"}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: "#484949"}))
		}
		l.AddSeries(s.Name, data, so...)
	}
	return finish(l, nil)
}

// heatmap draws a grid of shares (rows × columns) with a labelled colour scale;
// each cell also carries its value as a label, so colour is never the only cue.
func heatmap(cols, rows []string, cells [][]analytics.Figure, scale float64, valueName string, drill map[string]string) template.JS {
	h := charts.NewHeatMap()
	var data []opts.HeatMapData
	max := 0.0
	for r := range rows {
		for c := range cols {
			f := cells[r][c]
			if v, ok := f.Value(); ok {
				max = math.Max(max, v*scale)
				data = append(data, opts.HeatMapData{Name: rows[r], Value: []any{c, r, round(v*scale, 1)}})
			} else if f.Suppressed() {
				data = append(data, opts.HeatMapData{Name: rows[r], Value: []any{c, r, "-"}})
			}
		}
	}
	if max == 0 {
		max = 1
	}
	h.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "4%", Bottom: "16%", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: cols, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rows, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(true), Min: 0, Max: float32(math.Ceil(max)), Orient: "horizontal", Left: "center", Bottom: "0",
			Text: []string{valueName + " high", "low"}, InRange: &opts.VisualMapInRange{Color: []string{"#f3f7fb", "#6baed6", "#08306b"}}}),
	)
	h.AddSeries(valueName, data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Color: "#0b0c0c", BackgroundColor: "#ffffff"}))
	// Suppressed cells have no value, so the heatmap leaves them blank; a
	// second series writes "c" in each, so a gap never reads as zero or as
	// missing data.
	var sup []opts.ScatterData
	for r := range rows {
		for c := range cols {
			if cells[r][c].Suppressed() {
				sup = append(sup, opts.ScatterData{Name: rows[r], Value: []any{c, r}, SymbolSize: 1})
			}
		}
	}
	if len(sup) > 0 {
		sc := charts.NewScatter()
		sc.AddSeries("suppressed (c)", sup, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Formatter: "c", Color: "#0b0c0c", FontWeight: "bold", Position: "inside"}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#0b0c0c"}))
		h.Overlap(sc)
	}
	return finishDecals(h, drill, false)
}

// treeNode is one node of a treemap.
type treeNode struct {
	Name     string
	Value    analytics.Count
	Children []treeNode
	Drill    string
}

// treemap draws a frame as nested rectangles sized by count; suppressed
// nodes are drawn at no size and named with (c).
func treemap(name string, nodes []treeNode) template.JS {
	t := charts.NewTreeMap()
	drill := map[string]string{}
	var conv func([]treeNode) []opts.TreeMapNode
	conv = func(ns []treeNode) []opts.TreeMapNode {
		out := make([]opts.TreeMapNode, 0, len(ns))
		for _, n := range ns {
			v, _ := n.Value.Value()
			label := suppressedLabel(n.Name, n.Value.Suppressed())
			if n.Drill != "" {
				drill[label] = n.Drill
			}
			out = append(out, opts.TreeMapNode{Name: label, Value: v, Children: conv(n.Children)})
		}
		return out
	}
	t.AddSeries(name, conv(nodes), charts.WithTreeMapOpts(opts.TreeMapChart{
		Roam: opts.Bool(false), LeafDepth: 2, Left: "0", Right: "0", Top: "0", Bottom: "40",
		Levels: &[]opts.TreeMapLevel{
			{ItemStyle: &opts.ItemStyle{BorderColor: "#ffffff", BorderWidth: 4, GapWidth: 4}},
			{ItemStyle: &opts.ItemStyle{BorderColor: "#ffffff", BorderWidth: 2, GapWidth: 1}},
		},
	}), charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Color: "#ffffff"}))
	return finishDecals(t, drill, false)
}

// netNode and netLink make a co-occurrence network.
type netNode struct {
	Name  string
	Size  float64
	Drill string
	Focus bool
}

type netLink struct {
	Source, Target string
	Weight         float64
}

// network draws nodes on a circle joined by links whose width follows weight;
// the circular layout is deterministic, unlike a force layout.
func network(nodes []netNode, links []netLink) template.JS {
	g := charts.NewGraph()
	drill := map[string]string{}
	gn := make([]opts.GraphNode, len(nodes))
	maxSize := 1.0
	for _, n := range nodes {
		maxSize = math.Max(maxSize, n.Size)
	}
	for i, n := range nodes {
		gn[i] = opts.GraphNode{Name: n.Name, Value: float32(n.Size), SymbolSize: round(14+26*n.Size/maxSize, 1)}
		if n.Focus {
			gn[i].ItemStyle = &opts.ItemStyle{Color: "#D55E00", BorderColor: "#0b0c0c", BorderWidth: 2}
		}
		if n.Drill != "" {
			drill[n.Name] = n.Drill
		}
	}
	maxW := 1.0
	for _, l := range links {
		maxW = math.Max(maxW, l.Weight)
	}
	gl := make([]opts.GraphLink, len(links))
	for i, l := range links {
		gl[i] = opts.GraphLink{Source: l.Source, Target: l.Target, Value: float32(round(l.Weight, 3)),
			LineStyle: &opts.LineStyle{Width: float32(round(1+5*l.Weight/maxW, 1)), Opacity: opts.Float(0.7), Color: "#484949"}}
	}
	g.AddSeries("co-occurrence", gn, gl, charts.WithGraphChartOpts(opts.GraphChart{Layout: "circular", Roam: opts.Bool(false)}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: "#0b0c0c"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Left, s.Right, s.Top, s.Bottom = "20%", "30%", "8%", "8%" }))
	return finishDecals(g, drill, false)
}

// flow is one link of a Sankey diagram.
type flow struct {
	Source, Target string
	Value          analytics.Count
}

// sankey draws flows between two columns of nodes; suppressed flows are left
// out of the drawing and listed as c in the table.
func sankey(flows []flow, drill map[string]string) template.JS {
	s := charts.NewSankey()
	seen := map[string]bool{}
	var nodes []opts.SankeyNode
	var links []opts.SankeyLink
	for _, f := range flows {
		n, ok := f.Value.Value()
		if !ok || n == 0 {
			continue
		}
		for _, name := range []string{f.Source, f.Target} {
			if !seen[name] {
				seen[name] = true
				nodes = append(nodes, opts.SankeyNode{Name: name})
			}
		}
		links = append(links, opts.SankeyLink{Source: f.Source, Target: f.Target, Value: float32(n)})
	}
	s.AddSeries("flows", nodes, links,
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Color: "#0b0c0c"}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: "source", Curveness: 0.5, Opacity: opts.Float(0.45)}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Left, s.Right = "2%", "30%" }))
	return finishDecals(s, drill, false)
}

// funnelPoint is one board in a funnel plot.
type funnelPoint struct {
	Name  string
	N     int
	Share analytics.Figure
	Flag  string // "above", "below" or "" (within the limits)
	Drill string
}

// funnelLimit is the control limits at one number of reviews.
type funnelLimit struct {
	N                        int
	Lo95, Hi95, Lo998, Hi998 analytics.Figure
}

// funnel draws boards' shares against their number of reviews with 95% and
// 99.8% limits around the reference share. Boards outside the limits use a
// different symbol as well as a different colour.
func funnel(points []funnelPoint, limits []funnelLimit, ref analytics.Figure, valueName string) template.JS {
	sc := charts.NewScatter()
	drill := map[string]string{}
	groups := []struct {
		flag, name, symbol string
	}{{"", "within limits", "circle"}, {"above", "above the 99.8% limit", "triangle"}, {"below", "below the 99.8% limit", "diamond"}}
	sc.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Type: "scroll"}),
		charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "14%", Bottom: "8%", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "reviews", NameLocation: "middle", NameGap: 24}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: valueName}),
	)
	for _, g := range groups {
		var data []opts.ScatterData
		for _, p := range points {
			v, ok := p.Share.Value()
			if !ok || p.Flag != g.flag {
				continue
			}
			data = append(data, opts.ScatterData{Name: p.Name, Value: []any{p.N, round(100*v, 2)}, Symbol: g.symbol, SymbolSize: 12})
			if p.Drill != "" {
				drill[p.Name] = p.Drill
			}
		}
		if data == nil {
			data = []opts.ScatterData{}
		}
		sc.AddSeries(g.name, data)
	}
	limits95, limits998 := charts.NewLine(), charts.NewLine()
	limitLine := func(l *charts.Line, name string, pick func(funnelLimit) analytics.Figure, style string) {
		var data []opts.LineData
		for _, lim := range limits {
			if v, ok := pick(lim).Value(); ok {
				data = append(data, opts.LineData{Value: []any{lim.N, round(100*v, 2)}})
			}
		}
		l.AddSeries(name, data, charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), ShowSymbol: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Type: style, Width: 1, Color: "#484949"}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#484949"}))
	}
	limitLine(limits95, "95% limits", func(l funnelLimit) analytics.Figure { return l.Hi95 }, "dashed")
	limitLine(limits95, "95% limits", func(l funnelLimit) analytics.Figure { return l.Lo95 }, "dashed")
	limitLine(limits998, "99.8% limits", func(l funnelLimit) analytics.Figure { return l.Hi998 }, "dotted")
	limitLine(limits998, "99.8% limits", func(l funnelLimit) analytics.Figure { return l.Lo998 }, "dotted")
	if r, ok := ref.Value(); ok {
		ref := charts.NewLine()
		ref.AddSeries("reference share", []opts.LineData{}, charts.WithMarkLineNameYAxisItemOpts(
			opts.MarkLineNameYAxisItem{Name: "reference", YAxis: round(100*r, 2)}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}}))
		sc.Overlap(limits95, limits998, ref)
	} else {
		sc.Overlap(limits95, limits998)
	}
	return finish(noValidateScatter{sc}, drill)
}

// noValidateScatter keeps go-echarts from replacing the value axes.
type noValidateScatter struct{ *charts.Scatter }

func (noValidateScatter) Validate() {}
