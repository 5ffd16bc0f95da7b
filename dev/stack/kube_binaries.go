package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// etcdPath is Debian's etcd (package etcd-server).
const etcdPath = "/usr/bin/etcd"

// binaries are the programs Kube runs. etcd and kube-apiserver are launchers
// written into the kube folder, as envtest starts them itself.
type binaries struct {
	etcd, apiServer, controllerManager string
	etcdPidFile, apiServerPidFile      string
}

// kubeBinaries builds (once per machine, cached by tools/build.sh) the pinned
// kube-apiserver and kube-controller-manager and writes launchers for etcd and
// kube-apiserver into dir.
func kubeBinaries(ctx context.Context, root, dir string, log io.Writer) (binaries, error) {
	paths, err := BuildTools(ctx, root, log, "kube-apiserver", "kube-controller-manager")
	if err != nil {
		return binaries{}, err
	}
	b := binaries{apiServer: paths[0], controllerManager: paths[1]}
	if err := b.writeLaunchers(dir); err != nil {
		return binaries{}, err
	}
	return b, nil
}

// writeLaunchers writes a launcher for etcd and one for kube-apiserver into
// dir/bin and sets them in b. A launcher records the server's pid (so Stop can
// check it is gone) and execs it with the parent-death signal SIGKILL (which
// envtest does not set), keeping the same pid.
func (b *binaries) writeLaunchers(dir string) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", bin, err)
	}
	setpriv, _ := exec.LookPath("setpriv")
	write := func(name, target string) (launcher, pidFile string, err error) {
		launcher = filepath.Join(bin, name)
		pidFile = filepath.Join(dir, name+".pid")
		// A stale pid from an earlier run in the same folder must never be killed.
		if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("removing %s: %w", pidFile, err)
		}
		exe := shellQuote(target)
		if setpriv != "" {
			exe = shellQuote(setpriv) + " --pdeathsig KILL " + exe
		}
		// envtest runs the binary with --help to probe its flags: no pid then.
		script := "#!/bin/sh\n" +
			"[ \"$*\" = --help ] || echo $$ >" + shellQuote(pidFile) + "\n" +
			"exec " + exe + " \"$@\"\n"
		if err := os.WriteFile(launcher, []byte(script), 0o755); err != nil {
			return "", "", fmt.Errorf("writing launcher %s: %w", launcher, err)
		}
		return launcher, pidFile, nil
	}
	var err error
	if b.etcd, b.etcdPidFile, err = write("etcd", etcdPath); err != nil {
		return err
	}
	b.apiServer, b.apiServerPidFile, err = write("kube-apiserver", b.apiServer)
	return err
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
