package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/fsutil"
)

// Cache holds what tokenctl discovers at run time (API versions, SD-WAN ids,
// OAuth access tokens), keyed by server URL, in
// $XDG_STATE_HOME/tokenctl/cache.json (0600). It is disposable: a missing or
// damaged cache is an empty one. Read commands write here, never to the
// config file.
type Cache struct {
	path string
}

type cacheFile struct {
	Servers map[string]map[string]json.RawMessage `json:"servers"`
}

// OpenCache returns the cache in the state directory.
func OpenCache() (*Cache, error) {
	dir, err := StateDir()
	if err != nil {
		return nil, err
	}
	return &Cache{path: filepath.Join(dir, "cache.json")}, nil
}

// NewCache returns a cache stored at path (tests).
func NewCache(path string) *Cache { return &Cache{path: path} }

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

func serverKey(server string) string { return strings.TrimRight(server, "/") }

func (c *Cache) read() cacheFile {
	cf := cacheFile{Servers: map[string]map[string]json.RawMessage{}}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return cf
	}
	if json.Unmarshal(data, &cf) != nil || cf.Servers == nil {
		return cacheFile{Servers: map[string]map[string]json.RawMessage{}}
	}
	return cf
}

// Get decodes the value cached for server and key into v.
func (c *Cache) Get(server, key string, v any) bool {
	raw, ok := c.read().Servers[serverKey(server)][key]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// Set stores v for server and key.
func (c *Cache) Set(server, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.update(func(cf *cacheFile) {
		k := serverKey(server)
		if cf.Servers[k] == nil {
			cf.Servers[k] = map[string]json.RawMessage{}
		}
		cf.Servers[k][key] = raw
	})
}

// Delete removes server's key.
func (c *Cache) Delete(server, key string) error {
	return c.update(func(cf *cacheFile) {
		delete(cf.Servers[serverKey(server)], key)
	})
}

func (c *Cache) update(change func(*cacheFile)) error {
	lock, err := fsutil.LockFile(c.path, 10*time.Second)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	cf := c.read()
	change(&cf)
	data, err := json.Marshal(cf)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(c.path, data, 0o600)
}
