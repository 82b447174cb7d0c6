package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/fsutil"
)

// configHeader starts a config file tokenctl creates.
const configHeader = "# tokenctl configuration; edit with `tokenctl profile set`. Keep this file private (mode 0600).\n"

// Update applies change to the config file under its lock: read, change,
// write atomically with mode 0600. Concurrent tokenctl processes take turns,
// so none loses another's profile.
//
// The write edits the file's YAML node tree rather than re-marshalling the
// profiles, so a person's comments, key order and the fields change left
// alone stay as they were. A config.yaml that is a symbolic link (dotfiles
// kept in a repository) is written through to its target, which stays a
// link's target; temporary files left by a writer that was killed
// mid-write are removed.
func Update(path string, change func(*File) error) error {
	target, err := writeTarget(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		return dirError(path)
	}
	lock, err := fsutil.LockFile(target, 10*time.Second)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	// Every writer holds the lock, so a temporary file now is a dead one's.
	fsutil.RemoveStaleTemps(target)
	f, err := Load(target)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := change(f); err != nil {
		return err
	}
	data, err := editYAML(old, f)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(target, data, 0o600)
}

// dirError is the message for a config path that is a directory.
func dirError(path string) error {
	return exit.Usagef("config file %s is a directory; TOKENCTL_CONFIG (or XDG_CONFIG_HOME/tokenctl/config.yaml) must name a file", path)
}

// writeTarget follows symbolic links from path to the file a write must
// replace: renaming over a link would turn it into a regular file and leave
// its target stale. A dangling link's target is created.
func writeTarget(path string) (string, error) {
	p := path
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = dest
	}
	return "", exit.Usagef("config file %s: too many levels of symbolic links", path)
}

// editYAML returns old (a YAML document, possibly empty) changed to hold f,
// keeping its comments and the order of its keys.
func editYAML(old []byte, f *File) ([]byte, error) {
	var want yaml.Node
	if err := want.Encode(f); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if len(bytes.TrimSpace(old)) > 0 {
		if err := yaml.Unmarshal(old, &doc); err != nil {
			return nil, err
		}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		// A new (or empty) file gets the header; one that holds no mapping
		// could not have been loaded, so nothing of it is lost.
		root := &want
		root.HeadComment = configHeader[2 : len(configHeader)-1]
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	} else {
		mergeNode(doc.Content[0], &want)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mergeNode makes dst hold src's value. Mappings are merged key by key:
// keys src lacks are removed, keys both have are merged, new keys are
// appended in src's order. Anything else is replaced, keeping the comments
// that were attached to dst.
func mergeNode(dst, src *yaml.Node) {
	if dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode {
		srcVals := map[string]*yaml.Node{}
		for i := 0; i+1 < len(src.Content); i += 2 {
			srcVals[src.Content[i].Value] = src.Content[i+1]
		}
		seen := map[string]bool{}
		kept := dst.Content[:0:0]
		for i := 0; i+1 < len(dst.Content); i += 2 {
			k, v := dst.Content[i], dst.Content[i+1]
			nv, ok := srcVals[k.Value]
			if !ok {
				continue
			}
			seen[k.Value] = true
			mergeNode(v, nv)
			kept = append(kept, k, v)
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			if !seen[src.Content[i].Value] {
				kept = append(kept, src.Content[i], src.Content[i+1])
			}
		}
		dst.Content = kept
		return
	}
	if dst.Kind == yaml.ScalarNode && src.Kind == yaml.ScalarNode && dst.Value == src.Value {
		return // unchanged: keep its style (quotes) too
	}
	head, line, foot := dst.HeadComment, dst.LineComment, dst.FootComment
	*dst = *src
	dst.HeadComment, dst.LineComment, dst.FootComment = head, line, foot
}
