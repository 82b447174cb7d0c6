// Package fsutil writes files the way tokenctl must: atomically (temp file in
// the same directory, then rename) and with private permissions, under an
// advisory lock shared by every tokenctl process.
package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// WriteFileAtomic writes data to path with the given mode: a temp file in the
// same directory, fsynced, then renamed over path. Readers see the old or the
// new file, never half of one.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}

// Lock is an advisory lock on path+".lock".
type Lock struct{ fl *flock.Flock }

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

func newLock(path string) (*flock.Flock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return flock.New(path+".lock", flock.SetPermissions(0o600)), nil
}

// LockFile takes the lock of path, waiting up to timeout.
func LockFile(path string, timeout time.Duration) (*Lock, error) {
	fl, err := newLock(path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w (waited %s)", path, ErrLocked, timeout)
	}
	return &Lock{fl: fl}, nil
}

// TryLockFile takes the lock of path or fails at once with ErrLocked.
func TryLockFile(path string) (*Lock, error) {
	fl, err := newLock(path)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryLock()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	return &Lock{fl: fl}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.fl == nil {
		return nil
	}
	return l.fl.Unlock()
}

// RemoveStaleTemps removes the temporary files WriteFileAtomic leaves
// behind when its process is killed between creating and renaming one. Call
// it only while holding path's lock, when no other writer can be mid-write.
// Failures are ignored: a leftover costs disk space, nothing more.
func RemoveStaleTemps(path string) {
	dir := filepath.Dir(path)
	prefix := "." + filepath.Base(path) + ".tmp-"
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
