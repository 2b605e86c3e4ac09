package restore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Checkpoint is where an interrupted restore stands: the objects it
// finished, and in the object it was reading, the last line whose item
// is written (or that was skipped). A restore given the same checkpoint
// file goes on from there; it removes the file when it completes.
type Checkpoint struct {
	Version int    `json:"version"`
	Source  string `json:"source"`
	Table   string `json:"table"`
	// Filter is the run's selection (archivefs.Filter.String): lines it
	// left out are finished too, so another selection can't go on from
	// here.
	Filter string   `json:"filter"`
	Done   []string `json:"done"`             // objects finished, sorted
	Object string   `json:"object,omitempty"` // object being read
	Line   int      `json:"line,omitempty"`   // in Object: lines up to this one are finished
	// Incomplete describes what earlier runs read but could not write
	// (malformed lines, unconvertible or refused items): the lines are
	// finished, so a later run would not see them again. While it is not
	// empty, the checkpoint stays and every run ends incomplete.
	Incomplete []string  `json:"incomplete,omitempty"`
	Updated    time.Time `json:"updated"`
}

// checkpointVersion 2 added Filter: a version 1 checkpoint does not say
// what it selected, and is refused.
const checkpointVersion = 2

// ErrCheckpoint is wrapped by errors about a checkpoint file that does not
// belong to the run.
var ErrCheckpoint = errors.New("checkpoint does not match")

// loadCheckpoint reads the checkpoint at path; a missing file is an empty
// checkpoint. It checks that it is for the same source, table and filter.
func loadCheckpoint(path, source, table, filter string) (*Checkpoint, bool, error) {
	cp := &Checkpoint{Version: checkpointVersion, Source: source, Table: table, Filter: filter}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read checkpoint: %w", err)
	}
	var got Checkpoint
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, false, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	if got.Version != checkpointVersion {
		return nil, false, fmt.Errorf("%w: %s has version %d, want %d", ErrCheckpoint, path, got.Version, checkpointVersion)
	}
	if got.Source != source || got.Table != table {
		return nil, false, fmt.Errorf("%w: %s is for a restore from %s into table %s, not from %s into %s: use another file or remove it",
			ErrCheckpoint, path, got.Source, got.Table, source, table)
	}
	if got.Filter != filter {
		return nil, false, fmt.Errorf("%w: %s is for a restore of %s, not of %s (the lines it left out are marked finished): run with the same --source-table, --since, --until and --key, or use another file",
			ErrCheckpoint, path, got.Filter, filter)
	}
	return &got, true, nil
}

// save writes the checkpoint atomically: to a temporary file in the same
// directory, synced, then renamed over path, so that a crash leaves the
// old or the new checkpoint, never a torn one.
func (cp *Checkpoint) save(path string) error {
	cp.Updated = time.Now().UTC()
	slices.Sort(cp.Done)
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	return nil
}
