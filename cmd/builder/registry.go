package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/userregistry"
)

// registryAccess finds the registry the registry tasks work on, and its
// credentials: REGISTRY_HOST with REGISTRY_USER and REGISTRY_PASS (and
// REGISTRY_PULL_HOST); else, when KUBECONFIG is set or no local stack is up,
// the cluster's, as the actions see it (registry hosts from the "config"
// ConfigMap, credentials from the build namespace's pull secret); else the
// local stack's (stack.json). REGISTRY_INSECURE=true makes the configured
// hosts plain HTTP; loopback hosts always are.
func registryAccess(ctx context.Context, opts ...imagestore.Option) (imagestore.Store, error) {
	insecure, err := envBool("REGISTRY_INSECURE")
	if err != nil {
		return imagestore.Store{}, err
	}
	if host := os.Getenv("REGISTRY_HOST"); host != "" {
		h := imagestore.Hosts{Push: host, Pull: firstOf(os.Getenv("REGISTRY_PULL_HOST"), host)}
		return newStore(h, os.Getenv("REGISTRY_USER"), os.Getenv("REGISTRY_PASS"), insecure, opts...), nil
	}
	if l := local(); l != nil && os.Getenv("KUBECONFIG") == "" {
		h := imagestore.Hosts{Push: l.Registry, Pull: l.Registry}
		return newStore(h, l.RegUser, l.RegPass, insecure, opts...), nil
	}
	client, cfg, err := cluster()
	if err != nil {
		return imagestore.Store{}, err
	}
	reg, err := userregistry.New(client, cfg, opts...).Platform(ctx)
	return reg.Store, err
}

// newStore is the registry at h with user's credentials for both hosts,
// and for no other (anonymous when user is empty), with extra options.
func newStore(h imagestore.Hosts, user, pass string, insecure bool, extra ...imagestore.Option) imagestore.Store {
	opts := append([]imagestore.Option{}, extra...)
	if user != "" {
		opts = append(opts, imagestore.WithKeychain(imagestore.Keychain{}.Grant(imagestore.Basic(user, pass), h.Push, h.Pull)))
	}
	if insecure {
		opts = append(opts, imagestore.WithInsecure(h.Push, h.Pull))
	}
	return imagestore.Store{Hosts: h, Client: imagestore.New(opts...)}
}

func envBool(key string) (bool, error) {
	v := os.Getenv(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", key, v)
	}
	return b, nil
}

// inRegistry turns a repository or image named as list-catalogs prints it
// ("alice", "alice:py1") into a reference in host; a name already in host is
// kept.
func inRegistry(host, s string) string {
	if strings.HasPrefix(s, host+"/") {
		return s
	}
	return host + "/" + s
}

// listCatalogs prints the repositories of the registry, one a line.
func listCatalogs(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("list-catalogs", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg, err := registryAccess(ctx)
	if err != nil {
		return err
	}
	hosts, client := reg.Hosts, reg.Client
	repos, err := client.Catalog(ctx, hosts.Push)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out, map[string]any{"registry": hosts.Push, "repositories": repos})
	}
	for _, r := range repos {
		fmt.Fprintln(out, r)
	}
	return nil
}

// listImages prints the tags of one repository with their digests, as the
// API's GET build/images lists a user's.
func listImages(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("list-images", flag.ContinueOnError)
	catalog := fs.String("catalog", "", "the repository, as list-catalogs prints it (a user)")
	asJSON := fs.Bool("json", false, "print JSON, as the API answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *catalog == "" {
		return fmt.Errorf("no repository: set CATALOG=<repository> (see builder:list-catalogs)")
	}
	reg, err := registryAccess(ctx)
	if err != nil {
		return err
	}
	hosts, client := reg.Hosts, reg.Client
	repo := strings.TrimPrefix(*catalog, hosts.Push+"/")
	tags, err := client.Tags(ctx, inRegistry(hosts.Push, repo))
	if err != nil {
		return err
	}
	list := make([]imagestore.Image, 0, len(tags))
	for _, t := range tags {
		list = append(list, imagestore.Image{Tag: t.Name, Digest: t.Digest, Image: hosts.Pull + "/" + repo + ":" + t.Name})
	}
	if *asJSON {
		return printJSON(out, map[string]any{"repository": hosts.Push + "/" + repo, "images": list})
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tDIGEST\tIMAGE")
	for _, i := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Tag, i.Digest, i.Image)
	}
	return tw.Flush()
}

// getImage prints what the registry holds for one image: digests, the
// config's user and labels, the layers and the size.
func getImage(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("get-image", flag.ContinueOnError)
	image := fs.String("image", "", "<repository>:<tag> or <repository>@<digest>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *image == "" {
		return fmt.Errorf("no image: set IMAGE=<repository>:<tag>")
	}
	reg, err := registryAccess(ctx)
	if err != nil {
		return err
	}
	hosts, client := reg.Hosts, reg.Client
	m, err := client.Inspect(ctx, inRegistry(hosts.Push, *image))
	if err != nil {
		return err
	}
	return printJSON(out, m)
}

