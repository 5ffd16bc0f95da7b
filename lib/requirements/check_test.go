package requirements_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
)

// checkCase is one file for Check and the message it must produce; an empty
// want means the file is accepted.
type checkCase struct {
	name string
	file string
	want string
}

// runCheckCases runs Check for kind on each case.
func runCheckCases(t *testing.T, kind string, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := requirements.Check(kind, []byte(tc.file))
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assertFault(t, err, fault.Invalid, "InvalidFile", tc.want)
		})
	}
}

// assertFault checks that err is a *fault.Error with this kind, reason and message.
func assertFault(t *testing.T, err error, kind fault.Kind, reason, message string) {
	t.Helper()
	require.Error(t, err)
	fe := fault.As(err)
	require.NotNil(t, fe, "error %q is not a *fault.Error", err)
	assert.Equal(t, kind, fe.Kind, "kind")
	assert.Equal(t, reason, fe.Reason, "reason")
	assert.Equal(t, message, fe.Message, "message")
}

func TestCheckUnsupportedKind(t *testing.T) {
	for _, kind := range []string{"", "rust", "Python", "python3"} {
		t.Run(kind, func(t *testing.T) {
			err := requirements.Check(kind, []byte("requests\n"))
			assertFault(t, err, fault.Invalid, "UnsupportedKind", "Unsupported kind: "+kind)
		})
	}
}

func TestCheckRefusesBinaryForEveryKind(t *testing.T) {
	for _, kind := range requirements.Kinds() {
		for name, data := range map[string][]byte{"invalid UTF-8": {'a', 0xff, '\n'}, "NUL": []byte("a\x00b\n")} {
			t.Run(kind+"/"+name, func(t *testing.T) {
				err := requirements.Check(kind, data)
				assertFault(t, err, fault.Invalid, "InvalidFile", "Requirements file must be valid UTF-8 text")
			})
		}
	}
}
