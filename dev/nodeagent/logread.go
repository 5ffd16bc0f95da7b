package nodeagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"time"
)

// timestampOut is the fixed-width form of RFC3339Nano the kubelet prefixes
// lines with when asked for timestamps.
const timestampOut = "2006-01-02T15:04:05.000000000Z07:00"

// followPoll is how often a followed log is read again for new lines.
const followPoll = 200 * time.Millisecond

// logOptions is what a container log request asks for, decoded from the query
// the API server forwards (the fields of v1.PodLogOptions).
type logOptions struct {
	tail       int64 // lines from the end; -1: all
	limit      int64 // bytes at most; -1: no limit
	since      time.Time
	timestamps bool
	follow     bool
	previous   bool
	stdout     bool
	stderr     bool
}

// parseLogOptions decodes and validates a container log query as the kubelet
// does, including its older "tail" parameter.
func parseLogOptions(q url.Values, now time.Time) (logOptions, error) {
	o := logOptions{tail: -1, limit: -1, stdout: true, stderr: true}
	if t := q.Get("tail"); t != "" && t != "all" && q.Get("tailLines") == "" {
		q.Set("tailLines", t)
	}
	var err error
	if o.tail, err = intParam(q, "tailLines", -1, 0); err != nil {
		return o, err
	}
	if o.limit, err = intParam(q, "limitBytes", -1, 1); err != nil {
		return o, err
	}
	seconds, err := intParam(q, "sinceSeconds", -1, 1)
	if err != nil {
		return o, err
	}
	if s := q.Get("sinceTime"); s != "" {
		if seconds >= 0 {
			return o, errors.New("at most one of sinceTime or sinceSeconds may be specified")
		}
		if o.since, err = time.Parse(time.RFC3339, s); err != nil {
			return o, fmt.Errorf("invalid sinceTime %q: %w", s, err)
		}
	} else if seconds >= 0 {
		o.since = now.Add(-time.Duration(seconds) * time.Second)
	}
	for name, dst := range map[string]*bool{"timestamps": &o.timestamps, "follow": &o.follow, "previous": &o.previous} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.ParseBool(v); err != nil {
				return o, fmt.Errorf("invalid %s %q: %w", name, v, err)
			}
		}
	}
	switch q.Get("stream") {
	case "", "All":
	case "Stdout":
		o.stderr = false
	case "Stderr":
		o.stdout = false
	default:
		return o, fmt.Errorf("invalid stream type %q", q.Get("stream"))
	}
	return o, nil
}

// intParam reads an optional integer parameter no smaller than min; absent, it is def.
func intParam(q url.Values, name string, def, min int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: %w", name, s, err)
	}
	if n < min {
		return 0, fmt.Errorf("%s must be at least %d", name, min)
	}
	return n, nil
}

// readLogs writes the container log at path to w as the kubelet does: the
// last tail records, then only those not older than since, each prefixed with
// its timestamp when asked, cut at limit bytes. When following, it keeps
// reading until exited is closed (the container has stopped) or ctx is done.
func readLogs(ctx context.Context, path string, o logOptions, w io.Writer, exited <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading log file: %w", err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	lines := bytes.SplitAfter(data[:end], []byte("\n"))
	lines = lines[:len(lines)-1] // SplitAfter leaves an empty last element
	if o.tail >= 0 && int64(len(lines)) > o.tail {
		lines = lines[int64(len(lines))-o.tail:]
	}
	out := &logOutput{w: w, o: o, remain: o.limit, newLine: true}
	if o.limit < 0 {
		out.remain = math.MaxInt64
	}
	for _, l := range lines {
		if stop, err := out.write(l); stop || err != nil {
			return err
		}
	}
	if !o.follow {
		return nil // a record is written with its newline: what follows is one being written
	}
	pending := data[end:]
	buf := make([]byte, 32*1024)
	for {
		stopped := false
		select {
		case <-ctx.Done():
			return nil
		case <-exited:
			stopped = true
		case <-time.After(followPoll):
		}
		for {
			n, err := f.Read(buf)
			pending = append(pending, buf[:n]...)
			if err == io.EOF || n == 0 {
				break
			}
			if err != nil {
				return fmt.Errorf("reading log file: %w", err)
			}
		}
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			if stop, err := out.write(pending[:i+1]); stop || err != nil {
				return err
			}
			pending = pending[i+1:]
		}
		if stopped {
			if len(pending) > 0 {
				_, err := out.write(pending)
				return err
			}
			return nil
		}
	}
}

// logOutput writes parsed CRI records, keeping the byte budget and whether
// the next record starts a new line (partial records continue one).
type logOutput struct {
	w       io.Writer
	o       logOptions
	remain  int64
	newLine bool
}

// write writes one CRI record; stop reports that the byte limit was reached.
func (out *logOutput) write(line []byte) (stop bool, err error) {
	ts, stream, text, ok := parseCRILine(line)
	if !ok {
		return false, nil // the kubelet skips lines it cannot parse, too
	}
	if ts.Before(out.o.since) {
		return false, nil
	}
	if (stream == "stdout" && !out.o.stdout) || (stream == "stderr" && !out.o.stderr) {
		return false, nil
	}
	b := text
	if out.o.timestamps && out.newLine {
		b = append([]byte(ts.Format(timestampOut)+" "), text...)
	}
	if int64(len(b)) > out.remain {
		b = b[:out.remain]
	}
	n, err := out.w.Write(b)
	out.remain -= int64(n)
	if err != nil {
		return true, err
	}
	out.newLine = len(text) == 0 || text[len(text)-1] == '\n'
	return out.remain <= 0, nil
}

// parseCRILine splits "<time> <stream> <tag> <text>\n" into its parts; the
// text of a full ("F") record keeps its newline, a partial ("P") one loses it.
func parseCRILine(line []byte) (ts time.Time, stream string, text []byte, ok bool) {
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) != 4 {
		return ts, "", nil, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return ts, "", nil, false
	}
	stream = string(parts[1])
	if stream != "stdout" && stream != "stderr" {
		return ts, "", nil, false
	}
	text = parts[3]
	if tag := bytes.SplitN(parts[2], []byte(":"), 2)[0]; string(tag) == "P" {
		text = bytes.TrimSuffix(text, []byte("\n"))
	}
	return ts, stream, text, true
}
