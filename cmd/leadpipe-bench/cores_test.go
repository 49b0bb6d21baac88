package main

import (
	"regexp"
	"testing"
)

// TestTimeCores times the work alone and in pairs, and prints what the rounds print.
func TestTimeCores(t *testing.T) {
	c := timeCores()
	if c.alone <= 0 || c.pair[0] <= 0 || c.pair[1] <= 0 || c.slowdown() <= 0 {
		t.Fatalf("timings %+v, slowdown %.2f: want all positive", c, c.slowdown())
	}
	if s := c.String(); !regexp.MustCompile(`^cores: one alone \d+\.\d\d s, two at once \d+\.\d\d and \d+\.\d\d s \(\d+\.\d\dx\)$`).MatchString(s) {
		t.Errorf("printed %q", s)
	}
}
