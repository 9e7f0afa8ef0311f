package analytics

import (
	"github.com/collate-project/collate/ingest/errs"
)

// Role is what a viewer may see. The access-control layer maps accounts and
// tokens to roles; analytics only reads them.
type Role string

// The roles of issue 5.
const (
	RoleAdmin              Role = "admin"
	RoleNationalResearcher Role = "national_researcher"
	RoleRegionalAnalyst    Role = "regional_analyst"
	RoleBoardMember        Role = "board_member"
	RolePublic             Role = "public"
)

// Viewer is who asks. Every query takes one, and scope and suppression follow
// from it:
//
//   - Admin: every collection and every excerpt; figures unsuppressed when
//     Unsuppressed is set, suppressed otherwise (to preview what others see).
//   - National researcher: every collection; figures suppressed unless
//     Unsuppressed is set, which the caller sets only for an explicit grant.
//     Excerpts and review lists only with that grant, since a list of reviews
//     with their boards would reveal every suppressed board-level count.
//   - Regional analyst (Region set): full detail, excerpts included, for any
//     collection inside Region; suppressed figures everywhere else.
//   - Board member (Board set): full detail for Board; suppressed figures
//     everywhere else.
//   - Public: suppressed aggregate figures only; no excerpts.
type Viewer struct {
	Role         Role   `json:"role"`
	Board        string `json:"board,omitempty"`  // board_member: the board in scope
	Region       string `json:"region,omitempty"` // regional_analyst: the region in scope
	Unsuppressed bool   `json:"unsuppressed,omitempty"`
	Name         string `json:"name,omitempty"` // who, for logs only
}

// Check reports whether the viewer is well formed: a known role, the scope the
// role needs, and an unsuppressed grant only where the role allows one.
func (v Viewer) Check() error {
	switch v.Role {
	case RoleAdmin, RoleNationalResearcher, RolePublic:
	case RoleRegionalAnalyst:
		if v.Region == "" {
			return errs.E(errs.Forbidden, "a regional analyst needs a region")
		}
	case RoleBoardMember:
		if v.Board == "" {
			return errs.E(errs.Forbidden, "a board member needs a board")
		}
	case "":
		return errs.E(errs.Unauthenticated, "no viewer given")
	default:
		return errs.E(errs.Forbidden, "unknown role %q", string(v.Role))
	}
	if v.Unsuppressed && v.Role != RoleAdmin && v.Role != RoleNationalResearcher {
		return errs.E(errs.Forbidden, "role %s may not see unsuppressed figures", v.Role)
	}
	return nil
}

// seesAll reports whether suppression is lifted everywhere for this viewer.
func (v Viewer) seesAll() bool {
	return v.Unsuppressed && (v.Role == RoleAdmin || v.Role == RoleNationalResearcher)
}

// SeesAll reports whether no figure is ever withheld from this viewer, so
// that every view is open to any range of years.
func (v Viewer) SeesAll() bool { return v.seesAll() }
