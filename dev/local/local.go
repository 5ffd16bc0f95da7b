package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/gateway"
	"github.com/apache/openserverless-deployer/dev/pyindex"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/dev/stepimages"
)

// Namespace is the namespace of the build Jobs, as on OpenServerless.
const Namespace = "nuvolaris"

// Options configure Start.
type Options struct {
	// Dir holds the state and logs; it must exist.
	Dir string
	// RepoRoot is the repository root; "" finds it from the working directory.
	RepoRoot string
	// Users are the local OpenWhisk subjects to create (default: "devel").
	Users []string
	// Engine is the build engine the package is deployed with, its
	// build_engine setting ("kaniko" or "layer"); "" leaves the setting
	// unbound, the deployer's default. Either way layer_image names the
	// stack's layer image (Stack.Steps.Layer).
	Engine string
	// Inputs override the settings the local stack deploys the package
	// with (deploy.go), Engine's too.
	Inputs map[string]any
	// MinSchedule is the shortest period an alarm or cron annotation may
	// have (gateway.Options.MinSchedule); zero means a minute.
	MinSchedule time.Duration
	// Log receives progress and the servers' logs; nil discards them.
	Log io.Writer
	// Audit makes the API server keep an audit log (stack.KubeOptions.Audit).
	Audit bool
	// PoolSize is the most processes of one action the gateway runs at
	// once; zero means gateway.DefaultPoolSize.
	PoolSize int
	// Realistic adds the realistic runtimes (RealisticBuilders) to the
	// catalog and serves their package index; the first time on a machine
	// they take minutes to make.
	Realistic bool
	// NodeOnDisk keeps the node's containers (containerd's images and
	// snapshots, the kubelet's volumes and logs) in Dir/node on disk; by
	// default they live in memory (stack.NodeOptions.InMemory).
	NodeOnDisk bool
}

// Stack is the running local stack.
type Stack struct {
	Kube *stack.Kube
	// Bridge is the Pods' network; the registry and the kubelet listen on
	// its gateway.
	Bridge *stack.Bridge
	// Node is the real node (containerd, runc, the kubelet, the scheduler)
	// that runs the build Pods.
	Node *stack.Node
	// Steps are the build steps' images in the registry, pulled by the node.
	Steps    stepimages.Images
	Registry *stack.Registry
	Gateway  *gateway.Gateway
	Subjects *gateway.Subjects
	// Tokens maps each user to its uuid:key.
	Tokens map[string]string
	// Runtimes maps each kind to its fixture runtime (with /bin/extend, user 1001);
	// "noextend" is a runtime without /bin/extend.
	Runtimes map[string]name.Digest
	// Inputs are the settings the package is deployed with, by setting.
	Inputs map[string]any
	// Identity is the deployer's service account of deploy/rbac.yaml, the
	// only Kubernetes credentials the actions get.
	Identity Identity
	// Realistic maps each realistic builder to its runtime, with Options.Realistic.
	Realistic realisticDigests
	// Index serves the python fixture's packages, with Options.Realistic.
	Index *pyindex.Server

	stopOnce sync.Once
}

// Kinds with a fixture runtime each.
var Kinds = []string{"go", "java", "nodejs", "php", "python", "ruby", "dotnet"}

