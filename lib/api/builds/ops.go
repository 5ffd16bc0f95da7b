package builds

import (
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// Ops serves the operations on builds; its methods are api.Operations.
type Ops struct {
	// Kube returns the Kubernetes client for the settings.
	Kube func(config.Config) (kubernetes.Interface, error)
}

// Process returns the Ops of an action process: the client the settings
// name (kube.Client).
func Process() Ops { return Ops{Kube: kube.Client} }

// handlers hold one call's build service; their methods are what the
// routing tables name.
type handlers struct {
	svc *runtimebuild.Service
}

// client makes the call's Kubernetes client. It comes before routing, as
// it always has: a deployer that cannot reach Kubernetes says so first.
func (o Ops) client(c api.Call) (kubernetes.Interface, error) {
	client, err := o.Kube(c.Config)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "ConfigurationError", "The deployer cannot reach Kubernetes")
	}
	return client, nil
}

// handlers makes the call's build service.
func (o Ops) handlers(c api.Call) (handlers, error) {
	client, err := o.client(c)
	if err != nil {
		return handlers{}, err
	}
	return handlers{svc: runtimebuild.NewService(client, c.Config, runtimebuild.WithLogger(c.Log))}, nil
}
