package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ExitOnError)
	source := fs.String("source", "", "the runtime image to extend")
	target := fs.String("target", "", "<user>:<tag> of the extended image")
	kind := fs.String("kind", "", "the runtime kind (python, nodejs, …)")
	file := fs.String("file", "", "the dependency file, base64-encoded")
	follow := fs.Bool("follow", true, "follow the build to its end, printing its log")
	_ = fs.Parse(args)
	a, err := newAPI()
	if err != nil {
		return err
	}
	// On the local stack, SOURCE defaults to the kind's runtime and TARGET to
	// <user>:<kind>-custom.
	if l := local(); l != nil {
		if *source == "" {
			*source = l.Sources[*kind]
		}
		if u := l.userOf(a.token); *target == "" && u != "" {
			*target = u + ":" + *kind + "-custom"
		}
	}
	body := map[string]any{"source": *source, "target": *target, "kind": *kind}
	if *file != "" {
		body["file"] = strings.TrimSpace(*file)
	}
	r, err := a.call(ctx, http.MethodPost, "/start", body)
	if err != nil {
		return err
	}
	if err := r.print(os.Stdout); err != nil || !*follow {
		return err
	}
	return a.follow(ctx, r.str("id"))
}

// follow polls the build's status every two seconds, printing new log lines,
// until it succeeds (the image is printed) or fails (an error).
func (a *api) follow(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("the answer names no build id")
	}
	var since string
	for {
		st, err := a.call(ctx, http.MethodGet, "/"+id, nil)
		if err != nil {
			return err
		}
		if st.Code == http.StatusNotFound {
			return fmt.Errorf("build %s: %s", id, st.str("message"))
		}
		since = a.printLogs(ctx, id, since)
		switch st.str("state") {
		case "succeeded":
			fmt.Printf("build %s succeeded: %s@%s\n", id, st.str("image"), st.str("digest"))
			return nil
		case "failed":
			return fmt.Errorf("build %s failed (%s): %s", id, st.str("reason"), st.str("message"))
		case "":
			return st.print(os.Stdout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// printLogs prints the log lines newer than since and returns the new mark.
func (a *api) printLogs(ctx context.Context, id, since string) string {
	q := url.Values{"tail": {strconv.Itoa(5000)}}
	if since != "" {
		q.Set("since", since)
	}
	r, err := a.call(ctx, http.MethodGet, "/"+id+"/logs?"+q.Encode(), nil)
	if err != nil || r.Code != http.StatusOK {
		return since
	}
	lines, _ := r.Body["lines"].([]any)
	for _, l := range lines {
		fmt.Println(l)
	}
	if next := r.str("next_since"); next != "" {
		return next
	}
	return since
}

func status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	id := fs.String("id", "", "the build id")
	_ = fs.Parse(args)
	a, err := newAPI()
	if err != nil {
		return err
	}
	r, err := a.call(ctx, http.MethodGet, "/"+*id, nil)
	if err != nil {
		return err
	}
	return r.print(os.Stdout)
}

func clean(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("clean", flag.ExitOnError)
	hours := fs.String("max-age-hours", "24", "delete finished builds older than this")
	_ = fs.Parse(args)
	a, err := newAPI()
	if err != nil {
		return err
	}
	r, err := a.call(ctx, http.MethodPost, "/cleanup", map[string]any{"max_age_hours": *hours})
	if err != nil {
		return err
	}
	return r.print(os.Stdout)
}
