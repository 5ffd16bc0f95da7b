package builds

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Images serves build/images: GET lists the caller's images, DELETE
// build/images/<tag> deletes one. Only the caller's repository is ever
// named: the path holds a tag, never a repository. The path is read before
// the method: one that names no valid tag is 400 whatever the method.
func (o Ops) Images(ctx context.Context, c api.Call) (webaction.Response, error) {
	client, err := o.client(c)
	if err != nil {
		return webaction.Response{}, err
	}
	req, err := parseImages(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	h := imageHandlers{registries: userregistry.New(client, c.Config)}
	return api.Routes{
		api.On(http.MethodGet, "", h.list),
		api.On(http.MethodDelete, "{tag}", func(ctx context.Context, c api.Call) (webaction.Response, error) {
			return h.delete(ctx, c, req.Tag)
		}),
	}.Serve(ctx, c)
}

// imageHandlers hold one call's registry selection.
type imageHandlers struct {
	registries *userregistry.Selector
}

// imagesRequest is the tag of build/images/<tag>; "" for the list.
type imagesRequest struct {
	Tag string
}

// parseImages reads the tag from __ow_path ("" or "/" for the list). The
// path is unescaped first, so that an encoded "/" is seen, and must then be
// exactly one valid tag.
func parseImages(r webaction.Request) (imagesRequest, error) {
	p := strings.TrimPrefix(r.Path, "/")
	if p == "" {
		return imagesRequest{}, nil
	}
	t, err := url.PathUnescape(p)
	if err != nil || !imagestore.ValidTag(t) {
		return imagesRequest{}, fault.New(fault.Invalid, "InvalidTag", "Invalid image tag in the path: a tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.")
	}
	return imagesRequest{Tag: t}, nil
}

func (h imageHandlers) list(ctx context.Context, c api.Call) (webaction.Response, error) {
	reg, err := h.registries.ForUser(ctx, c.Caller.User)
	if err != nil {
		return webaction.Response{}, err
	}
	list, err := reg.List(ctx, c.Caller.User)
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "", map[string]any{"images": list}), nil
}

func (h imageHandlers) delete(ctx context.Context, c api.Call, tag string) (webaction.Response, error) {
	reg, err := h.registries.ForUser(ctx, c.Caller.User)
	if err != nil {
		return webaction.Response{}, err
	}
	d, err := reg.Delete(ctx, c.Caller.User, tag)
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
