package analytics

import "time"

// Provenance says where a result came from, so a figure can be cited and
// reproduced: the state of the data, the frame, the collection and years, and
// the disclosure policy that was applied.
type Provenance struct {
	DataVersion string     `json:"data_version"` // changes whenever any review is added, superseded or withdrawn
	Reviews     int        `json:"-"`            // current reviews in the whole store, for logs
	Frame       string     `json:"frame"`        // id@version
	Collection  string     `json:"collection"`   // the collection reference asked for
	From        int        `json:"from,omitempty"`
	To          int        `json:"to,omitempty"`
	Policy      PolicyNote `json:"policy"`
	Viewer      Role       `json:"viewer"`
	GeneratedAt time.Time  `json:"generated_at"`
}

// PolicyNote is the disclosure policy a result was produced under.
type PolicyNote struct {
	K          int  `json:"k"`                  // minimum distinct reviews behind a published figure
	Rounding   int  `json:"rounding,omitempty"` // base to which regional and national totals are rounded; 0 when not rounded
	Suppressed bool `json:"suppressed"`         // whether suppression applied to this result (false inside the viewer's own scope)
}
