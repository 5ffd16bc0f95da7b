package api

import (
	"context"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Call is one authenticated request, ready for an operation.
type Call struct {
	Request webaction.Request
	Caller  identity.Caller
	Config  config.Config
	Log     logrus.FieldLogger
}

// Operation serves one kind of request.
type Operation func(ctx context.Context, c Call) (webaction.Response, error)

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

// serve loads the settings and resolves the caller; what an operation
// needs beyond them (a Kubernetes client, a registry) it makes itself.
func serve(ctx context.Context, env Env, args map[string]any, op Operation, log logrus.FieldLogger) (webaction.Response, error) {
	req := webaction.Decode(args)
	cfg, err := config.Load(args, env.Lookup, env.ServiceNamespace)
	if err != nil {
		return webaction.Response{}, fault.Wrap(err, fault.Internal, "ConfigurationError", "The deployer is misconfigured")
	}
	activation := identity.Activation{}
	activation.Namespace, _ = env.Lookup("__OW_NAMESPACE")
	activation.ActionName, _ = env.Lookup("__OW_ACTION_NAME")
	settings := identity.Settings{APIHost: cfg.APIHost, TokenTTL: cfg.AuthCacheTTL}
	// The token check is one call to OpenWhisk: bound it as every call to a
	// dependency is, so a hung API host answers 503 in time.
	verifyCtx, cancelVerify := context.WithTimeout(ctx, cfg.OpenWhiskTimeout)
	caller, err := identity.Resolve(verifyCtx, req, activation, settings, env.Verifier, env.Tokens)
	cancelVerify()
	if err != nil {
		return webaction.Response{}, err
	}
	return op(ctx, Call{Request: req, Caller: caller, Config: cfg, Log: log.WithField("user", caller.User)})
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
