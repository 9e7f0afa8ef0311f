package analytics

import (
	"context"

	"github.com/collate-project/collate/ingest"
)

// Totals are the denominators of a collection: the reviews received, the
// reviews coded with the selected frame and their key practice episodes.
type Totals struct {
	ReviewsReceived Count `json:"reviews_received"`
	ReviewsCoded    Count `json:"reviews_coded"`
	Episodes        Count `json:"episodes"`
}

// ---- Overview and process (items 1 and 6) ----

// Overview holds the headline numbers of a collection.
type Overview struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Totals     Totals         `json:"totals"`
	// Episodes by the adequacy of practice; shares are of episodes judged
	// good or problematic (mixed and not judged are left out of the shares).
	GoodEpisodes        Count  `json:"good_episodes"`
	ProblematicEpisodes Count  `json:"problematic_episodes"`
	MixedEpisodes       Count  `json:"mixed_episodes"`
	NotJudgedEpisodes   Count  `json:"not_judged_episodes"`
	GoodShare           Figure `json:"good_share"`
	ProblematicShare    Figure `json:"problematic_share"`
	// Reviews in which the family took part, and their share of reviews received.
	FamilyInvolved  Count    `json:"family_involved"`
	FamilyShare     Figure   `json:"family_share"`
	FamilyInterval  Interval `json:"family_interval"`
	Patterns        Count    `json:"patterns"`
	Recommendations Count    `json:"recommendations"`
}

// Category is one value of a breakdown of reviews, with its share.
type Category struct {
	Value    string   `json:"value"`
	Reviews  Count    `json:"reviews"`
	Share    Figure   `json:"share"`
	Interval Interval `json:"interval"`
}

// StageRow is one dialogue stage (preliminary, interim, final) by answer.
type StageRow struct {
	Stage  string     `json:"stage"`
	Values []Category `json:"values"` // yes, no, not_recorded
}

// Process holds the review process figures: the mix of review kinds, family
// involvement and the dialogue stages completed. Shares are of reviews received.
type Process struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Reviews    Count          `json:"reviews"`
	Kinds      []Category     `json:"kinds"`
	Family     []Category     `json:"family"`
	Stages     []StageRow     `json:"stages"`
	AllStages  Category       `json:"all_stages"` // reviews that held all three stages
}

// Overview returns the headline numbers of a collection.
func (s *Store) Overview(ctx context.Context, v Viewer, sel Selection) (*Overview, error) {
	return s.overview(ctx, v, sel)
}

// Process returns the review process figures of a collection.
func (s *Store) Process(ctx context.Context, v Viewer, sel Selection) (*Process, error) {
	return s.process(ctx, v, sel)
}

// ---- Recurrence (item 2) ----

// RecurrenceOptions chooses the tree and nodes of a recurrence table.
type RecurrenceOptions struct {
	Tree   string   `json:"tree,omitempty"`   // "factor" (default) or "pattern"
	Depth  int      `json:"depth,omitempty"`  // only nodes at this depth; 0 for every depth
	Codes  []string `json:"codes,omitempty"`  // only these nodes; empty for all
	Splits bool     `json:"splits,omitempty"` // add the splits (influence and adequacy; nature and priority)
}

// Recurrence is how often every node of a frame tree recurs in a collection.
type Recurrence struct {
	Provenance Provenance      `json:"provenance"`
	Collection CollectionInfo  `json:"collection"`
	Tree       string          `json:"tree"`
	Totals     Totals          `json:"totals"`
	Rows       []RecurrenceRow `json:"rows"`
}

// RecurrenceRow is one node of the tree in a collection.
type RecurrenceRow struct {
	Node
	Reviews       Count    `json:"reviews"`        // distinct reviews citing the node or any node under it
	Share         Figure   `json:"share"`          // of reviews coded with the frame
	Interval      Interval `json:"interval"`       // Wilson 95% interval of Share
	ShareReceived Figure   `json:"share_received"` // of reviews received
	Episodes      Count    `json:"episodes"`       // distinct episodes citing it (for patterns: episodes the patterns draw on)
	Mentions      Count    `json:"mentions"`       // factor codings, or pattern instances; for codes without children only (a parent's are a sum, so withheld)
	Splits        []Split  `json:"splits,omitempty"`
}

