package ssp

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Seeded sensors: Options.SeedSensors sensors made from Options.Seed and their
// index, never stored, so 100,000 of them cost no disk and little memory.
//
// Scheme. key = mix(seed). Sensor i (0-based):
//   - id: a valid version-4 UUID. Its first 4 bytes are i enciphered by a
//     4-round Feistel network keyed by key (so ids look random yet the index
//     comes back from the id without a table); the other bytes come from
//     mix(key, i), with the version and variant bits set. A lookup deciphers
//     the index and regenerates the id to confirm it.
//   - everything else from a splitmix64 stream seeded with mix(key, i), drawn
//     in a fixed order: site and data center (16 sites x 3), software build
//     (5.1.0 10%, 5.1.1 15%, 5.2.0 45%, 5.2.1 30%), registration status
//     (REGISTERED 94%, IN_PROGRESS 3%, FAILED 3%), health of registered ones
//     (OK 86%, DEGRADED 6%, DISCONNECTED 5%, DOWN 3%; the others
//     NOT_AVAILABLE), features (IDS 90%, PCAP 20% of those, flows 85%, MPS
//     60%), then appliance, networking and signature-bundle details.
//   - display_name "<site>-dc<n>-ndr-<i+1, 5+ digits>" (unique), description
//     naming the city, host_name "ndr-sensor-<first 8 of id>" as in the
//     vendor's example, token_id shared by groups of 8 sensors, times from
//     2025-01-01 plus a per-sensor offset (not the clock, so the same seed
//     gives the same sensors on every run).
//
// The same seed and count always give the same sensors.
type seeder struct {
	key   uint64
	n     int
	width int
	round [4]uint32
}

func newSeeder(seed int64, n int) *seeder {
	if n < 0 {
		n = 0
	}
	if n > 1<<32-1 {
		n = 1<<32 - 1
	}
	s := &seeder{key: mix64(uint64(seed) ^ 0x55e9_5eed_0000_0001), n: n, width: 5}
	if w := len(strconv.Itoa(n)); w > s.width {
		s.width = w
	}
	for r := range s.round {
		s.round[r] = uint32(mix64(s.key + uint64(r) + 1))
	}
	return s
}

// mix64 is the splitmix64 finaliser: a bijective 64-bit hash.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is a splitmix64 stream: tiny, fast and fixed forever (unlike
// math/rand, whose streams are not promised across releases).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// pct is true with the given percent probability.
func (r *rng) pct(p int) bool { return r.intn(100) < p }

// weighted picks an index with the given weights.
func (r *rng) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (s *seeder) feistel(x uint32) uint32 {
	l, r := uint16(x>>16), uint16(x)
	for _, k := range s.round {
		l, r = r, l^feistelF(r, k)
	}
	return uint32(l)<<16 | uint32(r)
}

func (s *seeder) unfeistel(x uint32) uint32 {
	l, r := uint16(x>>16), uint16(x)
	for i := len(s.round) - 1; i >= 0; i-- {
		l, r = r^feistelF(l, s.round[i]), l
	}
	return uint32(l)<<16 | uint32(r)
}

func feistelF(x uint16, k uint32) uint16 {
	return uint16(mix64(uint64(x)<<32 | uint64(k)))
}

// uuidFrom formats 16 bytes as a version-4 UUID.
func uuidFrom(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// uuidFromHash makes a v4 UUID from two 64-bit values.
func uuidFromHash(a, b uint64) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[0:8], a)
	binary.BigEndian.PutUint64(raw[8:16], b)
	return uuidFrom(raw)
}

// id returns the id of seeded sensor i.
func (s *seeder) id(i int) string {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:4], s.feistel(uint32(i)))
	t := mix64(s.key ^ 0x1d1d_0000_0000_0000 ^ uint64(i))
	binary.BigEndian.PutUint64(b[4:12], t)
	binary.BigEndian.PutUint32(b[12:16], uint32(mix64(t)))
	return uuidFrom(b)
}

