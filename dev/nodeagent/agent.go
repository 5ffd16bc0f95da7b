package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Defaults of Options.
const (
	DefaultNodeName     = "local-node"
	DefaultMaxPods      = 2
	DefaultMountTimeout = 2 * time.Minute
)

// resync is how often every pod is looked at again, so a failed bind is retried.
const resync = 30 * time.Second

// Options configures an Agent.
type Options struct {
	// Client reaches the API server.
	Client kubernetes.Interface
	// Namespace is the one namespace whose Pods the agent schedules and runs.
	Namespace string
	// Images are the only images the agent runs, by name (as a container's
	// image field names them), each a host binary with what its image says
	// (KanikoExecutor, KanikoWarmer, Crane). A container of any other image
	// leaves its Pod Pending, as after a failed pull.
	Images map[string]Image
	// WorkDir holds the per-pod sandboxes (each removed when its pod ends) and
	// the container logs (removed with their pod).
	WorkDir string
	// InMemory keeps WorkDir in memory: Run deletes what WorkDir holds,
	// mounts a tmpfs on it and unmounts it when it returns (see mountMemory
	// for why).
	InMemory bool
	// NodeName names the Node the agent registers; default DefaultNodeName.
	NodeName string
	// MaxPods bounds the pods running at once; default DefaultMaxPods.
	MaxPods int
	// MountTimeout bounds the wait for the ConfigMaps and Secrets a pod
	// refers to, after which the pod fails; default DefaultMountTimeout.
	MountTimeout time.Duration
	// Prepared, when set, is called with each pod, the name of the container
	// about to start and the host path of that container's root once the
	// root is laid out, before the container starts: tests look inside with it.
	Prepared func(pod *v1.Pod, container, root string)
	// Log receives progress and failures; default: discarded.
	Log logrus.FieldLogger
}

// Agent plays the scheduler and the kubelet of one Node for the Pods of one
// namespace. Create it with New and start it with Run.
type Agent struct {
	o       Options
	unshare string
	slots   chan struct{}
	started atomic.Bool

	// Set by Run before any pod is handled.
	pods      corelisters.PodLister
	events    record.EventRecorder
	scheduler record.EventRecorder

	mu       sync.Mutex
	workers  map[types.UID]*podWorker
	done     map[types.UID]bool // pods handled to their end, kept until deleted
	stopping bool
	wg       sync.WaitGroup
	trashed  atomic.Int64 // sandboxes moved to WorkDir/trash so far
}

// New checks o, applies its defaults and returns an Agent.
func New(o Options) (*Agent, error) {
	switch {
	case o.Client == nil:
		return nil, errors.New("nodeagent: no Kubernetes client")
	case o.Namespace == "":
		return nil, errors.New("nodeagent: no namespace")
	case len(o.Images) == 0:
		return nil, errors.New("nodeagent: no images to run")
	case o.WorkDir == "":
		return nil, errors.New("nodeagent: no work folder")
	}
	for name, img := range o.Images {
		if err := img.check(name); err != nil {
			return nil, fmt.Errorf("nodeagent: %w", err)
		}
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("nodeagent: unshare(1) not found: %w", err)
	}
	if o.NodeName == "" {
		o.NodeName = DefaultNodeName
	}
	if o.MaxPods <= 0 {
		o.MaxPods = DefaultMaxPods
	}
	if o.MountTimeout <= 0 {
		o.MountTimeout = DefaultMountTimeout
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Log = l
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("nodeagent: creating work folder: %w", err)
	}
	return &Agent{
		o: o, unshare: unshare, slots: make(chan struct{}, o.MaxPods),
		workers: map[types.UID]*podWorker{}, done: map[types.UID]bool{},
	}, nil
}