// Split is a node's figures restricted to one value of a split. Dimensions:
// factors by "influence" (supported_good, made_problematic_more_likely) and by
// "adequacy" of their episodes (good, problematic, mixed, not_judged);
// patterns by "nature" (constructive, unsafe) and "priority" (1, 2, 3, 4+, none).
type Split struct {
	Dim      string   `json:"dim"`
	Value    string   `json:"value"`
	Reviews  Count    `json:"reviews"`
	Share    Figure   `json:"share"` // of reviews coded
	Interval Interval `json:"interval"`
	Episodes Count    `json:"episodes"`
	Mentions Count    `json:"mentions"`
}

// Recurrence counts, for every node of a frame tree, the reviews and episodes
// citing it in a collection, with shares and Wilson intervals.
func (s *Store) Recurrence(ctx context.Context, v Viewer, sel Selection, opt RecurrenceOptions) (*Recurrence, error) {
	return s.recurrence(ctx, v, sel, opt)
}

// BreakdownOptions chooses the places and nodes of a place × node grid.
type BreakdownOptions struct {
	Tree  string   `json:"tree,omitempty"`
	Depth int      `json:"depth,omitempty"` // nodes at this depth when Codes is empty; default the deepest
	Codes []string `json:"codes,omitempty"`
	By    Level    `json:"by,omitempty"` // nation, region or board; default the level under the collection
}

// Breakdown is a grid of shares: the places under a collection by frame nodes (a heatmap).
type Breakdown struct {
	Provenance Provenance       `json:"provenance"`
	Collection CollectionInfo   `json:"collection"`
	By         Level            `json:"by"`
	Tree       string           `json:"tree"`
	Nodes      []Node           `json:"nodes"`
	Places     []BreakdownPlace `json:"places"`
}

// BreakdownPlace is one row of a Breakdown; Cells follow Nodes.
type BreakdownPlace struct {
	Place        CollectionInfo `json:"place"`
	ReviewsCoded Count          `json:"reviews_coded"`
	Cells        []Cell         `json:"cells"`
}

// Cell is one node in one place.
type Cell struct {
	Reviews  Count    `json:"reviews"`
	Share    Figure   `json:"share"`
	Interval Interval `json:"interval"`
}

// Breakdown returns the share of reviews citing each node in each place under a collection.
func (s *Store) Breakdown(ctx context.Context, v Viewer, sel Selection, opt BreakdownOptions) (*Breakdown, error) {
	return s.breakdown(ctx, v, sel, opt)
}

// ---- Comparison (item 3) ----

// CompareOptions chooses what to compare a collection with.
type CompareOptions struct {
	Tree  string `json:"tree,omitempty"`
	Depth int    `json:"depth,omitempty"` // default the deepest level of the tree
	// Reference is a collection reference to compare with; empty means the
	// parent without the collection itself (a region against the rest of its
	// nation, a board against the rest of its region, a nation against the
	// rest of the UK, a custom collection against the rest of the smallest
	// place containing it).
	Reference string `json:"reference,omitempty"`
}

// Comparison sets a collection beside its reference, node by node.
type Comparison struct {
	Provenance    Provenance     `json:"provenance"`
	Collection    CollectionInfo `json:"collection"`
	Reference     CollectionInfo `json:"reference"`
	ReferenceRule string         `json:"reference_rule"` // e.g. "ENG without ENG-NE"
	N             Count          `json:"n"`              // reviews coded in the collection
	RefN          Count          `json:"ref_n"`          // reviews coded in the reference
	Test          string         `json:"test"`           // "fisher_exact_two_sided"
	Adjustment    string         `json:"adjustment"`     // "benjamini_hochberg"
	Rows          []CompareRow   `json:"rows"`
}

// CompareRow is one node of a Comparison. Flag is "over" or "under" only where
// the adjusted p-value is below 0.05.
type CompareRow struct {
	Node
	Reviews    Count  `json:"reviews"`
	Share      Figure `json:"share"`
	RefReviews Count  `json:"ref_reviews"`
	RefShare   Figure `json:"ref_share"`
	Difference Figure `json:"difference"` // Share − RefShare
	Ratio      Figure `json:"ratio"`      // Share / RefShare
	P          Figure `json:"p"`
	PAdjusted  Figure `json:"p_adjusted"`
	Flag       string `json:"flag,omitempty"`
}

// Compare compares a collection with its reference.
func (s *Store) Compare(ctx context.Context, v Viewer, sel Selection, opt CompareOptions) (*Comparison, error) {
	return s.compare(ctx, v, sel, opt)
}

