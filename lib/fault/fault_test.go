package fault

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	e := New(TooMany, "QuotaExceeded", "at most %d builds for %s", 2, "alice")
	assert.Equal(t, TooMany, e.Kind)
	assert.Equal(t, "QuotaExceeded", e.Reason)
	assert.Equal(t, "at most 2 builds for alice", e.Message)
	assert.Equal(t, "at most 2 builds for alice", e.Error())
	assert.Nil(t, e.Unwrap())
	assert.Zero(t, e.RetryAfter)
	assert.Nil(t, e.Details)
}

func TestNewKeepsPercentSigns(t *testing.T) {
	e := New(Invalid, "X", "No source provided for build.")
	assert.Equal(t, "No source provided for build.", e.Message)
	e = New(Invalid, "X", "%s", "100% sure")
	assert.Equal(t, "100% sure", e.Message)
}

func TestWrap(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	e := Wrap(cause, Unavailable, "RegistryUnavailable", "Registry of %s is unavailable", "r.example.com")
	assert.Equal(t, Unavailable, e.Kind)
	assert.Equal(t, "Registry of r.example.com is unavailable", e.Message)
	assert.Equal(t, "Registry of r.example.com is unavailable: unexpected EOF", e.Error())
	assert.ErrorIs(t, e, io.ErrUnexpectedEOF)
	assert.Equal(t, cause, errors.Unwrap(e))
}

func TestAsAndKindOf(t *testing.T) {
	inner := New(NotFound, "NotFound", "No such build")
	outer := Wrap(inner, Internal, "Outer", "outer")
	tests := []struct {
		name     string
		err      error
		want     *Error
		wantKind Kind
	}{
		{name: "nil", err: nil, want: nil, wantKind: Internal},
		{name: "plain error", err: errors.New("boom"), want: nil, wantKind: Internal},
		{name: "fault", err: inner, want: inner, wantKind: NotFound},
		{name: "wrapped with %w", err: fmt.Errorf("reading build: %w", inner), want: inner, wantKind: NotFound},
		{name: "twice wrapped", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", inner)), want: inner, wantKind: NotFound},
		{name: "wrapped with %v loses it", err: fmt.Errorf("reading build: %v", inner), want: nil, wantKind: Internal},
		{name: "fault around a fault: the outer one", err: outer, want: outer, wantKind: Internal},
		{name: "joined", err: errors.Join(errors.New("x"), inner), want: inner, wantKind: NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := As(tt.err)
			if tt.want == nil {
				assert.Nil(t, got)
			} else {
				require.NotNil(t, got)
				assert.Same(t, tt.want, got)
			}
			assert.Equal(t, tt.wantKind, KindOf(tt.err))
		})
	}
}

func TestZeroKindIsInternal(t *testing.T) {
	var k Kind
	assert.Equal(t, Internal, k)
	assert.Equal(t, Internal, (&Error{Message: "x"}).Kind)
}

func TestKindsAreDistinct(t *testing.T) {
	kinds := []Kind{Internal, Invalid, Unauthorized, NotFound, MethodNotAllowed, Conflict, TooLarge, TooMany, Unavailable, Pending}
	seen := map[Kind]bool{}
	for _, k := range kinds {
		assert.False(t, seen[k], "kind %d repeated", k)
		seen[k] = true
	}
}
