package restore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// The rejects file holds the archive lines whose items were not written:
// those DynamoDB refused, those over the 400 KB item limit and those that
// could not be converted. Each is the archive line as it was read, with
// one member put first:
//
//	{"rejected":{"reason":"...","object":"...","line":12,"at":"2026-..."},"table":"Orders",...}
//
// It is an archive file like the others: after fixing the cause (a
// --type-hint, more capacity, a smaller item), restore it with
// --from REJECTS-FILE. A line rejected again gets a new "rejected" member
// in place of the old one.

// Rejection is the "rejected" member of a line in a rejects file.
type Rejection struct {
	Reason string    `json:"reason"`
	Object string    `json:"object"`
	Line   int       `json:"line"`
	At     time.Time `json:"at"`
}

// rejectsFile appends lines to a file opened on the first one. It is
// used by one goroutine.
type rejectsFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	n    int
}

var rejectedPrefix = []byte(`{"rejected":`)

// checkWritable fails when the file at path could not be appended to
// (it is created to find out, and removed again when it was not there),
// so that a run learns it before its first write, not after.
func checkWritable(path string) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("can't write %s: %w", path, err)
	}
	_ = f.Close()
	if os.IsNotExist(statErr) {
		_ = os.Remove(path)
	}
	return nil
}

// add appends the line data (an archive line) with its rejection.
func (r *rejectsFile) add(data []byte, object string, line int, reason string) error {
	if r.path == "" {
		return nil
	}
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open rejects file: %w", err)
		}
		r.f, r.w = f, bufio.NewWriter(f)
	}
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, rejectedPrefix) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err == nil {
			delete(m, "rejected")
			data, _ = json.Marshal(m) // raw members cannot fail to marshal
		}
	}
	rj, _ := json.Marshal(Rejection{Reason: reason, Object: object, Line: line, At: time.Now().UTC()}) // plain values
	var err error
	if len(data) >= 2 && data[0] == '{' {
		_, _ = r.w.Write(rejectedPrefix)
		_, _ = r.w.Write(rj)
		if !bytes.Equal(bytes.TrimSpace(data[1:]), []byte("}")) {
			_ = r.w.WriteByte(',')
		}
		_, err = r.w.Write(data[1:])
	} else {
		_, err = fmt.Fprintf(r.w, `{"rejected":%s}`, rj)
	}
	if err == nil {
		err = r.w.WriteByte('\n')
	}
	if err != nil {
		return fmt.Errorf("write rejects file %s: %w", r.path, err)
	}
	r.n++
	return nil
}

// sync puts what was added on disk.
func (r *rejectsFile) sync() error {
	if r.f == nil {
		return nil
	}
	err := r.w.Flush()
	if err == nil {
		err = r.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("write rejects file %s: %w", r.path, err)
	}
	return nil
}

// close flushes, syncs and closes the file, if it was opened.
func (r *rejectsFile) close() error {
	if r.f == nil {
		return nil
	}
	err := r.sync()
	if cerr := r.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write rejects file %s: %w", r.path, cerr)
	}
	r.f = nil
	return err
}
