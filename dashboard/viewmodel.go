package dashboard

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// Base is embedded in every page's view-model.
type Base struct {
	Title        string
	Path         string
	Nav          []NavItem
	Picker       Picker
	Query        url.Values // the selection, carried by links between pages
	AssetVersion string
	HasCharts    bool // the page draws charts, so charts.js is loaded
	HasUpload    bool // the page loads upload.js
	AssetsBuilt  bool
	CSRFToken    string // set once sessions exist (issue 5)
	ViewerName   string
}

// NavItem is one link of the main navigation.
type NavItem struct {
	Label   string
	Href    string
	Current bool
}

// Picker is the collection switcher and year range shown on every page.
type Picker struct {
	Groups     []collectionGroup
	Selected   string
	From, To   int
	MinYear    int
	MaxYear    int
	Label      string // the chosen collection's name
	ShowPicker bool
	// AllYearsNote says that where figures are withheld from this viewer
	// they cover all years (analytics refuses ranges there).
	AllYearsNote bool
}

type collectionGroup struct {
	Label   string
	Options []collectionOption
}

type collectionOption struct {
	Value    string
	Label    string
	Selected bool
}

// collectionGroups lists the switcher's options: the UK, then for each nation
// the nation, its regions and its boards (national → region → board).
func collectionGroups(g *schemas.Geography) []collectionGroup {
	out := []collectionGroup{{Label: "All of Collate", Options: []collectionOption{{Value: UK, Label: "United Kingdom (all nations)"}}}}
	for _, n := range g.Nations {
		grp := collectionGroup{Label: n.Name}
		grp.Options = append(grp.Options, collectionOption{Value: n.Code, Label: n.Name + " (nation)"})
		for _, r := range n.Regions {
			grp.Options = append(grp.Options, collectionOption{Value: r.Code, Label: r.Name + " (region)"})
			for _, b := range r.Boards {
				grp.Options = append(grp.Options, collectionOption{Value: b.Code, Label: r.Name + " › " + b.Name})
			}
		}
		out = append(out, grp)
	}
	return out
}

var navPages = []struct{ label, href string }{
	{"Overview", "/"},
	{"Factors", "/factors"},
	{"Patterns", "/patterns"},
	{"Compare", "/compare"},
	{"Trends", "/trends"},
	{"Recommendations", "/recommendations"},
	{"Reviews", "/reviews"},
	{"Query", "/query"},
	{"Upload", "/upload"},
}

// parseSelection reads ?collection=&from=&to= and rejects what is not a
// known collection or a year. Saved collections ("saved:NAME") are checked by
// analytics when they are used.
func (s *Server) parseSelection(c *gin.Context) (analytics.Selection, error) {
	sel := analytics.Selection{Collection: strings.TrimSpace(c.Query("collection"))}
	if sel.Collection == "" {
		sel.Collection = UK
	}
	if !s.knownCollection(sel.Collection) {
		return sel, errs.E(errs.Invalid, "collection %q is not a nation, region, board or saved collection", sel.Collection)
	}
	for _, p := range []struct {
		key string
		dst *int
	}{{"from", &sel.From}, {"to", &sel.To}} {
		v := strings.TrimSpace(c.Query(p.key))
		if v == "" {
			continue
		}
		y, err := strconv.Atoi(v)
		if err != nil || y < 1900 || y > 2200 {
			return sel, errs.E(errs.Invalid, "%s must be a year such as 2021, not %q", p.key, v)
		}
		*p.dst = y
	}
	if sel.From != 0 && sel.To != 0 && sel.From > sel.To {
		return sel, errs.E(errs.Invalid, "the year range %d to %d is empty: from must not be after to", sel.From, sel.To)
	}
	return sel, nil
}

func (s *Server) knownCollection(code string) bool {
	if code == UK {
		return true
	}
	for _, grp := range s.picker {
		for _, o := range grp.Options {
			if o.Value == code {
				return true
			}
		}
	}
	return strings.HasPrefix(code, analytics.SavedPrefix) && len(code) > len(analytics.SavedPrefix)
}

func (s *Server) collectionLabel(code string) string {
	for _, grp := range s.picker {
		for _, o := range grp.Options {
			if o.Value == code {
				return o.Label
			}
		}
	}
	if strings.HasPrefix(code, analytics.SavedPrefix) {
		return "Saved collection " + strings.TrimPrefix(code, analytics.SavedPrefix)
	}
	return code
}

func selQuery(sel analytics.Selection) url.Values {
	q := url.Values{}
	if sel.Collection != "" && sel.Collection != UK {
		q.Set("collection", sel.Collection)
	}
	if sel.From != 0 {
		q.Set("from", strconv.Itoa(sel.From))
	}
	if sel.To != 0 {
		q.Set("to", strconv.Itoa(sel.To))
	}
	return q
}

// base fills the shared part of a view-model. It never fails: a page that
// cannot read its selection still gets a usable frame around its error.
func (s *Server) base(c *gin.Context, title string) Base {
	sel, err := s.parseSelection(c)
	if err != nil {
		sel = analytics.Selection{Collection: UK}
	}
	b := Base{
		Title:        title,
		Path:         c.Request.URL.Path,
		Query:        selQuery(sel),
		AssetVersion: s.assets.version,
		AssetsBuilt:  s.assets.built(),
		ViewerName:   viewerFrom(c).Name,
		CSRFToken:    csrfTokenFrom(c.Request.Context()),
	}
	for _, n := range navPages {
		cur := n.href == b.Path || (n.href != "/" && strings.HasPrefix(b.Path, n.href+"/"))
		b.Nav = append(b.Nav, NavItem{Label: n.label, Href: n.href, Current: cur})
	}
	b.Picker = Picker{Selected: sel.Collection, From: sel.From, To: sel.To, MinYear: 2000, MaxYear: s.opts.Now().Year(),
		Label: s.collectionLabel(sel.Collection), ShowPicker: true, AllYearsNote: !viewerFrom(c).SeesAll()}
	for _, grp := range s.pickerGroups(c) {
		g := collectionGroup{Label: grp.Label}
		for _, o := range grp.Options {
			o.Selected = o.Value == sel.Collection
			g.Options = append(g.Options, o)
		}
		b.Picker.Groups = append(b.Picker.Groups, g)
	}
	return b
}
