package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/apache/openserverless-deployer/lib/layer"
)

func main() {
	// Processes the command orphans become this one's children, even where
	// it is not PID 1, so their exit can be awaited.
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "layerhelper: %v\n", err)
		// The command's own exit code, as Kaniko's RUN reports it.
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			os.Exit(exit.ExitCode())
		}
		os.Exit(1)
	}
}

// list is a flag that may be given more than once.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// run parses the flags and builds the layer; the command's output goes to
// stdout and stderr as it comes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o layer.Options
	var env, shell list
	fs := flag.NewFlagSet("layerhelper", flag.ContinueOnError)
	fs.StringVar(&o.File, "file", "", "the dependency file as mounted")
	fs.StringVar(&o.Name, "name", "", "its name in the image (copied to /tmp/<name>)")
	fs.StringVar(&o.Out, "out", "", "the folder the layer is written to, as "+layer.FileName)
	fs.Var(&env, "env", "KEY=VALUE of the image's environment (repeated; default: this process's)")
	fs.StringVar(&o.Dir, "workdir", "", "the image's working directory")
	fs.Var(&shell, "shell", "the image's SHELL, one argument a flag (default /bin/sh -c)")
	fs.StringVar(&o.Root, "root", "/", "the root file system")
	fs.StringVar(&o.Command, "extend", "/bin/extend", "the command to run")
	fs.StringVar(&o.Mountinfo, "mountinfo", "/proc/self/mountinfo", "the mounts to leave out")
	copyTo := fs.String("copy-to", "", "only copy this program into the folder (the build step runs it from there)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *copyTo != "" {
		return copySelf(*copyTo)
	}
	o.Env, o.Shell = env, shell
	if len(env) == 0 {
		o.Env = os.Environ()
	}
	o.Stdout, o.Stderr, o.Warn = stdout, stderr, stderr
	o.Progress = prefixed{w: stdout, prefix: "layerhelper: "}
	return layer.Build(ctx, o)
}

// prefixed writes each line given to it after a prefix; the package's
// progress lines come one per write.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// copySelf copies this program into dir as layerhelper: the build step's
// image is the base, which does not hold it, so a step before it brings it
// into a volume the two share. The base may have no libc: the program is
// static.
func copySelf(dir string) error {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("reading this program: %w", err)
	}
	defer self.Close()
	dst := filepath.Join(dir, "layerhelper")
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copying this program: %w", err)
	}
	_, err = io.Copy(out, self)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, 0o755)
	}
	if err != nil {
		return fmt.Errorf("copying this program: %w", err)
	}
	return nil
}
