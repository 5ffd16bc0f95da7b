package layer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/openserverless-deployer/lib/mountinfo"
)

// FileName is the name of the layer Build writes into its output folder.
const FileName = "layer.tar"

// Options are the inputs of Build. File, Name and Out are required.
type Options struct {
	// Root is the file system the command changes; "/" in a build.
	Root string
	// File is the dependency file as mounted; Name is its name in the
	// image, where it is copied to <Root>/tmp/<Name>.
	File string
	Name string
	// Out is the folder the layer is written to, outside the layer.
	Out string
	// Command is run through Shell: "/bin/extend" and ["/bin/sh", "-c"]
	// when empty, as the Dockerfile's RUN /bin/extend.
	Command string
	Shell   []string
	// Env is the command's whole environment: the base image's.
	Env []string
	// Dir is the working directory: the image's, Root if it does not exist.
	Dir string
	// Mountinfo lists the mounts to leave out; /proc/self/mountinfo when empty.
	Mountinfo string
	// Stdout and Stderr receive the command's output; Warn, notes on what
	// the layer leaves out; Progress, a line as each phase ends ("running
	// /bin/extend", "/bin/extend done", "layer written: N bytes, M
	// entries"). Discarded when nil.
	Stdout, Stderr, Warn, Progress io.Writer
}

// Build copies the dependency file into the root, runs the command and
// writes what changed since it began to <Out>/layer.tar. If the command
// fails, no layer is written and the error says how it ended; its output
// has gone to Stdout and Stderr before.
func Build(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	ex, err := newExclusions(o.Root, o.Out, o.Mountinfo)
	if err != nil {
		return err
	}
	start, err := startTime(o.Out)
	if err != nil {
		return err
	}
	b, err := record(o.Root, ex, start)
	if err != nil {
		return err
	}
	if err := copyFile(o.File, filepath.Join(o.Root, "tmp", o.Name)); err != nil {
		return err
	}
	dir := o.Dir
	if _, err := os.Stat(dir); dir == "" || err != nil {
		dir = o.Root
	}
	argv := append(append([]string{}, o.Shell...), o.Command)
	fmt.Fprintf(o.Progress, "running %s\n", o.Command)
	if err := run(ctx, argv, dir, o.Env, o.Stdout, o.Stderr); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s done\n", o.Command)
	path := filepath.Join(o.Out, FileName)
	entries, err := writeLayer(path, o.Root, ex, b, o.Warn)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		fmt.Fprintf(o.Progress, "layer written: %d bytes, %d entries\n", fi.Size(), entries)
	}
	return nil
}

func (o Options) withDefaults() (Options, error) {
	if o.File == "" || o.Out == "" {
		return o, errors.New("the dependency file and the output folder are required")
	}
	if o.Name == "" || strings.ContainsRune(o.Name, '/') || o.Name == "." || o.Name == ".." {
		return o, fmt.Errorf("the file name %q is not a plain file name", o.Name)
	}
	if o.Root == "" {
		o.Root = "/"
	}
	o.Root = filepath.Clean(o.Root)
	o.Out = filepath.Clean(o.Out)
	if o.Command == "" {
		o.Command = "/bin/extend"
	}
	if len(o.Shell) == 0 {
		o.Shell = []string{"/bin/sh", "-c"}
	}
	if o.Mountinfo == "" {
		o.Mountinfo = mountinfo.Self
	}
	for _, w := range []*io.Writer{&o.Stdout, &o.Stderr, &o.Warn, &o.Progress} {
		if *w == nil {
			*w = io.Discard
		}
	}
	return o, nil
}

// copyFile puts the dependency file where the Dockerfile's COPY does:
// owned by root, mode 0644, the folder made if missing.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("reading the dependency file: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copying the dependency file: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("copying the dependency file: %w", err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, 0o644)
	}
	if err == nil && os.Geteuid() == 0 {
		err = os.Lchown(dst, 0, 0)
	}
	if err != nil {
		return fmt.Errorf("copying the dependency file: %w", err)
	}
	return nil
}

// writeLayer writes the layer under a temporary name and renames it, so a
// failure leaves no layer behind. The push step may run as another user:
// the layer is readable by all.
func writeLayer(path, root string, ex *exclusions, b *before, warn io.Writer) (entries int, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".layer-")
	if err != nil {
		return 0, fmt.Errorf("writing the layer: %w", err)
	}
	defer os.Remove(tmp.Name())
	entries, err = writeChanges(tmp, root, ex, b, warn)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("writing the layer: %w", err)
	}
	return entries, nil
}
