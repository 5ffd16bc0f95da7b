package api

import (
	"os"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/openwhisk"
)

// Env is what Serve needs from the process: its environment (the __OW_*
// variables of the activation and the fallback settings), how to reach
// OpenWhisk, and what the process keeps across activations. Production uses
// Process(); tests make their own.
type Env struct {
	Lookup   config.Lookup
	Verifier identity.Verifier
	// ServiceNamespace is the pod's service account namespace, "" outside a cluster.
	ServiceNamespace string
	// Log receives the activation log (stdout of the action).
	Log logrus.FieldLogger
	// Tokens remembers verified tokens across the activations the Env
	// serves, each for the TTL of the activation's settings; nil remembers
	// nothing.
	Tokens *identity.Cache
}

// serviceAccountNamespaceFile holds the namespace of the pod's service account.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// process is made on the first activation: an action's Main calls Process
// on every activation, and the token cache must outlive each of them.
var process = sync.OnceValue(func() Env {
	log := logrus.New()
	log.SetOutput(os.Stdout)
	log.SetFormatter(&logrus.JSONFormatter{})
	return Env{
		Lookup:           os.LookupEnv,
		Verifier:         openwhisk.Namespaces{},
		ServiceNamespace: serviceNamespace(),
		Log:              log,
		Tokens:           identity.NewCache(),
	}
})

// Process returns the Env of an action process, the same for each of its
// activations: the real environment, OpenWhisk, a JSON log on stdout and
// one token cache.
func Process() Env { return process() }

// serviceNamespace returns the namespace of the pod's service account, or ""
// outside a cluster.
func serviceNamespace() string {
	b, err := os.ReadFile(serviceAccountNamespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
