package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/openserverless-deployer/dev/buildstats"
	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// phaseOrder is the order of the table's phase columns.
var phaseOrder = []string{buildstats.Fetch, buildstats.Unpack, buildstats.SnapshotFirst, buildstats.Install,
	buildstats.SnapshotLast, buildstats.Save, buildstats.Push}

func run(ctx context.Context, runs int, names []string, pkg []byte, env, custom string, showLogs bool) error {
	repo, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	chosen := variants
	if len(names) > 0 {
		chosen = slices.DeleteFunc(slices.Clone(variants), func(v variant) bool { return !slices.Contains(names, v.name) })
	}
	executor, err := tool(ctx, repo, "kaniko")
	if err != nil {
		return err
	}
	real, err := fixtures.RealisticDir(ctx, repo, os.Stderr)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "kanikoargs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	reg, err := stack.StartRegistry(ctx, stack.RegistryOptions{Dir: filepath.Join(work, "registry")})
	if err != nil {
		return err
	}
	defer reg.Stop()
	fmt.Fprintln(os.Stderr, "pushing the realistic nodejs runtime...")
	base, err := fixtures.PushRealistic(ctx, reg.Host, reg.Auth(), real, fixtures.Realistic{Name: fixtures.NodeJS, Repo: "runtime-nodejs", Tag: "bookworm"})
	if err != nil {
		return err
	}
	contextDir := filepath.Join(work, "context")
	if err := os.MkdirAll(contextDir, 0o755); err != nil {
		return err
	}
	dockerfile := buildjob.Dockerfile(base.String(), "package.json", fixtures.RealisticUser)
	if custom != "" {
		dockerfile = strings.ReplaceAll(custom, "BASE", base.String())
	}
	if env != "" {
		from, rest, _ := strings.Cut(dockerfile, "\n")
		dockerfile = from + "\nENV " + env + "\n" + rest
	}
	files := map[string]string{"Dockerfile": dockerfile, "package.json": string(pkg)}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(contextDir, n), []byte(data), 0o644); err != nil {
			return err
		}
	}
	// The build step reads the base from the folder the fetch step warmed.
	cache := filepath.Join(work, "cache")
	if err := warm(ctx, repo, work, cache, base.String(), reg); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "variant\trun\texit\ttotal s\t%s\tpeak RSS MiB\texecutor HWM MiB\t\n", strings.Join(phaseOrder, " s\t")+" s")
	for _, v := range chosen {
		for i := 1; i <= runs; i++ {
			plan := buildjob.Plan{
				Source: base.Context().Name() + ":bookworm", BaseDigest: base.DigestStr(),
				Destination:        fmt.Sprintf("%s/bench:%s-%d", reg.Host, slug(v.name), i),
				InsecureRegistries: []string{reg.Host},
			}
			args := v.edit(buildjob.KanikoArgs(plan))
			out := filepath.Join(work, "out")
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			// As the build Pod mounts them: the context, the base the
			// fetch step warmed, the folder of the image tar.
			volumes := map[string]string{buildjob.Workspace: contextDir, buildjob.CacheDir: cache, buildjob.OutputDir: out}
			sb, err := newSandbox(filepath.Join(work, "run"), executor, "executor", reg.DockerConfigJSON(), volumes)
			if err != nil {
				return err
			}
			res, err := sb.run(ctx, append([]string{"/kaniko/executor"}, args...), "kaniko")
			if rerr := sb.remove(); rerr != nil && err == nil {
				err = rerr
			}
			os.RemoveAll(out)
			if err != nil {
				return err
			}
			if showLogs || res.code != 0 {
				fmt.Fprintf(os.Stderr, "--- %s run %d: %s\n", v.name, i, strings.Join(args, " "))
				for _, l := range res.lines {
					fmt.Fprintf(os.Stderr, "%s %s\n", l.Time.Format("15:04:05.000"), l.Text)
				}
			}
			row(tw, v.name, i, res)
			tw.Flush()
		}
	}
	return nil
}

// row prints one run.
func row(w io.Writer, name string, i int, res result) {
	got := map[string]time.Duration{}
	for _, p := range buildstats.Phases(res.lines, res.end) {
		got[p.Name] += p.Duration
	}
	cols := []string{name, fmt.Sprint(i), fmt.Sprint(res.code), elapsed(res.end.Sub(res.start))}
	for _, n := range phaseOrder {
		if d, ok := got[n]; ok {
			cols = append(cols, elapsed(d))
		} else {
			cols = append(cols, "-")
		}
	}
	cols = append(cols, fmt.Sprint(res.memory.PeakRSS>>20), fmt.Sprint(res.memory.PeakHWM>>20))
	fmt.Fprintln(w, strings.Join(cols, "\t")+"\t")
}

// warm fills cache with the base image, as a fetch step would: the Kaniko
// warmer, built from the same pinned module as the executor, run in a
// sandbox of its own.
func warm(ctx context.Context, repo, work, cache, image string, reg *stack.Registry) error {
	warmer := filepath.Join(work, "warmer")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", warmer, "github.com/GoogleContainerTools/kaniko/cmd/warmer")
	cmd.Dir = filepath.Join(repo, "tools", "kaniko")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the Kaniko warmer: %w\n%s", err, out)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	sb, err := newSandbox(filepath.Join(work, "warm"), warmer, "warmer", reg.DockerConfigJSON(), map[string]string{buildjob.CacheDir: cache})
	if err != nil {
		return err
	}
	res, err := sb.run(ctx, []string{"/kaniko/warmer", "--cache-dir=" + buildjob.CacheDir, "--image=" + image, "--insecure-registry=" + reg.Host}, "fetch")
	if rerr := sb.remove(); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	if res.code != 0 {
		for _, l := range res.lines {
			fmt.Fprintln(os.Stderr, l.Text)
		}
		return fmt.Errorf("the warmer failed (exit %d)", res.code)
	}
	fmt.Fprintf(os.Stderr, "warmer: base fetched into the cache folder in %s s (peak RSS %d MiB)\n", elapsed(res.end.Sub(res.start)), res.memory.PeakRSS>>20)
	return nil
}

// tool returns the path of a pinned tool, built once per machine.
func tool(ctx context.Context, repo, name string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "tools", "build.sh"), name)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// slug makes a variant name a tag component.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}