// FunnelOptions chooses the node of a funnel plot.
type FunnelOptions struct {
	Tree string `json:"tree,omitempty"`
	Code string `json:"code"`
	By   Level  `json:"by,omitempty"` // the units plotted; default board
}

// Funnel is funnel-plot data: each unit's share against its number of reviews
// coded, with 95% and 99.8% control limits around the collection's share.
type Funnel struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Node       Node           `json:"node"`
	Target     Figure         `json:"target"` // the collection's share
	Method     string         `json:"method"` // how the limits are computed
	Points     []FunnelPoint  `json:"points"`
	Limits     []FunnelLimit  `json:"limits"`
}

// FunnelPoint is one unit; Position is "above", "below" or "" against the
// 95% limits, and Outside998 marks a unit beyond the 99.8% limits.
type FunnelPoint struct {
	Place      CollectionInfo `json:"place"`
	N          Count          `json:"n"`
	Reviews    Count          `json:"reviews"`
	Share      Figure         `json:"share"`
	Position   string         `json:"position,omitempty"`
	Outside998 bool           `json:"outside_998,omitempty"`
}

// FunnelLimit is the control limits at one denominator.
type FunnelLimit struct {
	N     int     `json:"n"`
	Lo95  float64 `json:"lo95"`
	Hi95  float64 `json:"hi95"`
	Lo998 float64 `json:"lo998"`
	Hi998 float64 `json:"hi998"`
}

// Funnel returns funnel-plot data for one node over the units under a collection.
func (s *Store) Funnel(ctx context.Context, v Viewer, sel Selection, opt FunnelOptions) (*Funnel, error) {
	return s.funnel(ctx, v, sel, opt)
}

// ---- Trends (item 4) ----

// TrendOptions chooses the nodes of a trend view and the emerging window.
type TrendOptions struct {
	Tree      string   `json:"tree,omitempty"`
	Codes     []string `json:"codes,omitempty"`      // empty: every node at Depth
	Depth     int      `json:"depth,omitempty"`      // default the deepest level
	LastYears int      `json:"last_years,omitempty"` // emerging window; default 5
	Alpha     float64  `json:"alpha,omitempty"`      // default 0.05
}

// Trends holds shares by year for a set of nodes.
type Trends struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Tree       string         `json:"tree"`
	Years      []int          `json:"years"`
	Coded      []Count        `json:"coded"` // reviews coded per year
	Test       string         `json:"test"`  // "cochran_armitage"
	Series     []TrendSeries  `json:"series"`
}

// TrendSeries is one node over the years. Emerging means rising significantly
// (one-sided Cochran–Armitage, p < Alpha) over the last LastYears years.
type TrendSeries struct {
	Node
	Points   []TrendPoint `json:"points"`
	Trend    TrendTest    `json:"trend"`  // over every year shown
	Recent   TrendTest    `json:"recent"` // over the emerging window
	Emerging bool         `json:"emerging"`
}

// TrendPoint is one year.
type TrendPoint struct {
	Year     int      `json:"year"`
	Reviews  Count    `json:"reviews"`
	Coded    Count    `json:"coded"`
	Share    Figure   `json:"share"`
	Interval Interval `json:"interval"`
}

// TrendTest is a Cochran–Armitage test for trend in proportions, scores the years.
type TrendTest struct {
	Z         Figure `json:"z"`
	P         Figure `json:"p"`                   // two-sided
	Direction string `json:"direction,omitempty"` // rising, falling, or empty when not significant
}

// Trends returns shares by year with Wilson intervals, a trend test and the emerging flag.
func (s *Store) Trends(ctx context.Context, v Viewer, sel Selection, opt TrendOptions) (*Trends, error) {
	return s.trends(ctx, v, sel, opt)
}

// RepeatedOptions are the parameters of a repeated lesson: a pattern found in
// at least K reviews across at least M boards over at least Y distinct years.
type RepeatedOptions struct {
	K      int    `json:"k,omitempty"`      // default 10
	M      int    `json:"m,omitempty"`      // default 3
	Y      int    `json:"y,omitempty"`      // default 3
	Depth  int    `json:"depth,omitempty"`  // 0: sub-patterns and their details; 1: pattern types
	Nature string `json:"nature,omitempty"` // constructive or unsafe; empty for both
}