// Start brings the whole stack up; on error it stops what it started.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.RepoRoot == "" {
		if o.RepoRoot, err = stack.RepoRoot(); err != nil {
			return nil, err
		}
	}
	if len(o.Users) == 0 {
		o.Users = []string{"devel"}
	}
	s := &Stack{Tokens: map[string]string{}, Runtimes: map[string]name.Digest{}, Realistic: realisticDigests{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if s.Kube, err = stack.StartKube(ctx, stack.KubeOptions{RepoRoot: o.RepoRoot, Dir: filepath.Join(o.Dir, "kube"), Log: o.Log, Audit: o.Audit}); err != nil {
		return nil, err
	}
	if s.Bridge, err = stack.CreateBridge(ctx); err != nil {
		return nil, err
	}
	// The registry listens where the Pods reach it: the bridge's gateway.
	if s.Registry, err = stack.StartRegistry(ctx, stack.RegistryOptions{Dir: filepath.Join(o.Dir, "registry"), Addr: s.Bridge.Gateway.String(), Log: o.Log}); err != nil {
		return nil, err
	}
	if err := s.pushRuntimes(ctx); err != nil {
		return nil, err
	}
	if err := s.startNode(ctx, o); err != nil {
		return nil, err
	}
	if o.Realistic {
		if err := s.startRealistic(ctx, o); err != nil {
			return nil, err
		}
	}
	if err := s.setUpCluster(ctx); err != nil {
		return nil, err
	}
	if s.Identity, err = InstallRBAC(ctx, s.Kube.Client, o.RepoRoot, Namespace, s.Kube.Config.Host); err != nil {
		return nil, err
	}
	s.Subjects = gateway.NewSubjects()
	for _, u := range o.Users {
		s.Tokens[u] = s.Subjects.Add(u)
	}
	s.Inputs = s.settingsFor(o.Engine, o.Inputs)
	s.Gateway, err = gateway.New(gateway.Options{
		Subjects:    s.Subjects,
		Log:         o.Log,
		Env:         WithoutKubeCredentials(os.Environ()),
		PoolSize:    o.PoolSize,
		MinSchedule: o.MinSchedule,
	})
	if err != nil {
		return nil, err
	}
	if err := s.Gateway.Start(ctx, "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if err := s.deploy(ctx, o.RepoRoot, o.Log); err != nil {
		return nil, err
	}
	return s, nil
}

// pushRuntimes pushes one fixture runtime per kind, and one without /bin/extend.
func (s *Stack) pushRuntimes(ctx context.Context) error {
	for _, k := range append(Kinds, "noextend") {
		d, err := fixtures.Push(ctx, s.Registry.Host, s.Registry.Auth(), fixtures.Runtime{
			Repo: "runtime-" + k, Tag: "local", User: "1001", Extend: k != "noextend",
		})
		if err != nil {
			return err
		}
		s.Runtimes[k] = d
	}
	return nil
}

// Source returns the tagged reference of a kind's fixture runtime.
func (s *Stack) Source(kind string) string { return s.Runtimes[kind].Context().Name() + ":local" }

// WithoutKubeCredentials is environ without any Kubernetes credentials (a
// KUBECONFIG of the developer's shell, say): the environment of the action
// processes, which have only the identity bound as their inputs.
func WithoutKubeCredentials(environ []string) []string {
	var out []string
	for _, kv := range environ {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "KUBECONFIG", "KUBE_HOST", "KUBE_TOKEN", "KUBE_CA":
		default:
			out = append(out, kv)
		}
	}
	return out
}

// startNode pushes the build steps' images to the registry and starts the
// node, which pulls them from there with the platform's pull Secret, as a
// cluster's nodes pull an operator's mirror of them.
func (s *Stack) startNode(ctx context.Context, o Options) (err error) {
	if s.Steps, err = stepimages.Push(ctx, o.RepoRoot, s.Registry.Host, s.Registry.Auth(), o.Log); err != nil {
		return err
	}
	dir := filepath.Join(o.Dir, "node")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := filepath.Join(o.Dir, "pause.tar")
	pause, err := stepimages.PauseTarball(ctx, o.RepoRoot, s.Registry.Host, archive, o.Log)
	if err != nil {
		return err
	}
	s.Node, err = stack.StartNode(ctx, s.Kube, stack.NodeOptions{
		RepoRoot:       o.RepoRoot,
		Dir:            dir,
		Bridge:         s.Bridge,
		PlainHTTP:      []string{s.Registry.Host},
		SandboxImage:   pause.String(),
		SandboxArchive: archive,
		InMemory:       !o.NodeOnDisk,
		Log:            o.Log,
	})
	return err
}

// Stop stops everything Start started, the gateway's actions and the node
// agent's builds first, then the servers (by pid). It is idempotent.
func (s *Stack) Stop() error {
	var errs []string
	s.stopOnce.Do(func() {
		if s.Gateway != nil {
			if err := s.Gateway.Stop(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if s.Node != nil {
			if err := s.Node.Stop(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if s.Index != nil {
			if err := s.Index.Stop(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if s.Registry != nil {
			if err := s.Registry.Stop(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if s.Kube != nil {
			if err := s.Kube.Stop(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if s.Bridge != nil {
			if err := s.Bridge.Delete(context.Background()); err != nil {
				errs = append(errs, err.Error())
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("stopping the local stack: %s", strings.Join(errs, "; "))
	}
	return nil
}

// tool returns the path of a pinned tool binary, building it once per
// machine; the build's progress goes to log.
func tool(ctx context.Context, root, name string, log io.Writer) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tools", "build.sh"), name)
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
