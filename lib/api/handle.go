package api

import (
	"context"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/openwhisk"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Call is one authenticated request, ready for an operation.
type Call struct {
	Request webaction.Request
	Caller  identity.Caller
	Config  config.Config
	Builds  *runtimebuild.Service
	// Registries chooses the registry of the caller's images.
	Registries *userregistry.Selector
	Log        logrus.FieldLogger
}

// Operation serves one kind of request.
type Operation func(ctx context.Context, c Call) (webaction.Response, error)

// Env is what Handle needs from the process: its environment (the __OW_*
// variables of the activation and the fallback settings) and how to reach
// OpenWhisk and Kubernetes. Production uses Process().
type Env struct {
	Lookup   config.Lookup
	Verifier identity.Verifier
	// Kube returns the Kubernetes client for the settings.
	Kube func(config.Config) (kubernetes.Interface, error)
	// ServiceNamespace is the pod's service account namespace, "" outside a cluster.
	ServiceNamespace string
	// Log receives the activation log (stdout of the action).
	Log logrus.FieldLogger
}

// tokens caches verified tokens across the activations of a warm process.
var (
	tokensOnce sync.Once
	tokens     *identity.Cache
)

func tokenCache(ttl time.Duration) *identity.Cache {
	tokensOnce.Do(func() { tokens = identity.NewCache(ttl) })
	return tokens
}

// Process returns the Env of an action process: the real environment,
// OpenWhisk and Kubernetes, and a JSON log on stdout.
func Process() Env {
	log := logrus.New()
	log.SetOutput(os.Stdout)
	log.SetFormatter(&logrus.JSONFormatter{})
	return Env{
		Lookup:           os.LookupEnv,
		Verifier:         openwhisk.Namespaces{},
		Kube:             kube.Client,
		ServiceNamespace: kube.ServiceNamespace(),
		Log:              log,
	}
}

// Handle serves one activation with op and returns the web-action result.
func Handle(env Env, args map[string]any, op Operation) map[string]any {
	return Serve(context.Background(), env, args, op).Map()
}

// Serve is Handle returning the Response, for tests and the gateway.
func Serve(ctx context.Context, env Env, args map[string]any, op Operation) webaction.Response {
	lookup := func(k string) string { v, _ := env.Lookup(k); return v }
	log := env.Log.WithField("activation_id", lookup("__OW_ACTIVATION_ID")).WithField("action", lookup("__OW_ACTION_NAME"))
	ctx, cancel := withDeadline(ctx, lookup("__OW_DEADLINE"))
	defer cancel()

	resp, err := serve(ctx, env, args, op, log)
	if err != nil {
		resp = webaction.FromError(err)
		entry := log.WithField("status", resp.Status)
		if fe := fault.As(err); fe == nil || fe.Kind == fault.Internal || fe.Kind == fault.Unavailable {
			entry.WithError(err).Error("request failed")
		} else {
			entry.WithField("reason", fe.Reason).Info("request refused")
		}
	}
	return resp
}

func serve(ctx context.Context, env Env, args map[string]any, op Operation, log logrus.FieldLogger) (webaction.Response, error) {
	req := webaction.Decode(args)
	cfg, err := config.Load(args, env.Lookup, env.ServiceNamespace)
	if err != nil {
		return webaction.Response{}, fault.Wrap(err, fault.Internal, "ConfigurationError", "The deployer is misconfigured")
	}
	activation := identity.Activation{}
	activation.Namespace, _ = env.Lookup("__OW_NAMESPACE")
	activation.ActionName, _ = env.Lookup("__OW_ACTION_NAME")
	settings := identity.Settings{APIHost: cfg.APIHost}
	// The token check is one call to OpenWhisk: bound it as every call to a
	// dependency is, so a hung API host answers 503 in time.
	verifyCtx, cancelVerify := context.WithTimeout(ctx, cfg.OpenWhiskTimeout)
	caller, err := identity.Resolve(verifyCtx, req, activation, settings, env.Verifier, tokenCache(cfg.AuthCacheTTL))
	cancelVerify()
	if err != nil {
		return webaction.Response{}, err
	}
	log = log.WithField("user", caller.User)
	client, err := env.Kube(cfg)
	if err != nil {
		return webaction.Response{}, fault.Wrap(err, fault.Internal, "ConfigurationError", "The deployer cannot reach Kubernetes")
	}
	svc := runtimebuild.NewService(client, cfg, runtimebuild.WithLogger(log))
	return op(ctx, Call{Request: req, Caller: caller, Config: cfg, Builds: svc, Registries: userregistry.New(client, cfg), Log: log})
}

// withDeadline bounds the context by the activation's deadline (ms since the
// epoch), keeping a second to answer in.
func withDeadline(ctx context.Context, deadline string) (context.Context, context.CancelFunc) {
	ms, err := strconv.ParseInt(deadline, 10, 64)
	if err != nil || ms <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.UnixMilli(ms).Add(-time.Second))
}

// requireMethod refuses a web call with another method; non-web invokes have none.
func requireMethod(req webaction.Request, methods ...string) error {
	if !req.IsWeb() {
		return nil
	}
	for _, m := range methods {
		if req.Method == m {
			return nil
		}
	}
	return fault.New(fault.MethodNotAllowed, "MethodNotAllowed", "Method %s is not allowed here", req.Method)
}
