package runtimebuild

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestParseTarget(t *testing.T) {
	const (
		shapeMsg = "Invalid target for the build. The target must be <user>:<tag>."
		hostMsg  = "Invalid target for the build. The target names no registry host or path, only <user>:<tag>."
		tagMsg   = "Invalid target for the build. The tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}."
		userMsg  = "Invalid target for the build."
	)
	tag128 := "t" + strings.Repeat("x", 127)
	tests := []struct {
		name    string
		target  string
		caller  string
		strict  bool
		want    Target
		wantMsg string
	}{
		{name: "user and tag", target: "alice:v1", caller: "alice", strict: true, want: Target{User: "alice", Tag: "v1"}},
		{name: "tag with dots, dashes and underscores", target: "alice:_py-3.13_x", caller: "alice", strict: true, want: Target{User: "alice", Tag: "_py-3.13_x"}},
		{name: "tag of 128 characters", target: "alice:" + tag128, caller: "alice", strict: true, want: Target{User: "alice", Tag: tag128}},
		{name: "tag of 129 characters", target: "alice:" + tag128 + "y", caller: "alice", strict: true, wantMsg: tagMsg},
		{name: "missing colon", target: "alice", caller: "alice", strict: true, wantMsg: shapeMsg},
		{name: "empty user", target: ":v1", caller: "alice", strict: true, wantMsg: shapeMsg},
		{name: "empty tag", target: "alice:", caller: "alice", strict: true, wantMsg: shapeMsg},
		{name: "only a colon", target: ":", caller: "alice", strict: true, wantMsg: shapeMsg},
		{name: "registry host", target: "registry.example.com/alice:v1", caller: "alice", strict: true, wantMsg: hostMsg},
		{name: "registry host with port", target: "registry:5000/alice:v1", caller: "alice", strict: true, wantMsg: hostMsg},
		{name: "path in the user", target: "alice/other:v1", caller: "alice", strict: true, wantMsg: hostMsg},
		{name: "slash in the tag", target: "alice:v1/x", caller: "alice", strict: true, wantMsg: hostMsg},
		{name: "tag starting with a dot", target: "alice:.v1", caller: "alice", strict: true, wantMsg: tagMsg},
		{name: "tag starting with a dash", target: "alice:-v1", caller: "alice", strict: true, wantMsg: tagMsg},
		{name: "second colon in the tag", target: "alice:v1:v2", caller: "alice", strict: true, wantMsg: tagMsg},
		{name: "digest instead of tag, strict", target: "alice@sha256:abc", caller: "alice", strict: true, wantMsg: userMsg},
		{name: "digest instead of tag, not strict", target: "alice@sha256:abc", caller: "alice", strict: false, wantMsg: `Invalid target for the build. "alice@sha256" is not a valid repository name.`},
		{name: "space in the tag", target: "alice:v 1", caller: "alice", strict: true, wantMsg: tagMsg},
		{name: "another user, strict", target: "bob:v1", caller: "alice", strict: true, wantMsg: userMsg},
		{name: "caller in upper case, strict", target: "Alice:v1", caller: "alice", strict: true, wantMsg: userMsg},
		{name: "another user, not strict", target: "bob:v1", caller: "alice", strict: false, want: Target{User: "bob", Tag: "v1"}},
		{name: "upper case user, not strict", target: "Bob:v1", caller: "alice", strict: false, wantMsg: `Invalid target for the build. "Bob" is not a valid repository name.`},
		{name: "invalid repository component, not strict", target: "bob..x:v1", caller: "alice", strict: false, wantMsg: `Invalid target for the build. "bob..x" is not a valid repository name.`},
		{name: "invalid repository component equal to the caller", target: "-alice:v1", caller: "-alice", strict: true, wantMsg: `Invalid target for the build. "-alice" is not a valid repository name.`},
		{name: "user over 63 characters, not strict", target: strings.Repeat("b", 64) + ":v1", caller: "alice", strict: false, wantMsg: `Invalid target for the build. "` + strings.Repeat("b", 64) + `" is not a valid repository name.`},
		{name: "user of 63 characters, not strict", target: strings.Repeat("b", 63) + ":v1", caller: "alice", strict: false, want: Target{User: strings.Repeat("b", 63), Tag: "v1"}},
		{name: "user with separators", target: "a.b_c__d-e:v1", caller: "a.b_c__d-e", strict: true, want: Target{User: "a.b_c__d-e", Tag: "v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.target, tt.caller, tt.strict)
			if tt.wantMsg == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				assert.Equal(t, tt.target, got.String())
				return
			}
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, fault.Invalid, fe.Kind)
			assert.Equal(t, "InvalidTarget", fe.Reason)
			assert.Equal(t, tt.wantMsg, fe.Message)
			assert.True(t, strings.HasPrefix(fe.Message, "Invalid target for the build."))
			assert.Equal(t, Target{}, got)
		})
	}
}