// RepeatedLessons lists the patterns that meet the repeated-lesson rule.
type RepeatedLessons struct {
	Provenance Provenance      `json:"provenance"`
	Collection CollectionInfo  `json:"collection"`
	Rule       RepeatedOptions `json:"rule"`
	Lessons    []Lesson        `json:"lessons"`
}

// Lesson is one repeated lesson.
type Lesson struct {
	Node
	Reviews Count `json:"reviews"`
	Boards  int   `json:"boards"`
	Years   int   `json:"years"`
	First   int   `json:"first"` // first year found
	Last    int   `json:"last"`  // last year found
}

// RepeatedLessons returns the patterns found in at least K reviews across at
// least M boards over at least Y years, most recent first.
func (s *Store) RepeatedLessons(ctx context.Context, v Viewer, sel Selection, opt RepeatedOptions) (*RepeatedLessons, error) {
	return s.repeatedLessons(ctx, v, sel, opt)
}

// ---- Relationships (item 5) ----

// CoOccurrenceOptions chooses a co-occurrence network.
type CoOccurrenceOptions struct {
	Within     string `json:"within,omitempty"`      // "episode" (default) or "review"
	Depth      int    `json:"depth,omitempty"`       // factor depth: 3 factors (default), 2 factor types, 1 levels
	Focus      string `json:"focus,omitempty"`       // only pairs with this factor
	MinSupport int    `json:"min_support,omitempty"` // minimum count of a pair; default 1 (k applies on top when suppressing)
	Limit      int    `json:"limit,omitempty"`       // most pairs returned, by count; default 200
}

// CoOccurrence is factor–factor co-occurrence within episodes or reviews.
type CoOccurrence struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Within     string         `json:"within"`
	Depth      int            `json:"depth"`
	Total      Count          `json:"total"` // episodes or reviews coded
	Nodes      []CoNode       `json:"nodes"`
	Pairs      []Pair         `json:"pairs"`
}

// CoNode is a factor with the number of episodes or reviews citing it.
type CoNode struct {
	Node
	Count Count `json:"count"`
}

// Pair is two factors found together. Lift = count·total / (countA·countB);
// Jaccard = count / (countA + countB − count).
type Pair struct {
	A       string `json:"a"`
	B       string `json:"b"`
	Count   Count  `json:"count"`
	Reviews Count  `json:"reviews"` // distinct reviews behind Count
	Support Figure `json:"support"` // Count / Total
	Lift    Figure `json:"lift"`
	Jaccard Figure `json:"jaccard"`
}

// CoOccurrence returns factor pairs found together, with count, lift and Jaccard.
func (s *Store) CoOccurrence(ctx context.Context, v Viewer, sel Selection, opt CoOccurrenceOptions) (*CoOccurrence, error) {
	return s.coOccurrence(ctx, v, sel, opt)
}

// FlowOptions restrict a flow diagram.
type FlowOptions struct {
	Nature string `json:"nature,omitempty"` // constructive or unsafe; empty for both
}

// Flows links factor types to pattern types through the episodes each pattern
// draws on (for a Sankey diagram).
type Flows struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Sources    []Node         `json:"sources"` // factor types
	Targets    []Node         `json:"targets"` // pattern types
	Links      []FlowLink     `json:"links"`
}

// FlowLink is one factor type → pattern type link: the episodes that carry a
// factor of the type and that a pattern of the type draws on.
type FlowLink struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	Episodes Count  `json:"episodes"`
	Reviews  Count  `json:"reviews"`
}

// Flows returns the factor type → pattern type flows of a collection.
func (s *Store) Flows(ctx context.Context, v Viewer, sel Selection, opt FlowOptions) (*Flows, error) {
	return s.flows(ctx, v, sel, opt)
}

// GoodPracticeOptions chooses the factors compared.
type GoodPracticeOptions struct {
	Depth int `json:"depth,omitempty"` // default 3 (factors)
	Limit int `json:"limit,omitempty"` // rows returned, strongest first; 0 for all
}

// GoodPractice ranks the factors by how much more often they appear in good
// than in problematic episodes: what supports good practice.
type GoodPractice struct {
	Provenance          Provenance     `json:"provenance"`
	Collection          CollectionInfo `json:"collection"`
	GoodEpisodes        Count          `json:"good_episodes"`
	ProblematicEpisodes Count          `json:"problematic_episodes"`
	Test                string         `json:"test"`
	Rows                []PracticeRow  `json:"rows"`
}

