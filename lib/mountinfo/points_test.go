package mountinfo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoints(t *testing.T) {
	table := "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
		"36 35 98:0 /mnt1 /mnt/with\\040space rw - ext3 /dev/root rw\n" +
		"37 35 98:0 / /etc/hosts/ rw - ext3 /dev/root rw\n" +
		"short line\n" +
		"38 35 98:0 / /end\\134 rw - ext3 /dev/root rw\n"
	got, err := Points(strings.NewReader(table))
	require.NoError(t, err)
	assert.Equal(t, []string{"/", "/mnt/with space", "/etc/hosts", `/end\`}, got)
}

func TestReadFileSelf(t *testing.T) {
	got, err := ReadFile(Self)
	require.NoError(t, err)
	assert.Contains(t, got, "/")
}
