package actionproxy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedWriterKeepsFilesAndLocksTheRest(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()

	assert.Nil(t, SharedWriter(nil))
	assert.Same(t, f, SharedWriter(f), "a file is written by the children themselves")

	var buf bytes.Buffer
	w := SharedWriter(&buf)
	require.IsType(t, &lockedWriter{}, w)
	line := strings.Repeat("x", 1000) + "\n"
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, _ = w.Write([]byte(line))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, strings.Repeat(line, 800), buf.String(), "every write lands whole")
}
