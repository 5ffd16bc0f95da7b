package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// subjectsFile is the JSON form of a saved store.
type subjectsFile struct {
	Subjects []subject `json:"subjects"`
}

// Load adds the keys saved in the JSON file at path to the store; a key
// whose uuid the store already holds is replaced. A missing file gives an
// error that wraps fs.ErrNotExist.
func (s *Subjects) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("loading subjects: %w", err)
	}
	var f subjectsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("loading subjects from %s: %w", path, err)
	}
	for i, sub := range f.Subjects {
		if err := sub.check(); err != nil {
			return fmt.Errorf("loading subjects from %s: entry %d: %w", path, i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range f.Subjects {
		replaced := false
		for i := range s.all {
			if s.all[i].UUID == sub.UUID {
				s.all[i], replaced = sub, true
			}
		}
		if !replaced {
			s.all = append(s.all, sub)
		}
	}
	return nil
}

// Save writes every key of the store to the file at path, readable by its
// owner only (0600). It writes a new file and renames it over the old one, so
// a reader never sees half a file.
func (s *Subjects) Save(path string) error {
	s.mu.RLock()
	b, err := json.MarshalIndent(subjectsFile{Subjects: append([]subject{}, s.all...)}, "", "  ")
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("saving subjects: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".subjects-*") // created 0600
	if err != nil {
		return fmt.Errorf("saving subjects: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving subjects to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving subjects to %s: %w", path, err)
	}
	return nil
}

// check rejects an entry that could not be a key.
func (s subject) check() error {
	switch {
	case strings.TrimSpace(s.Namespace) == "":
		return errors.New("no namespace")
	case uuid.Validate(s.UUID) != nil:
		return errors.New("the uuid is not a UUID")
	case s.Key == "" || strings.ContainsAny(s.Key, ": \t\r\n"):
		return errors.New("the key is empty or holds a separator")
	}
	return nil
}
