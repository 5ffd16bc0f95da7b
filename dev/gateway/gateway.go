package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
	"github.com/apache/openserverless-deployer/lib/config"
)

// Defaults of the Options that have one.
const (
	// DefaultSystemNamespace is the namespace the web actions belong to.
	DefaultSystemNamespace = "whisk-system"
	// DefaultTimeout is OpenWhisk's default action time limit.
	DefaultTimeout = 60 * time.Second
	// DefaultBlockingWait is how long the controller waits for a web action's result.
	DefaultBlockingWait = 60 * time.Second
	// DefaultPoolSize is how many processes of one action may run at once.
	DefaultPoolSize = 4
)

// packageName is the package of the deployer's actions (manifest.yaml).
const packageName = "builder"

// maxEntity is OpenWhisk's limit on a request and on a result: 1 MiB.
const maxEntity = 1 << 20

// Options configure a Gateway.
type Options struct {
	// Actions maps an action name to the path of its built executable
	// (e.g. "start" → "build/start/exec").
	Actions map[string]string
	// Inputs are the package's bound inputs. They are final: a request can
	// never override them.
	Inputs map[string]any
	// Subjects is the local subject store; nil means a new, empty one.
	Subjects *Subjects
	// SystemNamespace is the namespace of the actions; "" means "whisk-system".
	SystemNamespace string
	// Log receives the actions' stdout and stderr (the activation logs) and a
	// line for every failed activation; nil discards them.
	Log io.Writer
	// Env is the environment of the action processes; nil inherits the
	// gateway's own, as a local run expects (KUBECONFIG, HOME, …).
	Env []string
	// Timeout is the action time limit: the activation's deadline, after which
	// its process is killed. Zero means DefaultTimeout.
	Timeout time.Duration
	// BlockingWait is how long a request waits for its result before it is
	// answered 202. Zero means DefaultBlockingWait.
	BlockingWait time.Duration
	// PoolSize is the most processes of one action at once, as OpenWhisk
	// runs several containers of an action: a request that finds them all
	// busy starts another, up to this many, then waits for a free one.
	// Zero means DefaultPoolSize.
	PoolSize int
}

// Gateway serves web actions over HTTP as the OpenWhisk controller does. It
// is a development stand-in; see the package documentation.
type Gateway struct {
	namespace string
	inputs    map[string]any  // bound inputs, every config key included
	final     map[string]bool // names a request may not supply
	subjects  *Subjects
	systemKey string
	log       io.Writer
	pools     map[string]*pool
	timeout   time.Duration
	wait      time.Duration

	mu      sync.Mutex
	srv     *http.Server
	url     string
	started bool
	stopped bool

	inflight sync.WaitGroup // activations running in the background
	stopOnce sync.Once
	stopErr  error
}

// New checks the options and prepares a Gateway; Start runs it.
func New(o Options) (*Gateway, error) {
	if len(o.Actions) == 0 {
		return nil, errors.New("creating the gateway: no actions")
	}
	g := &Gateway{
		namespace: o.SystemNamespace,
		inputs:    map[string]any{},
		final:     map[string]bool{},
		subjects:  o.Subjects,
		log:       actionproxy.SharedWriter(o.Log), // one lock for every process and the gateway
		pools:     map[string]*pool{},
		timeout:   o.Timeout,
		wait:      o.BlockingWait,
	}
	if g.namespace == "" {
		g.namespace = DefaultSystemNamespace
	}
	if g.timeout <= 0 {
		g.timeout = DefaultTimeout
	}
	if g.wait <= 0 {
		g.wait = DefaultBlockingWait
	}
	size := o.PoolSize
	if size <= 0 {
		size = DefaultPoolSize
	}
	if g.subjects == nil {
		g.subjects = NewSubjects()
	}
	for _, name := range sortedKeys(o.Actions) {
		path := o.Actions[name]
		if name == "" || strings.ContainsAny(name, "/ ") {
			return nil, fmt.Errorf("creating the gateway: invalid action name %q", name)
		}
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("creating the gateway: action %s: %w", name, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("creating the gateway: action %s: %s is not an executable file", name, path)
		}
		g.pools[name] = newPool(name, path, o.Env, g.log, size)
	}
	// The manifest binds every setting, "" when unset; all are final.
	for _, k := range config.Keys() {
		g.inputs[k] = ""
	}
	for k, v := range o.Inputs {
		g.inputs[k] = v
	}
	for k := range g.inputs {
		g.final[k] = true
	}
	for _, k := range reserved {
		g.final[k] = true
	}
	if token, ok := g.subjects.Token(g.namespace); ok {
		g.systemKey = token
	} else {
		g.systemKey = g.subjects.Add(g.namespace)
	}
	return g, nil
}

// URL returns the gateway's base URL, "http://127.0.0.1:<port>", once started.
func (g *Gateway) URL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.url
}

// qualifiedName is the fully qualified name of an action, as the activation
// carries it.
func (g *Gateway) qualifiedName(action string) string {
	return "/" + g.namespace + "/" + packageName + "/" + action
}

// logf writes one line to the log, if there is one.
func (g *Gateway) logf(format string, args ...any) {
	if g.log != nil {
		fmt.Fprintf(g.log, "gateway: "+format+"\n", args...)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
