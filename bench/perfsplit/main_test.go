package main

import (
	"strings"
	"testing"
)

func TestReadSamplesKeepsTheBinarysOwn(t *testing.T) {
	in := `tokenctl-sym 
	ffffffff81000c82 ([kernel.kallsyms])
	          33be8e (/tmp/w/tokenctl-sym)
	           627b5 (/tmp/w/tokenctl-sym)

sh 
	           1234 (/usr/bin/dash)

tokenctl-sym 
	ffffffff81000c82 ([kernel.kallsyms])
`
	got, err := readSamples(strings.NewReader(in), "tokenctl-sym", "/tmp/w/tokenctl-sym", func(off uint64) uint64 { return off + 0x400000 })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 3 || got[0][0] != 0 || got[0][1] != 0x73be8e || got[0][2] != 0x4627b5 || len(got[1]) != 1 {
		t.Fatalf("samples: %x", got)
	}
}

func TestClassify(t *testing.T) {
	names := map[uint64]string{
		1: "runtime.mallocgc", 2: "github.com/x/y.init.0", 3: "runtime.doInit1", 4: "runtime.main",
		5: "github.com/tokenctl/tokenctl/cmd.Main", 6: "main.main",
		7: "runtime.schedinit", 8: "runtime.rt0_go",
		9: "runtime.copystack", 10: "runtime.morestack",
		11: "net/http.(*persistConn).readLoop", 12: "runtime.goexit",
		13: "github.com/x/y.map.init.0",
	}
	for _, c := range []struct {
		s        sample
		cat, pkg string
	}{
		{sample{0, 1, 2, 3, 4}, catInit, "github.com/x/y"},
		{sample{1, 13, 3, 4}, catInit, "github.com/x/y"},
		{sample{0, 0, 1, 5, 6, 4}, catMain, ""},
		{sample{1, 7, 8}, catStart, ""},
		{sample{9, 10}, catStack, ""},
		{sample{0, 11, 12}, catThreads, ""},
		{sample{0, 0}, catKernel, ""},
	} {
		cat, pkg := classify(c.s, names)
		if cat != c.cat || pkg != c.pkg {
			t.Errorf("%v: %q %q, want %q %q", c.s, cat, pkg, c.cat, c.pkg)
		}
	}
}
