package imagestore

// Hosts are where builds push and where users pull the same images from.
type Hosts struct {
	Push string
	Pull string
}
