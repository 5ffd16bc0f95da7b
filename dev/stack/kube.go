package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Kube is a real API server (envtest: etcd and kube-apiserver) plus the real
// kube-controller-manager running the job, garbagecollector,
// ttl-after-finished, serviceaccount and namespace controllers, all on
// 127.0.0.1.
type Kube struct {
	// Config is a rest.Config for an admin user (group system:masters).
	Config *rest.Config
	// Client is a clientset built from Config.
	Client kubernetes.Interface
	// Kubeconfig is the path of a kubeconfig file for the admin user, for
	// KUBECONFIG or kubectl.
	Kubeconfig string
	// CAFile is the API server's CA certificate (PEM), the ca.crt of
	// service-account token Secrets.
	CAFile string
	// KubeletClient is the API server's client certificate for kubelets and
	// its CA, which a kubelet trusts.
	KubeletClient kubeletClient
	// AuditLog is the API server's audit log (JSON lines, level Metadata)
	// when KubeOptions.Audit is set, else "".
	AuditLog string
	// Dir holds the state (etcd/, apiserver/ certificates, kubeconfigs, pid
	// files) and the logs: etcd.log, kube-apiserver.log,
	// kube-controller-manager.log.
	Dir string

	plane    *envtest.ControlPlane
	audit    bool
	kcm      *child
	pidFiles []string // of etcd and kube-apiserver, written by their launchers
	logs     []*os.File
	tempDir  bool
	log      io.Writer

	stopOnce sync.Once
	stopErr  error
}

// KubeOptions configures StartKube.
type KubeOptions struct {
	// RepoRoot is the repository root, to find tools/build.sh; "" means
	// RepoRoot().
	RepoRoot string
	// Dir is where state and logs are kept; "" means a temporary folder that
	// Stop removes. The etcd data and certificates in Dir are replaced on
	// start: every Kube starts empty.
	Dir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Audit makes the API server write an audit log of every request at
	// level Metadata (who did which verb on which resource) to Kube.AuditLog.
	Audit bool
}

// saSigningKey is the private key, in envtest's certificate folder, that the
// API server signs service-account tokens with and verifies them against
// (its public half is sa-signer.crt).
const saSigningKey = "sa-signer.key"

// Timeouts of StartKube, generous for a 2-core machine under load.
const (
	controlPlaneStartTimeout = 90 * time.Second
	controlPlaneStopTimeout  = 20 * time.Second
	controllersReadyTimeout  = 90 * time.Second
)

