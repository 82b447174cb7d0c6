package ssp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Installer downloads: GetBaremetalServerInstallerBundle and
// GetBaremetalServerWindowsAgentBundle serve a small generated file per
// bundle version (text/plain, as the spec says, with Content-Length and a
// Content-Disposition file name), the same bytes every time.
//
//   - linux: a gzipped tar holding vdefend-bms-installer-<version>/ with
//     vdefend-cli (a shim that runs `tokenctl sandbox vdefend-cli`, so an
//     unpacked bundle works against the sandbox like the vendor's),
//     VERSION, README and a 256 KiB payload of seeded random bytes.
//   - windows: an MSI stand-in: the compound-file signature, a line naming
//     the bundle, and the same kind of payload.
//
// bundle_version defaults to the latest agent build; an unknown version is
// 404 naming the known ones (INFERRED), a malformed one 400.

// bundlePayload is the size of the random part of a bundle.
const bundlePayload = 256 << 10

// bundleCache holds generated bundles by platform and version.
type bundleCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *bundleCache) get(key string, gen func() []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.m[key]; ok {
		return b
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	b := gen()
	c.m[key] = b
	return b
}

var bundleVersionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// bundleVersion reads bundle_version, or answers 400/404.
func bundleVersion(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := r.URL.Query().Get("bundle_version")
	switch {
	case v == "":
		return latestAgentVersion(), true
	case !bundleVersionPattern.MatchString(v):
		writeError(w, http.StatusBadRequest, moduleBaremetal, fmt.Sprintf("bundle_version %q is not a version (digits and dots, e.g. %s)", v, latestAgentVersion()))
		return "", false
	case !slices.Contains(agentVersions(), v):
		writeError(w, http.StatusNotFound, moduleBaremetal, fmt.Sprintf("no bundle has version %s; available: %s", v, strings.Join(agentVersions(), ", ")))
		return "", false
	}
	return v, true
}

func serveBundle(w http.ResponseWriter, name string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func (e *Emulator) downloadLinuxInstaller(w http.ResponseWriter, r *http.Request, _ sim.User) {
	v, ok := bundleVersion(w, r)
	if !ok {
		return
	}
	data := e.bundles.get("linux/"+v, func() []byte { return linuxBundle(v) })
	serveBundle(w, "vdefend-bms-installer-"+v+".tar.gz", data)
}

func (e *Emulator) downloadWindowsBundle(w http.ResponseWriter, r *http.Request, _ sim.User) {
	v, ok := bundleVersion(w, r)
	if !ok {
		return
	}
	data := e.bundles.get("windows/"+v, func() []byte { return windowsBundle(v) })
	serveBundle(w, "vdefend-bms-agent-"+v+".msi", data)
}

// payload is n seeded random bytes, the same for the same seed text.
func payload(seed string, n int) []byte {
	r := &rng{s: uint64(len(seed))}
	for _, c := range []byte(seed) {
		r.s = r.s*31 + uint64(c)
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		x := r.next()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	return b
}

// ShimScript is the two-line script that puts the sandbox's stand-in for
// the vendor's host installer on PATH as vdefend-cli.
const ShimScript = "#!/bin/sh\nexec tokenctl sandbox vdefend-cli \"$@\"\n"

// bundleTime is the fixed modification time of bundle entries, so a
// bundle's bytes depend on its version only.
var bundleTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func linuxBundle(version string) []byte {
	dir := "vdefend-bms-installer-" + version + "/"
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"vdefend-cli", 0o755, []byte(ShimScript)},
		{"VERSION", 0o644, []byte(version + "\n")},
		{"README", 0o644, []byte("tokenctl sandbox: a stand-in for the vDefend baremetal server installer bundle " + version + ".\n" +
			"vdefend-cli runs `tokenctl sandbox vdefend-cli`, which registers this host with the sandbox\n" +
			"named in the registration manifest: vdefend-cli install bms installer; vdefend-cli install bms ssp --mf=FILE --pp=PASSPHRASE\n")},
		{"payload.bin", 0o644, payload("linux/"+version, bundlePayload)},
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.ModTime = bundleTime
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: bundleTime, Format: tar.FormatPAX})
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: bundleTime, Format: tar.FormatPAX})
		tw.Write(f.data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// msiSignature is the compound-file signature MSI packages start with.
var msiSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

func windowsBundle(version string) []byte {
	var buf bytes.Buffer
	buf.Write(msiSignature)
	fmt.Fprintf(&buf, "\ntokenctl sandbox: a stand-in for the vDefend baremetal Windows agent bundle %s (not a real MSI)\n", version)
	buf.Write(payload("windows/"+version, bundlePayload))
	return buf.Bytes()
}
