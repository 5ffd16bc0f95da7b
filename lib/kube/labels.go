package kube

// Labels and annotations the deployer puts on the objects it makes: build
// Jobs, their contexts and temporary Secrets. Selection is always by label,
// never by name.
const (
	LabelComponent = "app.kubernetes.io/component"
	Component      = "runtime-builder"
	// LabelUpstreamComponent carries Component too: upstream's tooling
	// (the end-to-end test of ops ide deploy) counts build Jobs by it.
	LabelUpstreamComponent = "openserverless.apache.org/component"
	LabelUser              = "openserverless.apache.org/user"
	LabelBuildID           = "openserverless.apache.org/build-id"
	LabelKind              = "openserverless.apache.org/kind"

	AnnotationImage      = "openserverless.apache.org/image"
	AnnotationSource     = "openserverless.apache.org/source"
	AnnotationFileSHA256 = "openserverless.apache.org/file-sha256"
	AnnotationBuildID    = "openserverless.apache.org/build-id"
)
