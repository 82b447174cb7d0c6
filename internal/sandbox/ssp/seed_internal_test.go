package ssp

import (
	"regexp"
	"testing"
)

func TestSeederIDsRoundTrip(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	s := newSeeder(12345, 100000)
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 2, 255, 256, 65535, 65536, 99998, 99999} {
		id := s.id(i)
		if !v4.MatchString(id) {
			t.Fatalf("id(%d) = %s, not a v4 UUID", i, id)
		}
		if seen[id] {
			t.Fatalf("id(%d) repeats", i)
		}
		seen[id] = true
		if got, ok := s.index(id); !ok || got != i {
			t.Fatalf("index(id(%d)) = %d, %v", i, got, ok)
		}
	}
	for x := uint32(0); x < 1<<20; x += 7919 {
		if s.unfeistel(s.feistel(x)) != x {
			t.Fatalf("feistel does not invert at %d", x)
		}
	}
	// Ids beyond the count, of another seed, or random ones are not seeded.
	big := newSeeder(12345, 200000)
	if _, ok := s.index(big.id(150000)); ok {
		t.Error("an id past SeedSensors was found")
	}
	if _, ok := s.index(newSeeder(1, 100000).id(5)); ok {
		t.Error("another seed's id was found")
	}
	for _, id := range []string{"0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c", "", "zzzzzzzz-94b7-4c38-9a51-6f0f5a1d2e3c", "short"} {
		if _, ok := s.index(id); ok {
			t.Errorf("index(%q) found a sensor", id)
		}
	}
	if _, ok := newSeeder(1, 0).index(newSeeder(1, 10).id(0)); ok {
		t.Error("a seeder of no sensors found one")
	}
}

func TestSeederIsPure(t *testing.T) {
	a, b := newSeeder(7, 50), newSeeder(7, 50)
	for i := range 50 {
		x, y := a.sensor(i), b.sensor(i)
		if x.ID != y.ID || x.DisplayName != y.DisplayName || x.NICs[1].IPv4Address != y.NICs[1].IPv4Address || x.CreateTime != y.CreateTime {
			t.Fatalf("sensor %d differs between two seeders of one seed", i)
		}
		if p := a.profile(i); p.health != x.Health || softwareBuilds[p.build].version != x.SoftwareVersion || p.flows != x.FlowsEnabled {
			t.Fatalf("sensor %d: the profile disagrees with the full sensor", i)
		}
	}
}

func TestVersionPatterns(t *testing.T) {
	v := func(s string) versionParts {
		p, ok := parseVersion(s)
		if !ok {
			t.Fatalf("parseVersion(%q)", s)
		}
		return p
	}
	cases := []struct {
		pattern string
		version string
		want    bool
	}{
		{"5.*", "5.2.0.0.0.25398843", true},
		{"5.*", "6.0", false},
		{"5.2.*", "5.2.1.0.0.1", true},
		{"5.2.*", "5.21.0", false},
		{"5.2.1.*", "5.2.0.0.0.1", false},
		{"<5.2", "5.1.9.9.9.9", true},
		{"<5.2", "5.2.0.0.0.0", false},
		{">5.2", "5.2.0.0.0.1", true},
		{">5.2", "5.2", false},
		{">3.1", "5.1", true},
		{"> 6.0.0", "6.0.0.0.0.1", true},
		{"6.0.0.0.0.1", "6.0.0.0.0.1", true},
		{"5.2", "5.2.0.0.0.0", true},
		{"5.2", "5.2.0.0.0.25398843", false},
		{" 5.2.0 ", "5.2", true},
	}
	for _, c := range cases {
		p, err := parseVersionPattern(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := p.matches(v(c.version)); got != c.want {
			t.Errorf("%q matches %s = %v, want %v", c.pattern, c.version, got, c.want)
		}
	}
	for _, bad := range []string{"", "5", "*", "5.*.1", ">5.*", "<", "5..2", "5.2.x", "1.2.3.4.5.6.7", "1.2.3.4.5.6.*", "-1.2", "99999999999999999999.1"} {
		if _, err := parseVersionPattern(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if matchesAny([]versionPattern{{op: '*', prefix: 1, parts: versionParts{5}}}, "not.a.version") {
		t.Error("a malformed sensor version matched")
	}
}