// index returns the index of the seeded sensor with this id (lower case).
func (s *seeder) index(id string) (int, bool) {
	if len(id) != 36 || s.n == 0 {
		return 0, false
	}
	var b [4]byte
	if _, err := hex.Decode(b[:], []byte(id[:8])); err != nil {
		return 0, false
	}
	i := int(s.unfeistel(binary.BigEndian.Uint32(b[:])))
	if i >= s.n || s.id(i) != id {
		return 0, false
	}
	return i, true
}

// site is a data-center location of the generated fleet.
type site struct{ code, city string }

var sites = []site{
	{"ams", "Amsterdam"}, {"fra", "Frankfurt"}, {"lon", "London"}, {"par", "Paris"},
	{"mad", "Madrid"}, {"nyc", "New York"}, {"chi", "Chicago"}, {"dal", "Dallas"},
	{"sfo", "San Francisco"}, {"sea", "Seattle"}, {"tor", "Toronto"}, {"gru", "Sao Paulo"},
	{"sin", "Singapore"}, {"tyo", "Tokyo"}, {"syd", "Sydney"}, {"bom", "Mumbai"},
}

// softwareBuilds are the sensor builds of the fleet; 5.2.0.0.0.25398843 is the
// vendor example's.
var softwareBuilds = []struct {
	version string
	weight  int
}{
	{"5.1.0.0.0.24160375", 10},
	{"5.1.1.0.0.24613428", 15},
	{"5.2.0.0.0.25398843", 45},
	{"5.2.1.0.0.25821907", 30},
}

// idsBundles are the IDS signature bundles sensors may carry; 3743 with
// 19208 signatures is the vendor example's.
var idsBundles = []struct {
	version    string
	signatures int
	created    int64
}{
	{"3612", 17604, 1733011200000},
	{"3690", 18533, 1738368000000},
	{"3743", 19208, 1743465600000},
}

// homeNetworks are the vendor example's defaults (RFC 1918 and friends).
var homeNetworks = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"}

// seedEpochMs (2025-01-01T00:00:00Z) anchors generated times, so they do not
// depend on when the sandbox runs.
const seedEpochMs = 1735689600000

const dayMs = 24 * 60 * 60 * 1000

// profile is the cheap part of a seeded sensor: what filters, sorts and the
// version summary need, without building strings.
type profile struct {
	site, dc     int
	build        int
	registration string
	health       string
	ids, pcap    bool
	flows, mps   bool
}

func (s *seeder) stream(i int) *rng {
	return &rng{s: mix64(s.key ^ mix64(uint64(i)+0x5e))}
}

// drawProfile draws the profile; it must stay the first draws of the stream.
func drawProfile(r *rng) profile {
	var p profile
	p.site = r.intn(len(sites))
	p.dc = 1 + r.intn(3)
	weights := make([]int, len(softwareBuilds))
	for i, b := range softwareBuilds {
		weights[i] = b.weight
	}
	p.build = r.weighted(weights...)
	p.registration = []string{"REGISTERED", "IN_PROGRESS", "FAILED"}[r.weighted(94, 3, 3)]
	p.health = "NOT_AVAILABLE"
	h := []string{"OK", "DEGRADED", "DISCONNECTED", "DOWN"}[r.weighted(86, 6, 5, 3)]
	if p.registration == "REGISTERED" {
		p.health = h
	}
	p.ids = r.pct(90)
	pcap := r.pct(20)
	p.pcap = p.ids && pcap
	p.flows = r.pct(85)
	p.mps = r.pct(60)
	return p
}

func (s *seeder) profile(i int) profile { return drawProfile(s.stream(i)) }

// name is seeded sensor i's display name.
func (s *seeder) name(i int, p profile) string {
	return fmt.Sprintf("%s-dc%d-ndr-%0*d", sites[p.site].code, p.dc, s.width, i+1)
}

