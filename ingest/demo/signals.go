package demo

import "fmt"

// The planted effects. They are the single source for the generator, for
// PlantedSignals and for the tests that check the signals can be found.

type regionEffect struct {
	code   string
	region string // a region code, or a nation code meaning all its regions
	factor float64
}

var regionEffects = []regionEffect{
	{"FL.WORK.03", "ENG-LDN", 4},
	{"LS.RES.03", "WLS", 4},
	{"FL.ROLE.01", "SCT-N", 3},
}

// trend multiplies a factor's weight from `from` in the first year to `to` in
// the last, linearly; with lastYears > 0 it is instead `to` in the last
// lastYears years and 1 before.
type trend struct {
	code      string
	from, to  float64
	lastYears int
}

var trends = []trend{
	{"NG.POL.04", 0.5, 4, 0},
	{"FL.IA.04", 1, 3, 4},
	{"LS.ORG.04", 2, 0.5, 0},
}

type pair struct{ code, partner string }

// pairProbability is how often the partner is coded with its factor.
const pairProbability = 0.7

var pairs = []pair{
	{"FL.WORK.03", "FL.TEAM.02"},
	{"FL.FAM.05", "FL.FAM.04"},
}

// The repeated lesson.
const (
	p61Code             = "P6.1"
	p61Share            = 0.6
	p61SharePositive    = 0.3
	proposedShare       = 0.08
	constructiveDefault = 0.25
)

// constructiveShare is how often a pattern is constructive, by review kind.
var constructiveShare = map[string]float64{
	"statutory": constructiveDefault, "routine": 0.3, "innovation": 0.45, "positive": 0.65,
}

// Signal is one effect planted in the demo set, for documentation and for
// tests of the analytics that should find it.
type Signal struct {
	Kind        string  // "region", "trend", "recent", "pair" or "pattern"
	Code        string  // factor or pattern code
	Partner     string  // for pairs: the factor that travels with Code
	Where       string  // for region effects: region code, or nation code for all its regions
	From, To    float64 // weight multipliers: trend from first to last year; region and recent use To
	LastYears   int     // for recent effects: how many final years
	Probability float64 // for pairs and patterns: how often
	Description string
}

// PlantedSignals lists the signals the generator plants, whatever the frame;
// codes the frame does not have are simply not planted.
func PlantedSignals() []Signal {
	var out []Signal
	for _, e := range regionEffects {
		out = append(out, Signal{Kind: "region", Code: e.code, Where: e.region, From: 1, To: e.factor,
			Description: fmt.Sprintf("%s weighs ×%g in %s", e.code, e.factor, e.region)})
	}
	for _, t := range trends {
		if t.lastYears > 0 {
			out = append(out, Signal{Kind: "recent", Code: t.code, From: t.from, To: t.to, LastYears: t.lastYears,
				Description: fmt.Sprintf("%s weighs ×%g in the last %d years", t.code, t.to, t.lastYears)})
			continue
		}
		out = append(out, Signal{Kind: "trend", Code: t.code, From: t.from, To: t.to,
			Description: fmt.Sprintf("%s weighs ×%g in the first year rising or falling linearly to ×%g in the last", t.code, t.from, t.to)})
	}
	for _, p := range pairs {
		out = append(out, Signal{Kind: "pair", Code: p.code, Partner: p.partner, Probability: pairProbability,
			Description: fmt.Sprintf("%s is coded with %s in the same episode with probability %g", p.partner, p.code, pairProbability)})
	}
	out = append(out, Signal{Kind: "pattern", Code: p61Code, Probability: p61Share,
		Description: fmt.Sprintf("%s unsafe in %g of reviews (%g of positive reviews), every board and year", p61Code, p61Share, p61SharePositive)})
	return out
}
