package ssp

import (
	"fmt"
	"strconv"
	"strings"
)

// versionParts is a dotted version padded to six parts with zeros (the spec:
// "unspecified parts are defaulted to 0").
type versionParts [6]int64

// versionPattern is one software_versions entry, in the spec's syntax:
//   - a wildcard: numeric parts then '*' as the last part ('5.*', '5.2.*'),
//     matching every version that starts with those parts;
//   - a comparison: '<' or '>' then a numeric version ('<5.2', '>3.1'),
//     compared after padding both sides to six parts;
//   - an exact dotted version ('5.2.0.0.0.25398843'), equal after padding, so
//     '5.2' matches only 5.2.0.0.0.0; use '5.2.*' for the family.
//
// Entries need at least major.minor ('5.*' counts: the spec shows it) and at
// most six parts; a comparison may not contain '*'.
type versionPattern struct {
	op     byte // '*' wildcard, '<', '>', '=' exact
	parts  versionParts
	prefix int // wildcard: how many leading parts must match
}

func parseVersionPattern(raw string) (versionPattern, error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) (versionPattern, error) {
		return versionPattern{}, fmt.Errorf("software_versions %q is not a valid version filter: %s", raw, why)
	}
	var vp versionPattern
	vp.op = '='
	if s != "" && (s[0] == '<' || s[0] == '>') {
		vp.op = s[0]
		s = strings.TrimSpace(s[1:])
		if strings.Contains(s, "*") {
			return bad("a comparison may not contain '*'")
		}
	}
	parts := strings.Split(s, ".")
	if vp.op == '=' && parts[len(parts)-1] == "*" {
		vp.op = '*'
		parts = parts[:len(parts)-1]
		if len(parts) < 1 || len(parts) > 5 {
			return bad("a wildcard needs 1 to 5 numeric parts before '*'")
		}
		vp.prefix = len(parts)
	} else if len(parts) < 2 || len(parts) > 6 {
		return bad("it needs 2 to 6 dotted numeric parts (at least major.minor)")
	}
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return bad(fmt.Sprintf("part %q is not a number ('*' may only end a wildcard)", p))
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return bad(fmt.Sprintf("part %q is too large", p))
		}
		vp.parts[i] = n
	}
	return vp, nil
}

// parseVersion reads a sensor's software_version; ok is false when it is not
// a dotted numeric version of at most six parts.
func parseVersion(s string) (versionParts, bool) {
	var v versionParts
	parts := strings.Split(s, ".")
	if len(parts) > 6 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func compareVersions(a, b versionParts) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

func (vp versionPattern) matches(v versionParts) bool {
	switch vp.op {
	case '*':
		for i := 0; i < vp.prefix; i++ {
			if v[i] != vp.parts[i] {
				return false
			}
		}
		return true
	case '<':
		return compareVersions(v, vp.parts) < 0
	case '>':
		return compareVersions(v, vp.parts) > 0
	default:
		return compareVersions(v, vp.parts) == 0
	}
}

// matchesAny ORs the entries, as the spec says.
func matchesAny(patterns []versionPattern, version string) bool {
	v, ok := parseVersion(version)
	if !ok {
		return false
	}
	for _, p := range patterns {
		if p.matches(v) {
			return true
		}
	}
	return false
}