// sensor generates seeded sensor i (before any overlay).
func (s *seeder) sensor(i int) sensor {
	r := s.stream(i)
	p := drawProfile(r)
	id := s.id(i)
	sn := buildSensor(r, p, id)
	sn.DisplayName = s.name(i, p)
	sn.Description = fmt.Sprintf("NDR sensor, %s data center %d", sites[p.site].city, p.dc)
	sn.TokenID = uuidFromHash(mix64(s.key^0x70_6b_65_6e^uint64(i/8)), mix64(s.key+uint64(i/8)))
	sn.CreateTime = seedEpochMs + int64(r.intn(180*dayMs))
	sn.LastModifiedTime = sn.CreateTime + int64(200+r.intn(5000))
	sn.BootTime = sn.LastModifiedTime + int64(r.intn(60*dayMs))
	sn.BundleModified = sn.CreateTime + int64(r.intn(30*dayMs))
	sn.FeaturesModified = sn.LastModifiedTime
	return sn
}

// buildSensor fills a sensor's appliance, networking, bundle and status
// details from the stream. Callers set names, token and times.
func buildSensor(r *rng, p profile, id string) sensor {
	sn := sensor{
		ID:                 id,
		CreateUser:         "ndr-sensor",
		Revision:           1,
		SoftwareVersion:    softwareBuilds[p.build].version,
		CPUSockets:         []int{2, 4, 8, 12, 16}[r.weighted(10, 35, 35, 10, 10)],
		CPUCores:           []int{8, 12, 16, 24, 32, 48}[r.weighted(10, 15, 35, 20, 15, 5)],
		MemoryGB:           []int{16, 32, 64, 128, 256}[r.weighted(10, 40, 30, 15, 5)],
		HostName:           "ndr-sensor-" + id[:8],
		HomeNetworks:       homeNetworks,
		IDSEnabled:         p.ids,
		PCAPEnabled:        p.pcap,
		FlowsEnabled:       p.flows,
		MPSEnabled:         p.mps,
		RegistrationStatus: p.registration,
		Health:             p.health,
	}
	// Networking: one sniffing NIC without an address, then the management
	// NIC, as in the vendor's example. Each site/data center has a /16.
	net2 := 16 + p.site*4 + p.dc
	host := r.intn(253 * 256)
	sn.NICs = []nic{
		{MACAddress: mac(r), IsMgmt: false},
		{MACAddress: mac(r), IPv4Address: fmt.Sprintf("10.%d.%d.%d", net2, host/253, host%253+2), IsMgmt: true},
	}
	sn.DNS = []string{fmt.Sprintf("10.%d.0.2", net2)}
	sn.NTP = []string{fmt.Sprintf("10.%d.0.3", net2)}
	// The bundle: newer builds carry newer bundles.
	b := min(len(idsBundles)-1, r.intn(2)+p.build/2+p.build%2)
	sn.BundleID = uuidFromHash(mix64(uint64(b)+0xb0b0), mix64(uint64(b)+0xb1b1))
	sn.BundleVersion = idsBundles[b].version
	sn.Signatures = idsBundles[b].signatures
	if softwareBuilds[p.build].version[:3] == "5.2" {
		sn.BundleCreated = idsBundles[b].created
	}
	// Component health follows the overall health.
	sn.SniffingHealth, sn.UploadingHealth, sn.RapidHealth = "OK", "OK", "OK"
	switch p.health {
	case "DEGRADED":
		if r.pct(50) {
			sn.SniffingHealth = "DEGRADED"
		} else {
			sn.UploadingHealth = "DEGRADED"
		}
	case "DOWN":
		sn.SniffingHealth = "DOWN"
	case "DISCONNECTED", "NOT_AVAILABLE":
		sn.SniffingHealth, sn.UploadingHealth, sn.RapidHealth = "NOT_AVAILABLE", "NOT_AVAILABLE", "NOT_AVAILABLE"
	}
	return sn
}

// mac returns a MAC address in VMware's 00:50:56 range.
func mac(r *rng) string {
	x := r.next()
	return fmt.Sprintf("00:50:56:%02x:%02x:%02x", byte(x>>16), byte(x>>8), byte(x))
}
