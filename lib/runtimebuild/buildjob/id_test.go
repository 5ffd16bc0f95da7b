package buildjob

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestIDIsStable(t *testing.T) {
	in := Inputs{Kind: "python", Source: "r.example.com/rt@sha256:aa", File: []byte("requests\n"), Target: "r.example.com/alice:v1"}
	first := ID(in)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), first)
	// A copy of the same inputs, with its own file slice, gives the same id.
	again := in
	again.File = append([]byte(nil), in.File...)
	assert.Equal(t, first, ID(again))
}

func TestIDChangesWithEachInput(t *testing.T) {
	base := Inputs{Kind: "python", Source: "r.example.com/rt@sha256:aa", File: []byte("requests\n"), Target: "r.example.com/alice:v1"}
	tests := []struct {
		name   string
		change func(*Inputs)
	}{
		{name: "kind", change: func(in *Inputs) { in.Kind = "nodejs" }},
		{name: "source digest", change: func(in *Inputs) { in.Source = "r.example.com/rt@sha256:ab" }},
		{name: "source repository", change: func(in *Inputs) { in.Source = "r.example.com/rt2@sha256:aa" }},
		{name: "one file byte", change: func(in *Inputs) { in.File = []byte("requestS\n") }},
		{name: "file trailing newline", change: func(in *Inputs) { in.File = []byte("requests") }},
		{name: "no file", change: func(in *Inputs) { in.File = nil }},
		{name: "empty file", change: func(in *Inputs) { in.File = []byte{} }},
		{name: "target tag", change: func(in *Inputs) { in.Target = "r.example.com/alice:v2" }},
		{name: "target user", change: func(in *Inputs) { in.Target = "r.example.com/bob:v1" }},
		{name: "no target", change: func(in *Inputs) { in.Target = "" }},
		// A field's text moved into its neighbour must not give the same canonical form.
		{name: "kind text moved into source", change: func(in *Inputs) { in.Kind = ""; in.Source = "python\nsource=" + in.Source }},
	}
	seen := map[string]string{ID(base): "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.File = append([]byte(nil), base.File...)
			tt.change(&in)
			id := ID(in)
			prev, dup := seen[id]
			assert.False(t, dup, "id of %q equals the id of %q", tt.name, prev)
			seen[id] = tt.name
		})
	}
}

func TestIDNilFileIsNotEmptyFile(t *testing.T) {
	in := Inputs{Kind: "go", Source: "r/rt@sha256:aa"}
	none := ID(in)
	in.File = []byte{}
	empty := ID(in)
	assert.NotEqual(t, none, empty)
}

func TestJobName(t *testing.T) {
	id := ID(Inputs{Kind: "python", Source: "r/rt@sha256:aa"})
	tests := []struct {
		name   string
		user   string
		prefix string // the name starts with it, then the user's hash
	}{
		{name: "plain user", user: "alice", prefix: "build-alice-"},
		{name: "user with a dash", user: "a-b", prefix: "build-a-b-"},
		{name: "user with a dot", user: "a.b", prefix: "build-a-b-"},
		{name: "user with an underscore", user: "a_b", prefix: "build-a-b-"},
		{name: "user with a double underscore", user: "a__b", prefix: "build-a-b-"},
		{name: "a user named like another's slug and hash", user: "a-b-2e7336", prefix: "build-a-b-2e7336-"},
		{name: "user of 29 characters", user: strings.Repeat("u", 29), prefix: "build-" + strings.Repeat("u", 29) + "-"},
		{name: "user of 40 characters", user: strings.Repeat("u", 40), prefix: "build-" + strings.Repeat("u", 29) + "-"},
		{name: "user of 63 characters", user: strings.Repeat("u", 63), prefix: "build-" + strings.Repeat("u", 29) + "-"},
		{name: "long user with a dash at the cut", user: strings.Repeat("u", 28) + "-" + strings.Repeat("v", 30), prefix: "build-" + strings.Repeat("u", 28) + "-"},
		{name: "user in upper case", user: "Alice", prefix: "build-alice-"},
		{name: "user of separators only", user: "._", prefix: "build-"},
		{name: "digits", user: "0123", prefix: "build-0123-"},
	}
	names := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JobName(tt.user, id)
			assert.LessOrEqual(t, len(got), 63)
			assert.Empty(t, validation.IsDNS1123Label(got), "%q is not a DNS-1123 label", got)
			assert.True(t, strings.HasPrefix(got, tt.prefix), "%q does not start with %q", got, tt.prefix)
			assert.True(t, strings.HasSuffix(got, "-"+id[:16]), "%q does not end with the id prefix", got)
			sum := sha256.Sum256([]byte(tt.user))
			assert.Equal(t, tt.prefix+hex.EncodeToString(sum[:])[:10]+"-"+id[:16], got, "slug, hash of the user, id prefix")
			assert.Equal(t, got, JobName(tt.user, id), "not deterministic")
			if other, dup := names[got]; dup {
				t.Errorf("users %q and %q share the Job name %q", other, tt.user, got)
			}
			names[got] = tt.user
		})
	}
}

func TestJobNameSeparatesUsers(t *testing.T) {
	id := ID(Inputs{Kind: "go", Source: "r/rt@sha256:aa"})
	pairs := [][2]string{
		{"a.b", "a-b"},
		{"a_b", "a-b"},
		{"a.b", "a_b"},
		{"a__b", "a_b"},
		{strings.Repeat("u", 41), strings.Repeat("u", 42)},
		{strings.Repeat("u", 50) + "a", strings.Repeat("u", 50) + "b"},
		{strings.Repeat("u", 63), strings.Repeat("u", 62)},
	}
	for _, p := range pairs {
		t.Run(p[0]+" vs "+p[1], func(t *testing.T) {
			assert.NotEqual(t, JobName(p[0], id), JobName(p[1], id))
		})
	}
}

func TestJobNameFollowsTheID(t *testing.T) {
	a := ID(Inputs{Kind: "go", Source: "r/rt@sha256:aa"})
	b := ID(Inputs{Kind: "go", Source: "r/rt@sha256:ab"})
	require.NotEqual(t, a[:16], b[:16])
	assert.NotEqual(t, JobName("alice", a), JobName("alice", b))
	p := Plan{User: "alice", ID: a}
	assert.Equal(t, JobName("alice", a), p.JobName())
}

func TestDockerfile(t *testing.T) {
	const pinned = "r.example.com/rt@sha256:0123"
	tests := []struct {
		name     string
		fileName string
		baseUser string
		want     string
	}{
		{
			name: "without a file", fileName: "", baseUser: "1001",
			want: "FROM " + pinned + "\n",
		},
		{
			name: "with a file and a base user", fileName: "requirements.txt", baseUser: "1001",
			want: "FROM " + pinned + "\nCOPY requirements.txt /tmp/requirements.txt\nUSER root\nRUN /bin/extend\nUSER 1001\n",
		},
		{
			name: "with a file and a named base user", fileName: "package.json", baseUser: "node:node",
			want: "FROM " + pinned + "\nCOPY package.json /tmp/package.json\nUSER root\nRUN /bin/extend\nUSER node:node\n",
		},
		{
			name: "base user empty", fileName: "go.mod", baseUser: "",
			want: "FROM " + pinned + "\nCOPY go.mod /tmp/go.mod\nUSER root\nRUN /bin/extend\nUSER nobody\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Dockerfile(pinned, tt.fileName, tt.baseUser))
		})
	}
}
