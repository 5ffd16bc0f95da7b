package nodeagent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	certutil "k8s.io/client-go/util/cert"
)

// startLogServer serves the kubelet's container log endpoint over HTTPS on
// 127.0.0.1 with a certificate made now. The API server reaches it for
// pods/log: it verifies a kubelet's certificate only when it is given
// --kubelet-certificate-authority, which envtest does not set.
func (a *Agent) startLogServer() (*http.Server, int32, error) {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(hostIP, []net.IP{net.ParseIP(hostIP)}, []string{"localhost"})
	if err != nil {
		return nil, 0, fmt.Errorf("making the log server's certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, 0, fmt.Errorf("loading the log server's certificate: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		return nil, 0, fmt.Errorf("listening for log requests: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", a.serveContainerLogs)
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // a client hanging up is no failure of this node
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.o.Log.WithError(err).Error("log server stopped")
		}
	}()
	return srv, int32(ln.Addr().(*net.TCPAddr).Port), nil
}

// serveContainerLogs answers GET /containerLogs/{namespace}/{pod}/{container}
// as the kubelet does, with its status codes and messages: 404 for an
// unknown pod or container, 400 for a container that has no log yet. The
// container is an init container or the container: the API server always
// names one (for a pods/log request without one it picks the pod's only
// container, or refuses the request as ambiguous itself).
func (a *Agent) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	ns, name, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	o, err := parseLogOptions(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	pod, err := a.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("pod %q does not exist", name))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if !hasContainer(pod, container) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("container %q not found in pod %q", container, name))
		return
	}
	if err := logStatus(pod, container, o.previous); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	path := logPath(a.o.WorkDir, pod.Namespace, pod.Name, pod.UID, container)
	if _, err := os.Stat(path); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("container %q in pod %q is waiting to start - no logs yet", container, name))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	out := flushWriter{w: w, rc: http.NewResponseController(w)}
	if err := readLogs(r.Context(), path, o, out, a.exited(pod.UID, container)); err != nil {
		a.o.Log.WithError(err).WithField("pod", ns+"/"+name).Warn("serving container log")
	}
}

// writeError answers with a status and a plain-text message, as the
// kubelet does: the API server makes the message that of its own error.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}

// flushWriter sends every write at once, so a followed log streams.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		_ = f.rc.Flush()
	}
	return n, err
}

func hasContainer(pod *v1.Pod, name string) bool {
	for _, cs := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

// logStatus tells, with the kubelet's messages, why a container has no log
// to show; nil when it has one.
func logStatus(pod *v1.Pod, container string, previous bool) error {
	cs := findStatus(pod.Status.InitContainerStatuses, container)
	if cs == nil {
		cs = findStatus(pod.Status.ContainerStatuses, container)
	}
	switch {
	case cs == nil:
		return fmt.Errorf("container %q in pod %q is not available", container, pod.Name)
	case previous:
		return fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
	case cs.State.Running != nil:
		return nil
	case cs.State.Terminated != nil:
		if cs.State.Terminated.ContainerID == "" {
			return fmt.Errorf("container %q in pod %q is terminated", container, pod.Name)
		}
		return nil
	case cs.State.Waiting != nil:
		switch reason := cs.State.Waiting.Reason; reason {
		case "ErrImagePull":
			return fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", container, pod.Name)
		case "ImagePullBackOff":
			return fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", container, pod.Name)
		default:
			return fmt.Errorf("container %q in pod %q is waiting to start: %v", container, pod.Name, reason)
		}
	}
	return fmt.Errorf("container %q in pod %q is waiting to start - no logs yet", container, pod.Name)
}
