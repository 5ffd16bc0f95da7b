// Command builder is the client behind the builder:* tasks: it calls the
// deployer's API with the caller's OpenWhisk token (send, clean, status),
// works on the cluster directly with KUBECONFIG (cleanjobs, logs,
// updatetoml), or on the registry with go-containerregistry (list-catalogs,
// list-images, get-image, delete-image, push-image; see registryAccess for where the
// registry and its credentials come from).
//
//	builder send -source IMAGE -target USER:TAG -kind KIND [-file BASE64] [-follow=true]
//	builder clean [-max-age-hours 24]
//	builder status -id ID
//	builder cleanjobs [-max-age-hours 24]
//	builder logs
//	builder list-catalogs [-json]
//	builder list-images -catalog REPOSITORY [-json]
//	builder get-image -image REPOSITORY:TAG
//	builder delete-image -image REPOSITORY:TAG
//	builder push-image -from TARBALL|OCI-LAYOUT|REFERENCE -image REPOSITORY:TAG
//	builder updatetoml [-mirrors HOST,…] [-dry-run]
//	builder subst < file.yaml   (expand ${VAR} from the environment)
//
// The API is at $DEPLOYER_URL, else $APIHOST/system/api/v1/build, else the
// APIHOST of ~/.wskprops; the token is $AUTH, else the AUTH of ~/.wskprops.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmds := map[string]func(context.Context, []string) error{
		"send":          send,
		"clean":         clean,
		"status":        status,
		"cleanjobs":     cleanjobs,
		"logs":          logs,
		"list-catalogs": func(ctx context.Context, a []string) error { return listCatalogs(ctx, a, os.Stdout) },
		"list-images":   func(ctx context.Context, a []string) error { return listImages(ctx, a, os.Stdout) },
		"get-image":     func(ctx context.Context, a []string) error { return getImage(ctx, a, os.Stdout) },
		"delete-image":  func(ctx context.Context, a []string) error { return deleteImage(ctx, a, os.Stdout) },
		"push-image":    func(ctx context.Context, a []string) error { return pushImage(ctx, a, os.Stdout) },
		"updatetoml":    func(ctx context.Context, a []string) error { return updatetoml(ctx, a, os.Stdout) },
		"subst":         func(context.Context, []string) error { return subst(os.Stdin, os.Stdout) },
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		usage()
	}
	if err := cmd(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "builder:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: builder send|clean|status|cleanjobs|logs|list-catalogs|list-images|get-image|delete-image|push-image|updatetoml|subst [flags]")
	os.Exit(2)
}

// subst expands ${VAR} and $VAR from the environment, as envsubst does.
func subst(in io.Reader, out io.Writer) error {
	b, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, os.ExpandEnv(string(b)))
	return err
}