// StartKube builds (once per machine) and starts etcd, kube-apiserver and
// kube-controller-manager, and returns once the Job controller has created a
// Pod for a probe Job. The caller must call Stop.
func StartKube(ctx context.Context, o KubeOptions) (_ *Kube, err error) {
	began := time.Now()
	k := &Kube{log: o.Log, Dir: o.Dir, audit: o.Audit}
	if k.log == nil {
		k.log = io.Discard
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, k.Stop())
		}
	}()
	if k.Dir == "" {
		if k.Dir, err = os.MkdirTemp("", "kube-"); err != nil {
			return nil, fmt.Errorf("creating the kube folder: %w", err)
		}
		k.tempDir = true
	}
	if k.Dir, err = filepath.Abs(k.Dir); err != nil {
		return nil, fmt.Errorf("resolving the kube folder: %w", err)
	}
	root := o.RepoRoot
	if root == "" {
		if root, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	bins, err := kubeBinaries(ctx, root, k.Dir, k.log)
	if err != nil {
		return nil, err
	}
	if err := k.startControlPlane(ctx, bins); err != nil {
		return nil, err
	}
	k.CAFile = filepath.Join(k.Dir, "ca.crt")
	if err := os.WriteFile(k.CAFile, k.Config.CAData, 0o644); err != nil {
		return nil, fmt.Errorf("writing the API server's CA: %w", err)
	}
	if k.Client, err = kubernetes.NewForConfig(k.Config); err != nil {
		return nil, fmt.Errorf("creating the admin client: %w", err)
	}
	if err := k.waitDefaultNamespace(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(k.log, "kube: API server at %s (%s since start)\n", k.Config.Host, time.Since(began).Round(time.Millisecond))
	k.Kubeconfig = filepath.Join(k.Dir, "admin.kubeconfig")
	if err := k.KubeconfigFor(k.Config, k.Kubeconfig); err != nil {
		return nil, err
	}
	if err := k.startControllerManager(ctx, bins.controllerManager); err != nil {
		return nil, err
	}
	fmt.Fprintf(k.log, "kube: controllers ready (%s since start)\n", time.Since(began).Round(time.Millisecond))
	return k, nil
}

// startControlPlane starts etcd and kube-apiserver through envtest's
// ControlPlane, both bound to 127.0.0.1, with data and certificates in k.Dir.
// A failed attempt is retried on new ports with fresh data and certificates.
func (k *Kube) startControlPlane(ctx context.Context, bins binaries) error {
	etcdLog, err := k.openLog("etcd.log")
	if err != nil {
		return err
	}
	apiLog, err := k.openLog("kube-apiserver.log")
	if err != nil {
		return err
	}
	k.pidFiles = []string{bins.etcdPidFile, bins.apiServerPidFile}
	for attempt := 1; ; attempt++ {
		err = k.startControlPlaneOnce(bins, etcdLog, apiLog)
		if err == nil || attempt == 3 || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(k.log, "kube: control plane failed to start, trying again: %v\n", err)
	}
	if err != nil {
		return fmt.Errorf("starting etcd and kube-apiserver (logs in %s): %w", k.Dir, err)
	}
	admin, err := k.AddUser("admin", []string{"system:masters"})
	if err != nil {
		return err
	}
	k.Config = admin
	return nil
}

// startControlPlaneOnce makes one attempt at starting etcd and kube-apiserver.
func (k *Kube) startControlPlaneOnce(bins binaries, etcdLog, apiLog io.Writer) error {
	etcdDir, certDir := filepath.Join(k.Dir, "etcd"), filepath.Join(k.Dir, "apiserver")
	for _, d := range []string{etcdDir, certDir} {
		// envtest keeps certificates it finds but then lacks their CA: start clean.
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clearing %s: %w", d, err)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	ports := make([]int, 3)
	for i := range ports {
		var err error
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	etcd := &envtest.Etcd{
		Path:         bins.etcd,
		DataDir:      etcdDir,
		URL:          &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports[0])},
		Out:          etcdLog,
		Err:          etcdLog,
		StartTimeout: controlPlaneStartTimeout,
		StopTimeout:  controlPlaneStopTimeout,
	}
	etcd.Configure().Set("listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(ports[1]))
	api := &envtest.APIServer{
		Path:         bins.apiServer,
		CertDir:      certDir,
		Out:          apiLog,
		Err:          apiLog,
		StartTimeout: controlPlaneStartTimeout,
		StopTimeout:  controlPlaneStopTimeout,
	}
	api.SecureServing.Address = "127.0.0.1"
	api.SecureServing.Port = strconv.Itoa(ports[2])
	// envtest disables the ServiceAccount admission plugin; a real cluster
	// has it, and so do we (the serviceaccount controller feeds it).
	api.Configure().Disable("disable-admission-plugins")
	// As on a cluster: the deployer's Role is enforced with RBAC, a kubelet
	// may touch only its own Node and the Pods bound to it (the Node
	// authorizer and NodeRestriction), and the API server reaches kubelets
	// (pods/log) with a client certificate of its own, at their InternalIP.
	api.Configure().Set("authorization-mode", "Node,RBAC")
	api.Configure().Set("enable-admission-plugins", "NodeRestriction")
	kc, err := writeKubeletClient(certDir)
	if err != nil {
		return err
	}
	k.KubeletClient = kc
	api.Configure().Set("kubelet-client-certificate", kc.CertFile)
	api.Configure().Set("kubelet-client-key", kc.KeyFile)
	api.Configure().Set("kubelet-preferred-address-types", "InternalIP")
	if k.audit {
		policy, err := writeAuditPolicy(k.Dir)
		if err != nil {
			return err
		}
		k.AuditLog = filepath.Join(k.Dir, "audit.log")
		if err := os.Remove(k.AuditLog); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clearing the audit log: %w", err)
		}
		api.Configure().Set("audit-policy-file", policy)
		api.Configure().Set("audit-log-path", k.AuditLog)
		api.Configure().Set("audit-log-format", "json")
		// Written as requests are served, so a test reads what it just did.
		api.Configure().Set("audit-log-mode", "blocking")
	}

	k.plane = &envtest.ControlPlane{Etcd: etcd, APIServer: api}
	return k.plane.Start() // stops what it started when it fails
}

// openLog creates (or truncates) a log file in k.Dir that Stop closes.
func (k *Kube) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(k.Dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating log %s: %w", name, err)
	}
	k.logs = append(k.logs, f)
	return f, nil
}

// waitDefaultNamespace waits until the API server has created namespace
// default, its sign of having finished starting.
func (k *Kube) waitDefaultNamespace(ctx context.Context) error {
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, controlPlaneStartTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := k.Client.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for namespace default: %w", err)
	}
	return nil
}
