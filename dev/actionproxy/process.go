package actionproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// Process is a running ActionLoop executable, driven as the runtime's proxy
// drives it: one activation at a time over stdin and file descriptor 3.
type Process struct {
	path    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	results *os.File // read end of the child's file descriptor 3
	reader  *bufio.Reader
	stdout  io.Writer // where the activation sentinels go; nil when discarded
	stderr  io.Writer

	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // valid after exited is closed

	turn   chan struct{} // a one-slot lock that a context can give up on
	broken error         // why the streams can no longer be trusted; guarded by turn
	killed atomic.Bool   // we killed the process after a failed exchange

	grace    time.Duration // how long Stop waits before killing
	stopOnce sync.Once
	stopErr  error
}

// Start runs the executable at path with env (nil inherits this process's
// environment), sends its stdout and stderr to the given writers (nil
// discards them), and waits until it acknowledges on file descriptor 3. ctx
// bounds the wait for the acknowledgement, not the life of the process: Stop
// ends it.
func Start(ctx context.Context, path string, env []string, stdout, stderr io.Writer) (*Process, error) {
	results, child, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating the results pipe for %s: %w", path, err)
	}
	p := &Process{
		path:    path,
		results: results,
		reader:  bufio.NewReader(results),
		stdout:  SharedWriter(stdout),
		stderr:  SharedWriter(stderr),
		exited:  make(chan struct{}),
		turn:    make(chan struct{}, 1),
		grace:   stopGrace,
	}
	p.cmd = exec.Command(path)
	p.cmd.Env = env
	p.cmd.ExtraFiles = []*os.File{child} // the child's file descriptor 3
	if p.stdout != nil {
		p.cmd.Stdout = p.stdout
	}
	if p.stderr != nil {
		p.cmd.Stderr = p.stderr
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		results.Close()
		child.Close()
		return nil, fmt.Errorf("creating the stdin pipe for %s: %w", path, err)
	}
	err = p.cmd.Start()
	// The child has its own copy now; keeping ours would hide its exit from
	// the reader, which would never see the end of the pipe.
	child.Close()
	if err != nil {
		results.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()

	ack, err := p.exchange(ctx, nil)
	if err == nil {
		var a struct {
			OK bool `json:"ok"`
		}
		if jerr := json.Unmarshal(ack, &a); jerr != nil || !a.OK {
			err = fmt.Errorf("bad acknowledgement %q", truncate(ack))
		}
	}
	if err != nil {
		p.kill()
		<-p.exited
		p.results.Close()
		return nil, fmt.Errorf("starting %s: waiting for the acknowledgement: %w", path, err)
	}
	return p, nil
}

// Pid returns the process id of the executable.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// exchange writes send (when not nil) on the child's stdin and reads one line
// from its file descriptor 3. When ctx ends first the child is killed: it can
// no longer be kept in step with its requests.
func (p *Process) exchange(ctx context.Context, send []byte) ([]byte, error) {
	type answer struct {
		line []byte
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		if send != nil {
			if _, err := p.stdin.Write(send); err != nil {
				ch <- answer{err: fmt.Errorf("writing the activation: %w", err)}
				return
			}
		}
		line, err := p.reader.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			err = errors.New("the process closed file descriptor 3 (exited?)")
		}
		ch <- answer{line, err}
	}()
	select {
	case a := <-ch:
		return a.line, a.err
	case <-ctx.Done():
		p.kill()
		<-ch // killing the child and closing our ends unblocks both the write and the read
		return nil, ctx.Err()
	}
}

// kill ends the child by pid and closes our ends of its pipes.
func (p *Process) kill() {
	p.killed.Store(true)
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	_ = p.results.Close()
}

// truncate shortens b for an error message.
func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
