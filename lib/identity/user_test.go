package identity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestValidUser(t *testing.T) {
	tests := []struct {
		user string
		want bool
	}{
		{"alice", true},
		{"whisk-system", true},
		{"a.b", true},
		{"a_b", true},
		{"a__b", true},
		{"a---b", true},
		{"user42", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"Alice", false},
		{"-a", false},
		{"a-", false},
		{".a", false},
		{"a..b", false},
		{"a___b", false},
		{"a.-b", false},
		{"a/b", false},
		{"a b", false},
		{"a@b", false},
		{"alicé", false},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			assert.Equal(t, tt.want, ValidUser(tt.user))
		})
	}
}

func TestUser(t *testing.T) {
	tests := []struct {
		namespace string
		want      string
		wantErr   bool
	}{
		{"Alice", "alice", false},
		{"whisk-system", "whisk-system", false},
		{"Bad Name", "", true},
		{strings.Repeat("B", 64), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.namespace, func(t *testing.T) {
			got, err := User(tt.namespace)
			if tt.wantErr {
				fe := fault.As(err)
				require.NotNil(t, fe)
				assert.Equal(t, fault.Invalid, fe.Kind)
				assert.Equal(t, "InvalidUser", fe.Reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
