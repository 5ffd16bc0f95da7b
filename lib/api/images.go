package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Images serves build/images: GET lists the caller's images, DELETE
// build/images/<tag> deletes one. Only the caller's repository is ever
// named: the path holds a tag, never a repository.
func Images(ctx context.Context, c Call) (webaction.Response, error) {
	tag, hasTag, err := imageTag(c.Request.Path)
	if err != nil {
		return webaction.Response{}, err
	}
	if hasTag {
		if err := requireMethod(c.Request, http.MethodDelete); err != nil {
			return webaction.Response{}, err
		}
	} else if err := requireMethod(c.Request, http.MethodGet); err != nil {
		return webaction.Response{}, err
	}
	reg, err := c.Registries.ForUser(ctx, c.Caller.User)
	if err != nil {
		return webaction.Response{}, err
	}
	svc := reg.Store
	if !hasTag {
		list, err := svc.List(ctx, c.Caller.User)
		if err != nil {
			return webaction.Response{}, err
		}
		return webaction.Reply(http.StatusOK, "", map[string]any{"images": list}), nil
	}
	d, err := svc.Delete(ctx, c.Caller.User, tag)
	if err != nil {
		return webaction.Response{}, err
	}
	c.Log.WithField("digest", d.Digest).WithField("tags_removed", d.TagsRemoved).Info("image deleted")
	msg := fmt.Sprintf("Image %s deleted (%s).", d.Image, d.Digest)
	if len(d.TagsRemoved) > 1 {
		msg += fmt.Sprintf(" The same manifest was also tagged %s: those tags are removed too.", strings.Join(others(d.TagsRemoved, tag), ", "))
	}
	msg += " The registry frees the space at its next garbage collection."
	return webaction.Reply(http.StatusOK, msg, map[string]any{
		"image":        d.Image,
		"tag":          tag,
		"digest":       d.Digest,
		"tags_removed": d.TagsRemoved,
	}), nil
}

// imageTag reads the tag of build/images/<tag> from __ow_path ("" or "/"
// for the list). The path is unescaped first, so that an encoded "/" is
// seen, and must then be exactly one valid tag.
func imageTag(path string) (tag string, ok bool, err error) {
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return "", false, nil
	}
	t, uerr := url.PathUnescape(p)
	if uerr != nil || !imagestore.ValidTag(t) {
		return "", false, fault.New(fault.Invalid, "InvalidTag", "Invalid image tag in the path: a tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.")
	}
	return t, true, nil
}

// others returns tags without tag.
func others(tags []string, tag string) []string {
	var out []string
	for _, t := range tags {
		if t != tag {
			out = append(out, t)
		}
	}
	return out
}
