package gateway

import (
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
	// (e.g. "start" → "build/start/exec"): New deploys each as a final web
	// action of package "builder" in the system namespace, for tests that
	// run executables they built. The local stack deploys the package zips
	// with wskdeploy through the OpenWhisk API instead (see the package
	// documentation); nil deploys nothing.
	Actions map[string]string
	// Inputs are the bound inputs of the package Actions are deployed in,
	// where every lib/config key they leave out is bound to "", as the
	// manifest binds an unset variable. They are final.
	Inputs map[string]any
	// Subjects is the local subject store; nil means a new, empty one.
	Subjects *Subjects
	// SystemNamespace is the namespace of the actions; "" means "whisk-system".
	SystemNamespace string
	// Runtimes maps each action kind the gateway runs to the execution
	// environment its precompiled zips must name in exec.env, as the
	// runtime's OW_EXECUTION_ENV; nil means DefaultRuntimes.
	Runtimes map[string]string
	// Log receives the actions' stdout and stderr (also kept in the
	// activation records) and a line for every failed activation; nil
	// discards them.
	Log io.Writer
	// Env is the environment of the action processes; nil inherits the
	// gateway's own, as a local run expects (KUBECONFIG, HOME, …).
	Env []string
	// Timeout is the time limit of the Actions: the activation's deadline,
	// after which its process is killed. Zero means DefaultTimeout. An
	// action deployed through the API has the limit it was deployed with.
	Timeout time.Duration
	// BlockingWait is how long a request waits for its result before it is
	// answered 202. Zero means DefaultBlockingWait.
	BlockingWait time.Duration
	// PoolSize is the most processes of one action at once, as OpenWhisk
	// runs several containers of an action: a request that finds them all
	// busy starts another, up to this many, then waits for a free one.
	// Zero means DefaultPoolSize.
	PoolSize int
	// MinSchedule is the shortest period a schedule may have, between two
	// fires of an alarm or of a cron annotation; zero means a minute, as
	// cron's. Tests lower it to use second-level cron expressions.
	MinSchedule time.Duration
}

// DefaultRuntimes is the Go runtime the deployer's zips are packed for
// (Taskfile.yml's EXEC_ENV).
var DefaultRuntimes = map[string]string{"go:1.22": "apacheopenserverless/runtime-golang-v1.22"}

// Gateway serves web actions over HTTP as the OpenWhisk controller does. It
// is a development stand-in; see the package documentation.
type Gateway struct {
	namespace   string
	subjects    *Subjects
	log         io.Writer
	env         []string
	poolSize    int
	timeout     time.Duration
	wait        time.Duration
	runtimes    map[string]string
	minSchedule time.Duration
	store       *store
	schedules   *schedules

	mu      sync.Mutex
	srv     *http.Server
	url     string
	started bool
	stopped bool
	workDir string  // where zips are unpacked, made on the first; Stop removes it
	retired []*pool // pools of replaced or deleted actions, still stopping

	inflight sync.WaitGroup // activations running in the background
	stopOnce sync.Once
	stopErr  error
}

// New checks the options and prepares a Gateway; Start runs it.
func New(o Options) (*Gateway, error) {
	g := &Gateway{
		namespace:   o.SystemNamespace,
		subjects:    o.Subjects,
		log:         actionproxy.SharedWriter(o.Log), // one lock for every process and the gateway
		env:         o.Env,
		poolSize:    o.PoolSize,
		timeout:     o.Timeout,
		wait:        o.BlockingWait,
		runtimes:    o.Runtimes,
		minSchedule: o.MinSchedule,
		store:       newStore(),
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
	if g.poolSize <= 0 {
		g.poolSize = DefaultPoolSize
	}
	if g.runtimes == nil {
		g.runtimes = DefaultRuntimes
	}
	if g.minSchedule <= 0 {
		g.minSchedule = time.Minute
	}
	if g.subjects == nil {
		g.subjects = NewSubjects()
	}
	g.schedules = newSchedules(g)
	if _, ok := g.subjects.Token(g.namespace); !ok {
		g.subjects.Add(g.namespace)
	}
	g.addAlarms()
	if err := g.deployExecutables(o.Actions, o.Inputs); err != nil {
		return nil, fmt.Errorf("creating the gateway: %w", err)
	}
	return g, nil
}

// deployExecutables deploys each executable as a final web action of
// package "builder" bound to inputs, every config key included.
func (g *Gateway) deployExecutables(actions map[string]string, inputs map[string]any) error {
	if len(actions) == 0 {
		return nil
	}
	params := keyValues{}
	for _, k := range config.Keys() {
		if _, ok := inputs[k]; !ok {
			params = append(params, keyValue{k, ""})
		}
	}
	for _, k := range sortedKeys(inputs) {
		params = append(params, keyValue{k, inputs[k]})
	}
	g.store.packages["/"+g.namespace+"/"+packageName] = &packageDoc{
		entity: newEntity(g.namespace, packageName), Parameters: params, Binding: map[string]any{},
	}
	kind := sortedKeys(g.runtimes)[0]
	for _, name := range sortedKeys(actions) {
		path := actions[name]
		if name == "" || strings.ContainsAny(name, "/ ") {
			return fmt.Errorf("invalid action name %q", name)
		}
		info, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("action %s: %w", name, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return fmt.Errorf("action %s: %s is not an executable file", name, path)
		}
		q := qname{ns: g.namespace, pkg: packageName, name: name}
		lim := defaultLimits
		lim.Timeout = int(g.timeout.Milliseconds())
		e := newEntity(q.path(), name)
		e.Annotations = keyValues{{"web-export", true}, {"final", true}, {"raw-http", false}, {"exec", kind}}
		g.store.actions[q.String()] = &action{
			q:    q,
			doc:  actionDoc{entity: e, Exec: actionExec{Kind: kind, Binary: true}, Parameters: keyValues{}, Limits: lim},
			pool: newPool(name, path, g.env, g.log, g.poolSize),
		}
	}
	return nil
}

// keyOf returns a key of namespace ns, making one if it has none.
func (g *Gateway) keyOf(ns string) string {
	if token, ok := g.subjects.Token(ns); ok {
		return token
	}
	return g.subjects.Add(ns)
}

// inputsOf returns the parameters bound to an action: its package's, then
// its own.
func (g *Gateway) inputsOf(act *action) map[string]any {
	params := act.doc.Parameters
	if act.q.pkg != "" {
		if p, ok := g.store.pkg(act.q.ns, act.q.pkg); ok {
			params = p.Parameters.merged(act.doc.Parameters)
		}
	}
	return params.asMap()
}

// URL returns the gateway's base URL, "http://127.0.0.1:<port>", once started.
func (g *Gateway) URL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.url
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

// SystemNamespace returns the namespace the system package is deployed in.
func (g *Gateway) SystemNamespace() string { return g.namespace }
