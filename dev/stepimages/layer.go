package stepimages

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutVersion is part of every layer's cache key: change it when the way
// contents become a layer changes, so machines build their layers again.
const layoutVersion = "stepimages/1"

// content is one entry of a layer: a directory, a file holding body, or a
// copy of the file at from (a binary in the tool cache, whose name carries
// its version). Paths are relative to the root; everything is owned by 0:0.
type content struct {
	path string
	mode int64
	dir  bool
	body []byte
	from string
}

// key identifies a layer of contents. A copied file counts by its path, size
// and modification time, so a warm Push reads no binary.
func key(contents []content) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", layoutVersion)
	for _, c := range contents {
		fmt.Fprintf(h, "%q %o %t %x", c.path, c.mode, c.dir, sha256.Sum256(c.body))
		if c.from != "" {
			fi, err := os.Stat(c.from)
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", c.from, err)
			}
			fmt.Fprintf(h, " %q %d %d", c.from, fi.Size(), fi.ModTime().UnixNano())
		}
		fmt.Fprintln(h)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// layerMeta is what a cached layer's meta.json holds, so a warm Push hashes
// nothing.
type layerMeta struct {
	Digest v1.Hash `json:"digest"`
	DiffID v1.Hash `json:"diffID"`
	Size   int64   `json:"size"`
}

// cachedLayer returns the gzip layer of contents, building it into the cache
// once per machine: <cache>/stepimages/<key>/{layer.tar.gz,meta.json}.
func cachedLayer(cache string, contents []content) (v1.Layer, error) {
	k, err := key(contents)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "stepimages", k)
	if err := once(dir, func(tmp string) error { return writeLayer(tmp, contents) }); err != nil {
		return nil, fmt.Errorf("building the layer of %s: %w", contents[len(contents)-1].path, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, fmt.Errorf("reading a cached layer: %w", err)
	}
	var m layerMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "meta.json"), err)
	}
	l, err := partial.CompressedToLayer(&fileLayer{path: filepath.Join(dir, "layer.tar.gz"), meta: m})
	if err != nil {
		return nil, fmt.Errorf("opening a cached layer: %w", err)
	}
	return l, nil
}

// writeLayer writes contents into dir as layer.tar.gz and its meta.json.
func writeLayer(dir string, contents []content) error {
	entries := make([]fixtures.Entry, 0, len(contents))
	for _, c := range contents {
		switch {
		case c.dir:
			entries = append(entries, fixtures.Dir(c.path, c.mode, 0, 0))
		case c.from != "":
			body, err := os.ReadFile(c.from)
			if err != nil {
				return fmt.Errorf("reading %s: %w", c.from, err)
			}
			entries = append(entries, fixtures.File(c.path, c.mode, body))
		default:
			entries = append(entries, fixtures.File(c.path, c.mode, c.body))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	f, err := os.Create(filepath.Join(dir, "layer.tar.gz"))
	if err != nil {
		return fmt.Errorf("creating a layer file: %w", err)
	}
	defer f.Close()
	compressed, uncompressed := sha256.New(), sha256.New()
	counted := &countWriter{w: io.MultiWriter(f, compressed)}
	buf := bufio.NewWriterSize(counted, 1<<20)
	zw := gzip.NewWriter(buf)
	if err := fixtures.WriteTar(io.MultiWriter(zw, uncompressed), entries); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing a layer: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("writing a layer file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing a layer file: %w", err)
	}
	m := layerMeta{
		Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(compressed.Sum(nil))},
		DiffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(uncompressed.Sum(nil))},
		Size:   counted.n,
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding a layer's digests: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), data, 0o644); err != nil {
		return fmt.Errorf("writing a layer's digests: %w", err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a gzip layer file whose digests are known: go-containerregistry
// takes DiffID from it instead of decompressing the file to compute it.
type fileLayer struct {
	path string
	meta layerMeta
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.meta.Digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.meta.DiffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.meta.Size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
