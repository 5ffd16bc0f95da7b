package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

func TestParseMaxAgeHours(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		present bool
		want    int
		wantErr bool
	}{
		{name: "absent", present: false, want: 24},
		{name: "absent with a value", v: float64(5), present: false, want: 24},
		{name: "null", v: nil, present: true, want: 24},
		{name: "numeric string", v: "24", present: true, want: 24},
		{name: "numeric string with spaces", v: " 12 ", present: true, want: 12},
		{name: "number", v: float64(24), present: true, want: 24},
		{name: "json number", v: json.Number("48"), present: true, want: 48},
		{name: "int", v: 6, present: true, want: 6},
		{name: "zero", v: float64(0), present: true, want: 0},
		{name: "zero string", v: "0", present: true, want: 0},
		{name: "a year", v: float64(8760), present: true, want: 8760},
		{name: "a year as a string", v: "8760", present: true, want: 8760},
		{name: "over a year", v: float64(8761), present: true, wantErr: true},
		{name: "over a year as a string", v: "8761", present: true, wantErr: true},
		{name: "negative", v: float64(-1), present: true, wantErr: true},
		{name: "negative string", v: "-1", present: true, wantErr: true},
		{name: "negative int", v: -1, present: true, wantErr: true},
		{name: "fraction", v: 1.5, present: true, wantErr: true},
		{name: "fraction string", v: "1.5", present: true, wantErr: true},
		{name: "fraction json number", v: json.Number("1.5"), present: true, wantErr: true},
		{name: "bad json number", v: json.Number("x"), present: true, wantErr: true},
		{name: "words", v: "abc", present: true, wantErr: true},
		{name: "empty string", v: "", present: true, wantErr: true},
		{name: "boolean", v: true, present: true, wantErr: true},
		{name: "huge number", v: 1e300, present: true, wantErr: true},
		{name: "object", v: map[string]any{"h": 1}, present: true, wantErr: true},
		{name: "list", v: []any{float64(1)}, present: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMaxAgeHours(tt.v, tt.present)
			if tt.wantErr {
				require.Error(t, err)
				fe := fault.As(err)
				require.NotNil(t, fe)
				assert.Equal(t, fault.Invalid, fe.Kind)
				assert.Equal(t, "InvalidMaxAge", fe.Reason)
				assert.Contains(t, fe.Message, "max_age_hours")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

var cleanupNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// buildJob is a build Job of user in namespace "builds", finished at the
// given time with the given condition, or unfinished when cond is "".

func TestFields(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		read       func(webaction.Request) (any, error)
		params     map[string]any
		want       any
		wantReason string
	}{
		{name: "id in the path", read: buildID, params: map[string]any{"__ow_path": "/ab/logs", "id": "cd"}, want: "ab"},
		{name: "id as a field", read: buildID, params: map[string]any{"id": "cd"}, want: "cd"},
		{name: "no id", read: buildID, params: map[string]any{"__ow_path": "/"}, wantReason: "MissingID"},
		{name: "retry absent", read: retry, want: true},
		{name: "retry false", read: retry, params: map[string]any{"retry": "false"}, want: false},
		{name: "retry a JSON boolean", read: retry, params: map[string]any{"retry": false}, want: false},
		{name: "retry maybe", read: retry, params: map[string]any{"retry": "maybe"}, wantReason: "InvalidRetry"},
		{name: "tail absent", read: tail, want: DefaultLogTail},
		{name: "tail a JSON number", read: tail, params: map[string]any{"tail": float64(30)}, want: 30},
		{name: "tail at the maximum", read: tail, params: map[string]any{"tail": "5000"}, want: 5000},
		{name: "tail over the maximum", read: tail, params: map[string]any{"tail": "5001"}, wantReason: "InvalidTail"},
		{name: "tail 0", read: tail, params: map[string]any{"tail": "0"}, wantReason: "InvalidTail"},
		{name: "since absent", read: since, want: time.Time{}},
		{name: "since", read: since, params: map[string]any{"since": "2026-01-02T16:04:05+01:00"}, want: at},
		{name: "since a date", read: since, params: map[string]any{"since": "2026-01-02"}, wantReason: "InvalidSince"},
		{name: "max age absent", read: maxAge, want: 24 * time.Hour},
		{name: "max age", read: maxAge, params: map[string]any{"max_age_hours": "0"}, want: time.Duration(0)},
		{name: "max age negative", read: maxAge, params: map[string]any{"max_age_hours": float64(-1)}, wantReason: "InvalidMaxAge"},
		{name: "a payload", read: payload, params: map[string]any{"kind": "go"}, want: true},
		{name: "no payload", read: payload, params: map[string]any{"__ow_body": "not JSON"}, wantReason: "NoPayload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read(webaction.Decode(tt.params))
			if tt.wantReason != "" {
				resp := webaction.FromError(err)
				assert.Equal(t, http.StatusBadRequest, resp.Status)
				assert.Equal(t, tt.wantReason, resp.Body["reason"])
				return
			}
			require.NoError(t, err)
			if w, ok := tt.want.(time.Time); ok {
				assert.True(t, w.Equal(got.(time.Time)), "%v", got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func buildID(r webaction.Request) (any, error) { return BuildID(r) }
func retry(r webaction.Request) (any, error)   { return Retry(r) }
func tail(r webaction.Request) (any, error)    { return Tail(r) }
func since(r webaction.Request) (any, error)   { return Since(r) }
func maxAge(r webaction.Request) (any, error)  { return MaxAge(r) }
func payload(r webaction.Request) (any, error) {
	return true, RequireAny(r, "source", "target", "kind", "file")
}
