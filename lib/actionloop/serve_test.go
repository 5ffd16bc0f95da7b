package actionloop

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveLines runs serve over the given input and returns the answers after
// the acknowledgement, each decoded.
func serveLines(t *testing.T, input string, main Main, limit int) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, serve(strings.NewReader(input), &out, main, limit))
	lines := strings.Split(out.String(), "\n")
	require.Equal(t, `{"ok":true}`, lines[0], "the acknowledgement comes first")
	require.Equal(t, "", lines[len(lines)-1], "every answer ends with a newline")
	var answers []map[string]any
	for _, l := range lines[1 : len(lines)-1] {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "answer %q", l)
		answers = append(answers, m)
	}
	return answers
}

func echoArgs(args map[string]any) map[string]any { return map[string]any{"args": args} }

// unsetEnv removes name for the test and restores it afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Setenv(name, "")
	require.NoError(t, os.Unsetenv(name))
}

func TestServeAcknowledgesBeforeAnyActivation(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Serve(strings.NewReader(""), &out, echoArgs))
	assert.Equal(t, "{\"ok\":true}\n", out.String())
}

func TestServeSetsAndClearsActivationEnv(t *testing.T) {
	for _, n := range []string{"__OW_NAMESPACE", "__OW_API_KEY", "__OW_ACTIVATION_ID", "__OW_DEADLINE", "__OW_ACTION_NAME"} {
		unsetEnv(t, n)
	}
	// The container sets this one before the process starts.
	t.Setenv("__OW_API_HOST", "http://boot")

	names := []string{"__OW_NAMESPACE", "__OW_API_KEY", "__OW_ACTIVATION_ID", "__OW_DEADLINE", "__OW_API_HOST", "__OW_VALUE"}
	seen := func(map[string]any) map[string]any {
		got := map[string]any{}
		for _, n := range names {
			if v, ok := os.LookupEnv(n); ok {
				got[n] = v
			}
		}
		return got
	}
	input := strings.Join([]string{
		`{"value":{"a":1},"namespace":"alice","api_key":"uuid:secret","activation_id":"a1","deadline":"1700000000000","api_host":"http://other"}`,
		`{"value":{},"namespace":"bob","activation_id":"a2","deadline":1700000000001}`,
		`{"value":{},"activation_id":"a3"}`,
	}, "\n") + "\n"

	answers := serveLines(t, input, seen, maxLine)

	require.Len(t, answers, 3)
	assert.Equal(t, map[string]any{
		"__OW_NAMESPACE": "alice", "__OW_API_KEY": "uuid:secret", "__OW_ACTIVATION_ID": "a1",
		"__OW_DEADLINE": "1700000000000", "__OW_API_HOST": "http://other",
	}, answers[0])
	assert.Equal(t, map[string]any{
		"__OW_NAMESPACE": "bob", "__OW_ACTIVATION_ID": "a2", "__OW_DEADLINE": "1700000000001",
		"__OW_API_HOST": "http://boot",
	}, answers[1], "the key of the first activation is gone, the host the process started with is back")
	assert.Equal(t, map[string]any{"__OW_ACTIVATION_ID": "a3", "__OW_API_HOST": "http://boot"}, answers[2])

	_, ok := os.LookupEnv("__OW_ACTIVATION_ID")
	assert.False(t, ok, "nothing of the last activation is left once serving ends")
	assert.Equal(t, "http://boot", os.Getenv("__OW_API_HOST"))
}

func TestServePassesValueAsArgs(t *testing.T) {
	answers := serveLines(t, `{"value":{"name":"x","n":2,"nested":{"k":[1,"two"]}},"namespace":"ns"}`+"\n", echoArgs, maxLine)
	require.Len(t, answers, 1)
	assert.Equal(t, map[string]any{"name": "x", "n": 2.0, "nested": map[string]any{"k": []any{1.0, "two"}}}, answers[0]["args"])
}

func TestServeAnswersEveryBadLineAndGoesOn(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantErr string
	}{
		{"not JSON", `{"value":`, "invalid activation"},
		{"a JSON array", `[1,2]`, "invalid activation"},
		{"JSON null", `null`, "not a JSON object"},
		{"value is a string", `{"value":"hello"}`, "not an object"},
		{"value is an array", `{"value":[1]}`, "not an object"},
		{"a blank line", ``, "invalid activation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := serveLines(t, tt.line+"\n"+`{"value":{"after":true}}`+"\n", echoArgs, maxLine)
			require.Len(t, answers, 2)
			assert.Contains(t, answers[0]["error"], tt.wantErr)
			assert.Equal(t, map[string]any{"args": map[string]any{"after": true}}, answers[1])
		})
	}
}