// PracticeRow is one factor. OddsRatio compares the odds of a good episode
// with and without the factor; Leaning is "good" or "problematic" where the
// BH-adjusted p-value is below 0.05.
type PracticeRow struct {
	Node
	Good        Count  `json:"good"`        // good episodes citing the factor
	Problematic Count  `json:"problematic"` // problematic episodes citing it
	GoodShare   Figure `json:"good_share"`  // Good / (Good + Problematic)
	OddsRatio   Figure `json:"odds_ratio"`
	P           Figure `json:"p"`
	PAdjusted   Figure `json:"p_adjusted"`
	Leaning     string `json:"leaning,omitempty"`
}

// GoodPractice returns the factors most associated with good rather than problematic episodes.
func (s *Store) GoodPractice(ctx context.Context, v Viewer, sel Selection, opt GoodPracticeOptions) (*GoodPractice, error) {
	return s.goodPractice(ctx, v, sel, opt)
}

// ---- Recommendations (item 6) ----

// Recommendations holds the recommendations of a collection by kind × level
// and by pattern type.
type Recommendations struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Total      Count          `json:"total"`   // recommendations
	Reviews    Count          `json:"reviews"` // reviews with at least one
	Kinds      []int          `json:"kinds"`   // 1, 2, 3
	Levels     []string       `json:"levels"`  // local, regional, national
	// Grid[i][j] is kind Kinds[i] at level Levels[j].
	Grid          [][]RecCell       `json:"grid"`
	ByKind        []RecCell         `json:"by_kind"`
	ByLevel       []RecCell         `json:"by_level"`
	ByPatternType []PatternTypeRecs `json:"by_pattern_type"`
}

// RecCell counts recommendations and the distinct reviews that made them.
type RecCell struct {
	Kind            int    `json:"kind,omitempty"`
	Level           string `json:"level,omitempty"`
	Recommendations Count  `json:"recommendations"`
	Reviews         Count  `json:"reviews"`
}

// PatternTypeRecs is the recommendations linked to patterns of one type, and
// the share of them addressed to national level.
type PatternTypeRecs struct {
	Node
	Recommendations Count     `json:"recommendations"`
	Reviews         Count     `json:"reviews"`
	National        Count     `json:"national"`
	NationalShare   Figure    `json:"national_share"`
	Interval        Interval  `json:"interval"`
	ByLevel         []RecCell `json:"by_level"`
	ByKind          []RecCell `json:"by_kind"`
}

// Recommendations returns the recommendation figures of a collection.
func (s *Store) Recommendations(ctx context.Context, v Viewer, sel Selection) (*Recommendations, error) {
	return s.recommendations(ctx, v, sel)
}

// ---- Drill-down (item 7) ----

// EpisodeQuery says which episodes to list: those behind a count (a frame
// node, optionally restricted to a split value), optionally narrowed by the
// adequacy of practice and by words in the title or description.
type EpisodeQuery struct {
	Tree     string `json:"tree,omitempty"`
	Code     string `json:"code,omitempty"`  // empty: every episode of the collection
	Dim      string `json:"dim,omitempty"`   // a split dimension of Recurrence
	Value    string `json:"value,omitempty"` // its value
	With     string `json:"with,omitempty"`  // a second factor found in the same episode (co-occurrence drill-down)
	Adequacy string `json:"adequacy,omitempty"`
	Text     string `json:"text,omitempty"` // words to find, case-insensitive
	// Before, when set, lists only reviews stored before this position: the
	// ContinueBefore of an earlier page whose search stopped early.
	Before  int64 `json:"before,omitempty"`
	Page    int   `json:"page,omitempty"` // from 1
	PerPage int   `json:"per_page,omitempty"`
}

// EpisodePage is one page of the episodes behind a figure.
type EpisodePage struct {
	Provenance Provenance     `json:"provenance"`
	Collection CollectionInfo `json:"collection"`
	Query      EpisodeQuery   `json:"query"`
	Total      int            `json:"total"`   // episodes matching
	Reviews    int            `json:"reviews"` // distinct reviews behind them
	// TotalExact is false when a text search stopped counting: Total and
	// Reviews then count the matches found so far, newest first, and there
	// may be more.
	TotalExact bool `json:"total_exact"`
	// ContinueBefore, when a text search stopped before reading the oldest
	// reviews of the collection, is the Before that searches on from there.
	ContinueBefore int64            `json:"continue_before,omitempty"`
	Page           int              `json:"page"`
	PerPage        int              `json:"per_page"`
	Pages          int              `json:"pages"`
	Episodes       []EpisodeExcerpt `json:"episodes"`
}

