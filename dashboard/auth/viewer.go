package auth

import "github.com/collate-project/collate/analytics"

// Viewer returns the analytics viewer for p: the one value every analytics
// query takes, and from which analytics enforces scope and suppression. The
// mapping is one to one: a board member's Region is left out because
// analytics scopes board members by Board alone.
func (p Principal) Viewer() analytics.Viewer {
	v := analytics.Viewer{Role: analytics.Role(p.Role), Name: p.Actor()}
	switch p.Role {
	case RoleRegionalAnalyst:
		v.Region = p.Region
	case RoleBoardMember:
		v.Board = p.Board
	case RoleAdmin, RoleNationalResearcher:
		v.Unsuppressed = p.Unsuppressed
	default:
		// Anything else, including the zero Principal, sees what the public
		// sees, never more.
		v = analytics.Viewer{Role: analytics.RolePublic, Name: p.Actor()}
	}
	return v
}