// Run registers the Node, serves container logs and runs the namespace's
// Pods until ctx is done; then it kills what still runs, removes the
// sandboxes and returns nil. It fails only when it cannot start.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("nodeagent: Run called twice")
	}
	if a.o.InMemory {
		unmount, err := mountMemory(a.o.WorkDir)
		if err != nil {
			return fmt.Errorf("nodeagent: %w", err)
		}
		// Runs last, once every sandbox is removed.
		defer func() {
			if err := unmount(); err != nil {
				a.o.Log.WithError(err).Error("unmounting the work folder")
			}
		}()
	}
	factory := informers.NewSharedInformerFactoryWithOptions(a.o.Client, resync, informers.WithNamespace(a.o.Namespace))
	podInformer := factory.Core().V1().Pods()
	a.pods = podInformer.Lister()

	srv, port, err := a.startLogServer()
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := a.registerNode(ctx, port); err != nil {
		return err
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.o.Client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	a.events = broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: a.o.NodeName})
	a.scheduler = broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: "default-scheduler"})

	_, err = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.observe(ctx, obj) },
		UpdateFunc: func(_, obj any) { a.observe(ctx, obj) },
		DeleteFunc: a.forget,
	})
	if err != nil {
		return fmt.Errorf("nodeagent: watching pods: %w", err)
	}
	factory.Start(ctx.Done())
	a.o.Log.WithFields(logrus.Fields{"node": a.o.NodeName, "port": port}).Info("node ready")

	<-ctx.Done()
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	factory.Shutdown()
	a.wg.Wait()
	return nil
}

// podWorker tracks the one goroutine that handles a pod.
type podWorker struct {
	deleted    chan struct{} // closed once the pod is being deleted
	exited     chan struct{} // closed once its containers have stopped, or will never run
	deleteOnce sync.Once
	exitOnce   sync.Once
	gone       atomic.Bool // removed from the API server

	mu    sync.Mutex
	steps map[string]chan struct{} // per container: closed once it has stopped
}

func newPodWorker() *podWorker {
	return &podWorker{deleted: make(chan struct{}), exited: make(chan struct{}), steps: map[string]chan struct{}{}}
}

func (w *podWorker) markDeleted() { w.deleteOnce.Do(func() { close(w.deleted) }) }

// markExited closes exited and the channel of every container.
func (w *podWorker) markExited() {
	w.exitOnce.Do(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		close(w.exited)
		for _, ch := range w.steps {
			if !isClosed(ch) {
				close(ch)
			}
		}
	})
}

// stepDone returns a channel closed once the named container has stopped,
// or once the pod is done.
func (w *podWorker) stepDone(container string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.steps[container]
	if !ok {
		ch = make(chan struct{})
		if isClosed(w.exited) {
			close(ch)
		}
		w.steps[container] = ch
	}
	return ch
}

// stepExited closes the named container's channel.
func (w *podWorker) stepExited(container string) {
	ch := w.stepDone(container)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !isClosed(ch) {
		close(w.steps[container])
	}
}

// takes reports whether the pod is this node's to handle: bound here, or
// waiting for the default scheduler.
func (a *Agent) takes(pod *v1.Pod) bool {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName == a.o.NodeName
	}
	return pod.Status.Phase == v1.PodPending && pod.DeletionTimestamp == nil &&
		len(pod.Spec.SchedulingGates) == 0 &&
		(pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == v1.DefaultSchedulerName)
}

// observe starts a worker for a pod this node takes, or tells the running
// one that its pod is being deleted.
func (a *Agent) observe(ctx context.Context, obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok || !a.takes(pod) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[pod.UID]; ok {
		if pod.DeletionTimestamp != nil {
			w.markDeleted()
		}
		return
	}
	if a.stopping || a.done[pod.UID] || terminal(pod.Status.Phase) {
		return
	}
	w := newPodWorker()
	a.workers[pod.UID] = w
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		settled := a.runPod(ctx, pod.DeepCopy(), w)
		w.markExited()
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.workers, pod.UID)
		switch {
		case w.gone.Load():
			a.removeLogs(pod)
		case settled:
			a.done[pod.UID] = true
		}
	}()
}

// forget handles a pod removed from the API server: its worker stops and
// its logs go, as the kubelet removes a deleted pod's logs.
func (a *Agent) forget(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok || pod.Spec.NodeName != a.o.NodeName {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.done, pod.UID)
	if w, ok := a.workers[pod.UID]; ok {
		w.gone.Store(true)
		w.markDeleted()
		return
	}
	a.removeLogs(pod)
}

func (a *Agent) removeLogs(pod *v1.Pod) {
	if err := os.RemoveAll(podLogDir(a.o.WorkDir, pod.Namespace, pod.Name, pod.UID)); err != nil {
		a.o.Log.WithError(err).Warn("removing pod logs")
	}
}

// exited returns a channel closed once the pod's named container has stopped.
func (a *Agent) exited(uid types.UID, container string) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[uid]; ok {
		return w.stepDone(container)
	}
	closed := make(chan struct{})
	close(closed)
	return closed
}
