package s3local

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// maxNameBytes is the longest file name most file systems hold (NAME_MAX
// on Linux, macOS and Windows: 255 bytes). An S3 key's segment may be
// longer (a key may be 1,024 bytes), and gofakes3's metadata file, named
// after the whole key with a hash, passes it from a key of about 190
// bytes.
const maxNameBytes = 255

// longNameDir holds, for each shortened name, the name it stands for.
const longNameDir = ".longnames"

// Shortened names are the name's first shortHead bytes, '~', and
// hashHex hex digits of its SHA-256: 201 bytes.
const (
	shortHead = 160
	hashHex   = 40
)

// longNameFs is an afero.Fs in which a path's components longer than
// maxNameBytes are stored under a shortened name. The mapping is a pure
// function of the name, so every operation finds the same file; the full
// name is kept in longNameDir so that directory listings give it back.
type longNameFs struct {
	afero.Fs
}

func shorten(name string) (short, hash string) {
	sum := sha256.Sum256([]byte(name))
	hash = hex.EncodeToString(sum[:])[:hashHex]
	return name[:shortHead] + "~" + hash, hash
}

// real maps a path to the one stored, recording each shortened name.
func (l longNameFs) real(p string) (string, error) {
	if len(p) <= maxNameBytes && !strings.Contains(p, string(filepath.Separator)) {
		return p, nil
	}
	parts := strings.Split(p, string(filepath.Separator))
	changed := false
	for i, part := range parts {
		if len(part) <= maxNameBytes {
			continue
		}
		short, hash := shorten(part)
		index := filepath.Join(longNameDir, hash)
		if _, err := l.Fs.Stat(index); errors.Is(err, os.ErrNotExist) {
			if err := l.Fs.MkdirAll(longNameDir, 0o755); err != nil {
				return "", err
			}
			if err := afero.WriteFile(l.Fs, index, []byte(part), 0o644); err != nil {
				return "", err
			}
		}
		parts[i] = short
		changed = true
	}
	if !changed {
		return p, nil
	}
	return strings.Join(parts, string(filepath.Separator)), nil
}

// full gives back the name a shortened one stands for, or name itself.
func (l longNameFs) full(name string) string {
	if len(name) != shortHead+1+hashHex || name[shortHead] != '~' {
		return name
	}
	hash := name[shortHead+1:]
	b, err := afero.ReadFile(l.Fs, filepath.Join(longNameDir, hash))
	if err != nil || len(b) <= maxNameBytes {
		return name
	}
	if short, _ := shorten(string(b)); short != name {
		return name
	}
	return string(b)
}

func (l longNameFs) Create(name string) (afero.File, error) {
	p, err := l.real(name)
	if err != nil {
		return nil, err
	}
	f, err := l.Fs.Create(p)
	return l.wrap(f, err)
}

func (l longNameFs) Mkdir(name string, perm os.FileMode) error {
	p, err := l.real(name)
	if err != nil {
		return err
	}
	return l.Fs.Mkdir(p, perm)
}

func (l longNameFs) MkdirAll(path string, perm os.FileMode) error {
	p, err := l.real(path)
	if err != nil {
		return err
	}
	return l.Fs.MkdirAll(p, perm)
}

func (l longNameFs) Open(name string) (afero.File, error) {
	p, err := l.real(name)
	if err != nil {
		return nil, err
	}
	f, err := l.Fs.Open(p)
	return l.wrap(f, err)
}

func (l longNameFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	p, err := l.real(name)
	if err != nil {
		return nil, err
	}
	f, err := l.Fs.OpenFile(p, flag, perm)
	return l.wrap(f, err)
}

func (l longNameFs) Remove(name string) error {
	p, err := l.real(name)
	if err != nil {
		return err
	}
	return l.Fs.Remove(p)
}

func (l longNameFs) RemoveAll(path string) error {
	p, err := l.real(path)
	if err != nil {
		return err
	}
	return l.Fs.RemoveAll(p)
}

func (l longNameFs) Rename(oldname, newname string) error {
	o, err := l.real(oldname)
	if err != nil {
		return err
	}
	n, err := l.real(newname)
	if err != nil {
		return err
	}
	return l.Fs.Rename(o, n)
}

func (l longNameFs) Stat(name string) (os.FileInfo, error) {
	p, err := l.real(name)
	if err != nil {
		return nil, err
	}
	fi, err := l.Fs.Stat(p)
	if err != nil {
		return nil, err
	}
	return named{fi, l.full(fi.Name())}, nil
}

func (l longNameFs) Chmod(name string, mode os.FileMode) error {
	p, err := l.real(name)
	if err != nil {
		return err
	}
	return l.Fs.Chmod(p, mode)
}

func (l longNameFs) Chown(name string, uid, gid int) error {
	p, err := l.real(name)
	if err != nil {
		return err
	}
	return l.Fs.Chown(p, uid, gid)
}

func (l longNameFs) Chtimes(name string, atime, mtime time.Time) error {
	p, err := l.real(name)
	if err != nil {
		return err
	}
	return l.Fs.Chtimes(p, atime, mtime)
}

func (l longNameFs) wrap(f afero.File, err error) (afero.File, error) {
	if err != nil {
		return nil, err
	}
	return longNameFile{f, l}, nil
}

// longNameFile lists a directory with the full names.
type longNameFile struct {
	afero.File
	fs longNameFs
}

func (f longNameFile) Readdir(count int) ([]os.FileInfo, error) {
	fis, err := f.File.Readdir(count)
	out := fis[:0]
	for _, fi := range fis {
		if fi.Name() == longNameDir {
			continue
		}
		out = append(out, named{fi, f.fs.full(fi.Name())})
	}
	return out, err
}

func (f longNameFile) Readdirnames(n int) ([]string, error) {
	names, err := f.File.Readdirnames(n)
	out := names[:0]
	for _, name := range names {
		if name == longNameDir {
			continue
		}
		out = append(out, f.fs.full(name))
	}
	return out, err
}

// named is a FileInfo under another name.
type named struct {
	os.FileInfo
	name string
}

func (n named) Name() string { return n.name }
