package ingest

// Export is one review export in format collate.review/1, as decoded from JSON
// or converted from a workbook. Pointers and empty strings mark fields that were
// not recorded; tri-state answers say "not_recorded" explicitly.
type Export struct {
	Format          string           `json:"format"`
	Review          Review           `json:"review"`
	Episodes        []Episode        `json:"episodes"`
	Patterns        []Pattern        `json:"patterns,omitempty"`
	Recommendations []Recommendation `json:"recommendations,omitempty"`
}

// Review describes the review as a whole.
type Review struct {
	ID                  string         `json:"id"`
	Board               string         `json:"board"`
	Region              string         `json:"region"`
	Nation              string         `json:"nation"`
	Kind                string         `json:"kind"`
	Questions           []string       `json:"questions"`
	Completed           Completed      `json:"completed"`
	Agencies            []string       `json:"agencies"`
	Participants        []Participant  `json:"participants,omitempty"`
	FamilyParticipation string         `json:"family_participation,omitempty"`
	DialogueStages      *DialogueStage `json:"dialogue_stages,omitempty"`
	Frame               FrameRef       `json:"frame"`
	Coding              Coding         `json:"coding"`
}

// Review kinds, following the seed's reasons for starting a review.
const (
	KindStatutory  = "statutory"
	KindRoutine    = "routine"
	KindInnovation = "innovation"
	KindPositive   = "positive"
)

// ReviewKinds lists the kinds in display order.
var ReviewKinds = []string{KindStatutory, KindRoutine, KindInnovation, KindPositive}

// Completed is when the review was finished; the month is optional.
type Completed struct {
	Year  int  `json:"year"`
	Month *int `json:"month,omitempty"`
}

// Participant is a person who took part, by role and agency only.
type Participant struct {
	Role   string `json:"role"`
	Agency string `json:"agency"`
}

// DialogueStage records which of the seed's three stages of dialogue with participants were held.
type DialogueStage struct {
	Preliminary string `json:"preliminary,omitempty"`
	Interim     string `json:"interim,omitempty"`
	Final       string `json:"final,omitempty"`
}

// Tri-state answers.
const (
	Yes         = "yes"
	No          = "no"
	NotRecorded = "not_recorded"
)

// FrameRef names the coding frame and version an export is coded against.
type FrameRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Coding says who coded the review and how far a second coder agreed.
type Coding struct {
	CoderRole            string     `json:"coder_role"`
	Method               string     `json:"method"`
	SecondCoderAgreement *Agreement `json:"second_coder_agreement,omitempty"`
}

// Agreement is a second coder's agreement with the first.
type Agreement struct {
	Measure string  `json:"measure"`
	Value   float64 `json:"value"`
}

// KeyPracticeEpisode is one row of the seed's Appendix 4 table.
type KeyPracticeEpisode = Episode

// Episode is a key practice episode with its contributory factors.
type Episode struct {
	Number       int                  `json:"number"`
	Title        string               `json:"title"`
	Description  string               `json:"description"`
	Significance string               `json:"significance,omitempty"`
	Adequacy     string               `json:"adequacy"`
	Agencies     []string             `json:"agencies,omitempty"`
	Evidence     []Evidence           `json:"evidence,omitempty"`
	Factors      []ContributoryFactor `json:"factors"`
}

// Judgements of the adequacy of practice in an episode.
const (
	AdequacyGood        = "good"
	AdequacyProblematic = "problematic"
	AdequacyMixed       = "mixed"
	AdequacyNotJudged   = "not_judged"
)

// Evidence is one source an episode draws on.
type Evidence struct {
	Kind string `json:"kind"`
	Note string `json:"note,omitempty"`
}

// ContributoryFactor is a factor coded against the frame for one episode.
type ContributoryFactor struct {
	Code      string `json:"code"`
	Detail    string `json:"detail,omitempty"`
	Influence string `json:"influence"`
}

// Influences of a factor on practice.
const (
	InfluenceGood        = "supported_good"
	InfluenceProblematic = "made_problematic_more_likely"
)

// Pattern is an underlying pattern from the typology.
type Pattern struct {
	Number             int    `json:"number"`
	Type               string `json:"type"`
	SubPattern         string `json:"sub_pattern,omitempty"`
	ProposedSubPattern string `json:"proposed_sub_pattern,omitempty"`
	Nature             string `json:"nature"`
	Priority           *int   `json:"priority,omitempty"`
	Widespread         string `json:"widespread,omitempty"`
	Relevance          string `json:"relevance,omitempty"`
	Summary            string `json:"summary,omitempty"`
	Episodes           []int  `json:"episodes"`
}

// Natures of a pattern.
const (
	NatureConstructive = "constructive"
	NatureUnsafe       = "unsafe"
)

// Recommendation is one of the review's recommendations.
type Recommendation struct {
	Number   int    `json:"number"`
	Kind     int    `json:"kind"`
	Level    string `json:"level"`
	Text     string `json:"text"`
	Patterns []int  `json:"patterns,omitempty"`
}
