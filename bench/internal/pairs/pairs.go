// Package pairs holds the row bench/pairtime writes and bench/report
// reads: one comparison of two commands in interleaved pairs.
package pairs

import "time"

// Record is one pairtime row.
type Record struct {
	Key            string    `json:"key"`
	Label          string    `json:"label"`
	Pairs          int       `json:"pairs"`
	A              Side      `json:"a"`
	B              Side      `json:"b"`
	Ratios         []float64 `json:"ratios"`
	RatioOfMedians float64   `json:"ratio_of_medians"`
	MedianRatio    float64   `json:"median_ratio"`
	Q1             float64   `json:"q1"`
	Q3             float64   `json:"q3"`
	Min            float64   `json:"min"`
	Max            float64   `json:"max"`
	// CPU time (user + system) of each run, a figure a busy machine moves
	// less than wall time.
	CPURatios      []float64 `json:"cpu_ratios"`
	CPUMedianRatio float64   `json:"cpu_median_ratio"`
	CPUQ1          float64   `json:"cpu_q1"`
	CPUQ3          float64   `json:"cpu_q3"`
}

// Side is one command's runs.
type Side struct {
	Command  []string        `json:"command"`
	Walls    []time.Duration `json:"walls_ns"`
	Median   time.Duration   `json:"median_ns"`
	CPU      []time.Duration `json:"cpu_ns"`
	CPUMed   time.Duration   `json:"cpu_median_ns"`
	MaxRSSKi int64           `json:"max_rss_kib"`
}