func TestServeMissingValueGivesEmptyArgs(t *testing.T) {
	answers := serveLines(t, `{"namespace":"ns"}`+"\n", echoArgs, maxLine)
	require.Len(t, answers, 1)
	assert.Equal(t, map[string]any{"args": map[string]any{}}, answers[0])
}

func TestServeRecoversFromPanic(t *testing.T) {
	main := func(args map[string]any) map[string]any {
		if args["boom"] == true {
			var m map[string]any
			m["x"] = 1 // assignment to a nil map
		}
		return map[string]any{"ok": true}
	}
	answers := serveLines(t, `{"value":{"boom":true}}`+"\n"+`{"value":{}}`+"\n", main, maxLine)
	require.Len(t, answers, 2)
	assert.Contains(t, answers[0]["error"], "action panicked")
	assert.Contains(t, answers[0]["error"], "nil map")
	assert.Equal(t, map[string]any{"ok": true}, answers[1])
}

func TestServeHandlesLinesOverBufioDefault(t *testing.T) {
	big := strings.Repeat("x", 9<<20) // 9 MiB, far over bufio's 4 KiB buffer and 64 KiB Scanner limit
	size := func(args map[string]any) map[string]any {
		s, _ := args["big"].(string)
		return map[string]any{"len": len(s)}
	}
	answers := serveLines(t, `{"value":{"big":"`+big+`"}}`+"\n"+`{"value":{"big":"y"}}`+"\n", size, maxLine)
	require.Len(t, answers, 2)
	assert.Equal(t, float64(len(big)), answers[0]["len"])
	assert.Equal(t, 1.0, answers[1]["len"])
}

func TestServeRefusesLineOverLimit(t *testing.T) {
	const limit = 64
	tests := []struct {
		name    string
		value   string
		wantErr bool
	}{
		{"just under", strings.Repeat("a", limit-len(`{"value":{"s":""}}`)), false},
		{"one over", strings.Repeat("a", limit-len(`{"value":{"s":""}}`)+1), true},
		{"many buffers over", strings.Repeat("a", 10*4096), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := `{"value":{"s":"` + tt.value + `"}}` + "\n" + `{"value":{"s":"next"}}` + "\n"
			answers := serveLines(t, input, echoArgs, limit)
			require.Len(t, answers, 2)
			if tt.wantErr {
				assert.Contains(t, answers[0]["error"], "larger than 64 bytes")
			} else {
				assert.Equal(t, map[string]any{"args": map[string]any{"s": tt.value}}, answers[0])
			}
			assert.Equal(t, map[string]any{"args": map[string]any{"s": "next"}}, answers[1])
		})
	}
}

func TestServeWritesOneLinePerResult(t *testing.T) {
	tests := []struct {
		name   string
		result map[string]any
		want   map[string]any
	}{
		{"newlines in strings", map[string]any{"text": "a\nb\r\nc"}, map[string]any{"text": "a\nb\r\nc"}},
		{"HTML characters", map[string]any{"html": "<a href='x'>&</a>"}, map[string]any{"html": "<a href='x'>&</a>"}},
		{"nil result", nil, map[string]any{}},
		{"unencodable", map[string]any{"n": math.Inf(1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := serveLines(t, `{"value":{}}`+"\n", func(map[string]any) map[string]any { return tt.result }, maxLine)
			require.Len(t, answers, 1)
			if tt.want == nil {
				assert.Contains(t, answers[0]["error"], "encoding the result")
				return
			}
			assert.Equal(t, tt.want, answers[0])
		})
	}
}

func TestServeLastLineWithoutNewline(t *testing.T) {
	answers := serveLines(t, `{"value":{"a":1}}`+"\n"+`{"value":{"b":2}}`, echoArgs, maxLine)
	require.Len(t, answers, 2)
	assert.Equal(t, map[string]any{"args": map[string]any{"b": 2.0}}, answers[1])
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after == 0 {
		return 0, errors.New("broken pipe")
	}
	w.after--
	return len(b), nil
}

func TestServeFailsWhenResultsCannotBeWritten(t *testing.T) {
	tests := []struct {
		name  string
		after int
		want  string
	}{
		{"acknowledgement", 0, "writing the acknowledgement"},
		{"result", 1, "writing a result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Serve(strings.NewReader(`{"value":{}}`+"\n"), &failingWriter{after: tt.after}, echoArgs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
