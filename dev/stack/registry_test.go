package stack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	r, err := StartRegistry(ctx, RegistryOptions{Users: map[string]string{"bob": "bob-secret"}, Log: tWriter{t}})
	require.NoError(t, err)
	t.Logf("StartRegistry took %s", time.Since(began))
	stopped := false
	defer func() {
		if !stopped {
			assert.NoError(t, r.Stop())
		}
	}()

	t.Run("authentication is required", func(t *testing.T) {
		tests := []struct {
			name       string
			user, pass string
			want       int
		}{
			{"anonymous", "", "", http.StatusUnauthorized},
			{"admin", r.User, r.Password, http.StatusOK},
			{"extra user", "bob", "bob-secret", http.StatusOK},
			{"wrong password", r.User, "not-" + r.Password, http.StatusUnauthorized},
			{"unknown user", "mallory", "bob-secret", http.StatusUnauthorized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+"/v2/", nil)
				require.NoError(t, err)
				if tt.user != "" {
					req.SetBasicAuth(tt.user, tt.pass)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tt.want, resp.StatusCode)
			})
		}
	})

	t.Run("anonymous push is refused", func(t *testing.T) {
		img, err := random.Image(256, 1)
		require.NoError(t, err)
		ref, err := name.NewTag(r.Host+"/anon/image:v1", name.Insecure)
		require.NoError(t, err)
		err = remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(authn.Anonymous))
		var terr *transport.Error
		require.True(t, errors.As(err, &terr), "want a transport error, got %v", err)
		assert.Equal(t, http.StatusUnauthorized, terr.StatusCode)
	})

	// 127.0.0.1 is plain HTTP for go-containerregistry even without name.Insecure.
	for _, tt := range []struct {
		name string
		opts []name.Option
	}{{"insecure reference", []name.Option{name.Insecure}}, {"default reference", nil}} {
		t.Run("push and delete by digest with "+tt.name, func(t *testing.T) {
			img, err := random.Image(1024, 2)
			require.NoError(t, err)
			want, err := img.Digest()
			require.NoError(t, err)
			tag, err := name.NewTag(r.Host+"/alice/image:v1", tt.opts...)
			require.NoError(t, err)
			opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.Auth())}
			require.NoError(t, remote.Write(tag, img, opts...))

			desc, err := remote.Head(tag, opts...)
			require.NoError(t, err)
			assert.Equal(t, want, desc.Digest)

			err = remote.Delete(tag, opts...)
			var refused *transport.Error
			if assert.True(t, errors.As(err, &refused), "delete by tag: want a transport error, got %v", err) && assert.NotEmpty(t, refused.Errors) {
				assert.Equal(t, transport.DigestInvalidErrorCode, refused.Errors[0].Code, "delete by tag")
			}
			_, err = remote.Head(tag, opts...)
			require.NoError(t, err, "the tag survives a refused delete")

			digest := tag.Context().Digest(want.String())
			require.NoError(t, remote.Delete(digest, opts...))
			for _, ref := range []name.Reference{digest, tag} {
				_, err = remote.Head(ref, opts...)
				var terr *transport.Error
				if assert.True(t, errors.As(err, &terr), "%s: want a transport error, got %v", ref, err) {
					assert.Equal(t, http.StatusNotFound, terr.StatusCode, "%s", ref)
				}
			}
		})
	}

	t.Run("docker config json", func(t *testing.T) {
		var cfg struct {
			Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
		}
		require.NoError(t, json.Unmarshal(r.DockerConfigJSON(), &cfg))
		require.Contains(t, cfg.Auths, r.Host)
		e := cfg.Auths[r.Host]
		assert.Equal(t, r.User, e.Username)
		assert.Equal(t, r.Password, e.Password)
		auth, err := base64.StdEncoding.DecodeString(e.Auth)
		require.NoError(t, err)
		assert.Equal(t, r.User+":"+r.Password, string(auth))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+"/v2/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Basic "+e.Auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})

	pid := r.proc.pid()
	require.True(t, alive(pid))
	began = time.Now()
	stopped = true
	require.NoError(t, r.Stop())
	t.Logf("Registry.Stop took %s", time.Since(began))
	assert.False(t, alive(pid), "registry pid %d still running after Stop", pid)
	assert.NoDirExists(t, r.Dir)
	assert.NoError(t, r.Stop(), "a second Stop")
}
