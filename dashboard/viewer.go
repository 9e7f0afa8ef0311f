package dashboard

// Viewer is who is asking. Until package analytics publishes its Viewer this
// is the dashboard's own stand-in.
type Viewer struct {
	Name string
}