// deleteImage deletes one image by the digest the registry holds for its
// tag, as the API's DELETE build/images/<tag> does.
func deleteImage(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("delete-image", flag.ContinueOnError)
	image := fs.String("image", "", "<repository>:<tag>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg, err := registryAccess(ctx)
	if err != nil {
		return err
	}
	hosts, client := reg.Hosts, reg.Client
	repo, tag, err := repoTag(hosts.Push, *image)
	if err != nil {
		return err
	}
	d, found, err := client.DeleteTag(ctx, inRegistry(hosts.Push, repo), tag)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("image %s:%s not found in %s", repo, tag, hosts.Push)
	}
	fmt.Fprintf(out, "deleted %s/%s@%s\n", hosts.Push, repo, d.Digest)
	fmt.Fprintf(out, "tags removed: %s\n", strings.Join(d.Tags, " "))
	fmt.Fprintln(out, "the registry frees the space at its next garbage collection")
	return nil
}

// repoTag splits an image named as list-images prints it, <repository>:<tag>
// (the registry host optional), into its repository and tag.
func repoTag(host, image string) (repo, tag string, err error) {
	ref := strings.TrimPrefix(image, host+"/")
	i := strings.LastIndex(ref, ":")
	if i <= 0 || strings.Contains(ref, "@") || !imagestore.ValidTag(ref[i+1:]) {
		return "", "", fmt.Errorf("IMAGE=%q is not <repository>:<tag>", image)
	}
	return ref[:i], ref[i+1:], nil
}

func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// registryConfigMap is the ConfigMap updatetoml keeps in the build namespace.
const registryConfigMap = "builder-registry-config"

// registryConfigKey is its one key.
const registryConfigKey = "registry.toml"

// hostPattern and mirrorPattern are a registry host, and one with an
// optional path: nothing TOML must escape.
var (
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?$`)
	mirrorPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[A-Za-z0-9._/-]+)?$`)
)

// updatetoml writes the builder's registry settings to the ConfigMap
// builder-registry-config and prints them: a record for operators, which
// the build Jobs do not read.
func updatetoml(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("updatetoml", flag.ContinueOnError)
	mirrors := fs.String("mirrors", "", "comma-separated mirrors of docker.io (host[/path])")
	dryRun := fs.Bool("dry-run", false, "print the ConfigMap without writing it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ms []string
	for _, m := range strings.Split(*mirrors, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if !mirrorPattern.MatchString(m) {
			return fmt.Errorf("mirror %q is not a registry host[/path]", m)
		}
		ms = append(ms, m)
	}
	client, cfg, err := cluster()
	if err != nil {
		return err
	}
	hosts, err := userregistry.ResolveHosts(ctx, client, cfg.Namespace, cfg.RegistryPushHost, cfg.RegistryPullHost)
	if err != nil {
		return err
	}
	for _, h := range []string{hosts.Push, hosts.Pull} {
		if !hostPattern.MatchString(h) {
			return fmt.Errorf("registry host %q is not host[:port]", h)
		}
	}
	cm := newRegistryConfigMap(cfg.Namespace, hosts, cfg.RegistryInsecure, ms)
	if !*dryRun {
		if err := applyConfigMap(ctx, client, cm); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "ConfigMap %s/%s updated\n", cm.Namespace, cm.Name)
	}
	_, err = io.WriteString(out, cm.Data[registryConfigKey])
	return err
}

// newRegistryConfigMap holds the registry settings in TOML, with the
// [registry."<host>"] tables of buildkitd.toml: http and insecure for the
// push and pull hosts, mirrors for docker.io.
func newRegistryConfigMap(namespace string, h imagestore.Hosts, insecure bool, mirrors []string) *corev1.ConfigMap {
	var b strings.Builder
	b.WriteString("# Registry settings of the runtime builder (Kaniko), written by `task builder:updatetoml`.\n")
	b.WriteString("# A record for operators and tools: the build Jobs do not read it. They take their\n")
	b.WriteString("# plain-HTTP hosts from the registry_insecure setting the package is deployed with,\n")
	b.WriteString("# and use no mirror; change that setting and redeploy to change the builds.\n")
	fmt.Fprintf(&b, "push_host = %q\npull_host = %q\n", h.Push, h.Pull)
	hosts := []string{h.Push}
	if h.Pull != h.Push {
		hosts = append(hosts, h.Pull)
	}
	for _, host := range hosts {
		fmt.Fprintf(&b, "\n[registry.%q]\nhttp = %t\ninsecure = %t\n", host, insecure, insecure)
	}
	if len(mirrors) > 0 {
		q := make([]string, len(mirrors))
		for i, m := range mirrors {
			q[i] = strconv.Quote(m)
		}
		fmt.Fprintf(&b, "\n[registry.\"docker.io\"]\nmirrors = [%s]\n", strings.Join(q, ", "))
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      registryConfigMap,
			Namespace: namespace,
			Labels: map[string]string{
				kube.LabelComponent:            kube.Component,
				"app.kubernetes.io/managed-by": "openserverless-deployer",
			},
		},
		Data: map[string]string{registryConfigKey: b.String()},
	}
}

// applyConfigMap creates cm or replaces the data and labels of the one there.
func applyConfigMap(ctx context.Context, client kubernetes.Interface, cm *corev1.ConfigMap) error {
	cms := client.CoreV1().ConfigMaps(cm.Namespace)
	cur, err := cms.Get(ctx, cm.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating ConfigMap %s: %w", cm.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading ConfigMap %s: %w", cm.Name, err)
	}
	cur.Data, cur.BinaryData = cm.Data, nil
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	for k, v := range cm.Labels {
		cur.Labels[k] = v
	}
	if _, err := cms.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ConfigMap %s: %w", cm.Name, err)
	}
	return nil
}
