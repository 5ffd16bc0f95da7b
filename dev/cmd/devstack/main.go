// Command devstack runs the local stack (package dev/local) until it gets
// SIGTERM or SIGINT, then stops everything it started. `./task up` starts it
// in the background and `./task down` stops it by pid.
//
// In -dir it writes:
//
//	wskprops    APIHOST and AUTH of the first user, as ~/.wskprops holds them
//	wskprops-<user>  the same for every user
//	wskprops-whisk-system  APIHOST and AUTH of the system namespace, as an operator holds them
//	stack.json  the gateway URL, the registry and its credentials, the users' tokens, the kubeconfig
//	ready       once everything answers
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/apache/openserverless-deployer/dev/gateway"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
)

func main() {
	dir := flag.String("dir", "", "state folder (created)")
	users := flag.String("users", "devel,guest", "the local OpenWhisk users (comma- or space-separated); the first is the default")
	pool := flag.Int("pool", gateway.DefaultPoolSize, "the most processes of one action at once, as OpenWhisk runs several containers of an action")
	realistic := flag.Bool("realistic", false, "add the realistic nodejs and python runtimes to the catalog (minutes to make the first time)")
	onDisk := flag.Bool("node-on-disk", false, "keep the node's containers on disk in -dir/node instead of in memory")
	engine := flag.String("engine", "", "the build engine the package is deployed with, kaniko or layer (default: the deployer's, kaniko)")
	clean := flag.Bool("clean", false, "remove what a killed devstack of -dir left on the machine (its node's containers, mounts, cgroups, NAT rules, bridge), then exit")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "devstack: -dir is required")
		os.Exit(2)
	}
	if *engine != "" && *engine != "kaniko" && *engine != "layer" {
		fmt.Fprintf(os.Stderr, "devstack: -engine is kaniko or layer, not %q\n", *engine)
		os.Exit(2)
	}
	if *clean {
		if err := cleanUp(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "devstack:", err)
			os.Exit(1)
		}
		return
	}
	o := local.Options{
		Dir: *dir, Users: strings.FieldsFunc(*users, func(r rune) bool { return r == ',' || r == ' ' }),
		PoolSize: *pool, Realistic: *realistic, NodeOnDisk: *onDisk, Engine: *engine,
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// Info is what stack.json holds.
type Info struct {
	Pid        int               `json:"pid"`
	URL        string            `json:"url"`
	API        string            `json:"api"`
	Registry   string            `json:"registry"`
	RegUser    string            `json:"registry_user"`
	RegPass    string            `json:"registry_password"`
	Kubeconfig string            `json:"kubeconfig"`
	Namespace  string            `json:"namespace"`
	Bridge     string            `json:"bridge"`
	Tokens     map[string]string `json:"tokens"`
	Sources    map[string]string `json:"sources"`
}

// run runs the local stack of o (its Log is standard error).
func run(o local.Options) error {
	dir, users := o.Dir, o.Users
	if len(users) == 0 {
		return fmt.Errorf("no users")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "ready"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	began := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	o.Log = os.Stderr
	s, err := local.Start(startCtx, o)
	if err != nil {
		return err
	}
	defer s.Stop()
	info := Info{
		Pid: os.Getpid(), URL: s.Gateway.URL(), API: s.Gateway.URL() + "/system/api/v1/build",
		Registry: s.Registry.Host, RegUser: s.Registry.User, RegPass: s.Registry.Password,
		Kubeconfig: s.Kube.Kubeconfig, Namespace: local.Namespace, Tokens: s.Tokens, Sources: map[string]string{},
		Bridge: s.Bridge.Name,
	}
	for k := range s.Runtimes {
		info.Sources[k] = s.Source(k)
	}
	for id := range s.Realistic {
		info.Sources[id] = s.RealisticSource(id)
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "stack.json"), b, 0o600); err != nil {
		return err
	}
	for i, u := range users {
		props := fmt.Sprintf("APIHOST=%s\nAUTH=%s\n", s.Gateway.URL(), s.Tokens[u])
		if err := os.WriteFile(filepath.Join(dir, "wskprops-"+u), []byte(props), 0o600); err != nil {
			return err
		}
		if i == 0 {
			if err := os.WriteFile(filepath.Join(dir, "wskprops"), []byte(props), 0o600); err != nil {
				return err
			}
		}
	}
	// The operator's view: the system namespace's key, as an operator holds it.
	sys := s.Gateway.SystemNamespace()
	key, _ := s.Subjects.Token(sys)
	props := fmt.Sprintf("APIHOST=%s\nAUTH=%s\n", s.Gateway.URL(), key)
	if err := os.WriteFile(filepath.Join(dir, "wskprops-"+sys), []byte(props), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(time.Since(began).String()+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "devstack: ready in %s at %s\n", time.Since(began).Round(time.Millisecond), info.API)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devstack: stopping")
	_ = os.Remove(filepath.Join(dir, "ready"))
	if err := s.Stop(); err != nil {
		return err
	}
	// Stopped cleanly: nothing is left for -clean to remove, and the bridge
	// stack.json names may soon be another stack's.
	return os.Remove(filepath.Join(dir, "stack.json"))
}

// cleanUp removes what the devstack of dir left when it was killed: its
// node's leftovers and its bridge, as stack.json names them.
func cleanUp(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "stack.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return fmt.Errorf("reading stack.json: %w", err)
	}
	if info.Bridge == "" {
		return nil
	}
	return stack.RemoveNode(info.Bridge)
}