// EpisodeExcerpt is one key practice episode as a drill-down shows it.
type EpisodeExcerpt struct {
	ReviewID  string   `json:"review_id"`
	Version   int      `json:"version"`
	Year      int      `json:"year"`
	Board     string   `json:"board"`
	BoardName string   `json:"board_name"`
	Kind      string   `json:"kind"`
	Number    int      `json:"number"`
	Title     string   `json:"title"`
	Excerpt   string   `json:"excerpt"` // the description, shortened and screened
	Adequacy  string   `json:"adequacy"`
	Factors   []string `json:"factors"` // factor codes cited in the episode

	key int64 // the review's key in the store, for reading its factors
}

// Episodes returns the episodes behind a figure, a page at a time, most
// recently stored first. Only a viewer with full detail over the whole
// collection may drill down; anyone else gets a Forbidden error.
func (s *Store) Episodes(ctx context.Context, v Viewer, sel Selection, q EpisodeQuery) (*EpisodePage, error) {
	return s.episodes(ctx, v, sel, q)
}

// ---- Reviews (for the dashboard's review list and review page) ----

// ReviewQuery filters the review list.
type ReviewQuery struct {
	Kinds    []string `json:"kinds,omitempty"`
	Agencies []string `json:"agencies,omitempty"`
	Text     string   `json:"text,omitempty"` // words in the review ID, questions or recommendations
	Page     int      `json:"page,omitempty"`
	PerPage  int      `json:"per_page,omitempty"`
	// NoAgencyFacet leaves out the agencies facet, the one facet that reads
	// every review of the collection (no aggregate keeps agencies): about
	// 120 to 400 ms for the UK at 200,000 reviews.
	NoAgencyFacet bool `json:"no_agency_facet,omitempty"`
}

// ReviewPage is one page of the review list with its facets.
type ReviewPage struct {
	Provenance Provenance      `json:"provenance"`
	Collection CollectionInfo  `json:"collection"`
	Total      int             `json:"total"`
	Page       int             `json:"page"`
	PerPage    int             `json:"per_page"`
	Pages      int             `json:"pages"`
	Reviews    []ReviewSummary `json:"reviews"`
	Facets     ReviewFacets    `json:"facets"`
}

// ReviewSummary is one review in a list.
type ReviewSummary struct {
	ID                  string   `json:"id"`
	Version             int      `json:"version"`
	Board               string   `json:"board"`
	BoardName           string   `json:"board_name"`
	Region              string   `json:"region"`
	Nation              string   `json:"nation"`
	Kind                string   `json:"kind"`
	Year                int      `json:"year"`
	Agencies            []string `json:"agencies"`
	Episodes            int      `json:"episodes"`
	Patterns            int      `json:"patterns"`
	Recommendations     int      `json:"recommendations"`
	FamilyParticipation string   `json:"family_participation"`
	Frame               string   `json:"frame"`
}

// ReviewFacets counts the reviews matching the query by each facet value.
type ReviewFacets struct {
	Nations  []FacetValue `json:"nations"`
	Regions  []FacetValue `json:"regions"`
	Boards   []FacetValue `json:"boards"`
	Years    []FacetValue `json:"years"`
	Kinds    []FacetValue `json:"kinds"`
	Agencies []FacetValue `json:"agencies"`
}

// FacetValue is one value of a facet.
type FacetValue struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// ReviewDetail is one review as stored: its summary and the canonical export.
type ReviewDetail struct {
	Provenance Provenance     `json:"provenance"`
	Summary    ReviewSummary  `json:"summary"`
	Status     string         `json:"status"`
	Export     *ingest.Export `json:"export"`
}

// Reviews lists the reviews of a collection with facets. Like drill-down it
// needs full detail over the collection.
func (s *Store) Reviews(ctx context.Context, v Viewer, sel Selection, q ReviewQuery) (*ReviewPage, error) {
	return s.reviews(ctx, v, sel, q)
}

// Review returns the current version of one review; NotFound when it does not
// exist or lies outside the viewer's scope.
func (s *Store) Review(ctx context.Context, v Viewer, id string) (*ReviewDetail, error) {
	return s.review(ctx, v, id)
}
