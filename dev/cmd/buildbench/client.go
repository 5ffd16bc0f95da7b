package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/dev/buildstats"
)

// client calls the API as the bench user and reads the cluster.
type client struct {
	base, token string
	kube        kubernetes.Interface
	namespace   string
	// engine is the build engine the stack's package builds with, whose
	// log lines the phases are read from.
	engine string
	// poll is how often a build's status is read.
	poll time.Duration
}

// call sends one JSON request and decodes the JSON answer.
func (c client) call(ctx context.Context, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// measurement is one build, request to final state.
type measurement struct {
	requested, answered, running, ended time.Time
	state                               string
	// failure is the reason and message of a failed build.
	failure             string
	phases              []buildstats.Phase
	firstLine, lastLine time.Time
	events              []string
	memory              buildstats.Memory
	// layerBytes and layerEntries are the size of the layer the layer
	// engine wrote, when it wrote one.
	layerBytes, layerEntries int64
	engine                   string
}

// measure ensures body and follows the build, polling every c.poll.
func (c client) measure(ctx context.Context, body map[string]any) (measurement, error) {
	m := measurement{requested: time.Now(), engine: c.engine}
	code, r, err := c.call(ctx, http.MethodPost, "/ensure", body)
	m.answered = time.Now()
	if err != nil {
		return m, err
	}
	if code != http.StatusAccepted {
		return m, fmt.Errorf("ensure answered %d: %v", code, r)
	}
	id, _ := r["id"].(string)
	job, _ := r["job_name"].(string)
	deadline := time.Now().Add(15 * time.Minute)
	for {
		_, st, err := c.call(ctx, http.MethodGet, "/"+id, nil)
		if err != nil {
			return m, err
		}
		m.state, _ = st["state"].(string)
		if m.state == "running" && m.running.IsZero() {
			m.running = time.Now()
		}
		if m.state == "succeeded" || m.state == "failed" {
			m.ended = time.Now()
			if m.state == "failed" {
				m.failure = fmt.Sprintf("%v: %v", st["reason"], st["message"])
			}
			break
		}
		if time.Now().After(deadline) {
			return m, fmt.Errorf("build %s did not end in 15 minutes", id)
		}
		time.Sleep(c.poll)
	}
	return m, c.readPod(ctx, job, &m)
}

// readPod reads the build Pod's container logs (with timestamps) and events.
func (c client) readPod(ctx context.Context, job string, m *measurement) error {
	pods, err := c.kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil {
		return fmt.Errorf("listing the pods of %s: %w", job, err)
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("job %s has no pod", job)
	}
	pod := pods.Items[0]
	var lines []buildstats.Line
	var containers []string
	for _, ct := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		containers = append(containers, ct.Name)
	}
	for _, name := range containers {
		raw, err := c.kube.CoreV1().Pods(c.namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: name, Timestamps: true}).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("reading the log of %s/%s: %w", pod.Name, name, err)
		}
		lines = append(lines, parseLog(raw, name)...)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	if len(lines) > 0 {
		m.firstLine, m.lastLine = lines[0].Time, lines[len(lines)-1].Time
	}
	evs, err := c.kube.CoreV1().Events(c.namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod.Name})
	if err != nil {
		return fmt.Errorf("listing the events of %s: %w", pod.Name, err)
	}
	sort.SliceStable(evs.Items, func(i, j int) bool { return eventTime(evs.Items[i]).Before(eventTime(evs.Items[j])) })
	var events []buildstats.Event
	for _, e := range evs.Items {
		m.events = append(m.events, fmt.Sprintf("%+.1fs %s", eventTime(e).Sub(m.answered).Seconds(), e.Reason))
		events = append(events, buildstats.Event{
			Time: eventTime(e), Reason: e.Reason, FieldPath: e.InvolvedObject.FieldPath, Message: e.Message,
		})
	}
	if c.engine == engineLayer {
		m.phases = buildstats.LayerPhases(lines, events)
		m.layerBytes, m.layerEntries, _ = buildstats.LayerSize(lines)
	} else {
		m.phases = buildstats.Phases(lines, time.Time{})
	}
	return nil
}

// eventTime is when an event happened (the recorder fills either field).
func eventTime(e corev1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}

// parseLog reads "RFC3339Nano text" lines, as pods/log gives them with
// timestamps=true.
func parseLog(raw []byte, container string) []buildstats.Line {
	var out []buildstats.Line
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		ts, text, _ := strings.Cut(sc.Text(), " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		out = append(out, buildstats.Line{Time: t, Container: container, Text: text})
	}
	return out
}

// print writes one case's figures.
func (m measurement) print(w io.Writer, name string) {
	fmt.Fprintf(w, "\n%s [%s]: %s, request → final state %s (ensure answered in %.0f ms)\n", name, m.engine, m.state,
		seconds(m.ended.Sub(m.requested)), ms(m.answered.Sub(m.requested)))
	for _, r := range m.rows() {
		fmt.Fprintf(w, "  %-30s %s\n", r.name, r.value)
	}
	fmt.Fprintf(w, "  events: %s\n", strings.Join(m.events, ", "))
	fmt.Fprintf(w, "  peak memory: %d MiB RSS of all the build's processes, %d MiB high-water mark of %s (%d samples)\n",
		m.memory.PeakRSS>>20, m.memory.PeakHWM>>20, m.memory.Command, m.memory.Samples)
}

// figure is one named figure of a build.
type figure struct{ name, value string }

// rows are the build's timed figures in order: queued, the phases, the
// last line → seen final, and the layer's size when the layer engine wrote
// one.
func (m measurement) rows() []figure {
	var out []figure
	if !m.firstLine.IsZero() {
		out = append(out, figure{rowQueued, seconds(m.firstLine.Sub(m.answered))})
	}
	for _, p := range m.phases {
		out = append(out, figure{p.Name, seconds(p.Duration)})
	}
	if !m.lastLine.IsZero() {
		out = append(out, figure{rowSeenFinal, seconds(m.ended.Sub(m.lastLine))})
	}
	if m.layerBytes > 0 || m.layerEntries > 0 {
		out = append(out, figure{rowLayer, fmt.Sprintf("%.1f MB, %d entries", float64(m.layerBytes)/1e6, m.layerEntries)})
	}
	return out
}

// Names of the rows that are not phases.
const (
	rowQueued    = "queued"
	rowSeenFinal = "last line → seen final"
	rowLayer     = "layer written (size)"
)

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
