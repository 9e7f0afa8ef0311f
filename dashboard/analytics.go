package dashboard

// Analytics is the part of package analytics that the dashboard calls. Pages
// and API handlers call the same methods, always with the request's context,
// which carries the Viewer, so scope and suppression are applied there.
type Analytics interface{}
