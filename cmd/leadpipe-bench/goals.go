package main

import (
	"fmt"
	"strconv"
	"strings"
)

// goal is one target of the bench as a run measured it: the figure it saw beside the target
// it holds that figure to.
type goal struct {
	name   string // what is measured, e.g. "fresh 1M / SQL"
	figure string // what the run saw, e.g. "1.42x"
	target string // what it must be, e.g. "<= 1.00x"
	met    bool
}

// goals collects a run's targets, so that every step's figure is printed beside its target in
// one table at the end, and the run fails when any is missed.
type goals struct {
	list []goal
}

// add records a target: met says whether figure is within target.
func (g *goals) add(name string, met bool, figure, target string) {
	g.list = append(g.list, goal{name: name, figure: figure, target: target, met: met})
}

// ratio records a "time over its baseline" target: figure is a/b, met when at most max.
func (g *goals) ratio(name string, a, b, max float64) {
	r := a / b
	g.add(name, r <= max, ratioFigure(r, max), fmt.Sprintf("<= %.2fx", max))
}

// ratioFigure prints a ratio held to at most max: to two decimals, or to three when two would
// print max itself for a ratio past it (1.002x, not 1.00x beside "<= 1.00x MISSED").
func ratioFigure(r, max float64) string {
	if r > max && fmt.Sprintf("%.2f", r) == fmt.Sprintf("%.2f", max) {
		return fmt.Sprintf("%.3fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// report prints the table of targets and returns the exit status it calls for: 1 when any
// target was missed, 0 otherwise.
func (g *goals) report() int {
	if len(g.list) == 0 {
		return 0
	}
	width := len("goal")
	for _, x := range g.list {
		width = max(width, len(x.name))
	}
	fmt.Printf("\n%-*s  %12s  %12s  %s\n", width, "goal", "figure", "target", "")
	status := 0
	var missed []string
	for _, x := range g.list {
		mark := "met"
		if !x.met {
			mark, status = "MISSED", 1
			missed = append(missed, x.name)
		}
		fmt.Printf("%-*s  %12s  %12s  %s\n", width, x.name, x.figure, x.target, mark)
	}
	if status != 0 {
		fmt.Printf("target MISSED: %s\n", strings.Join(missed, "; "))
	} else {
		fmt.Println("target met: every goal")
	}
	return status
}

// rowsLabel names a row count the way goals do: 1M, 50k.
func rowsLabel(rows int) string {
	switch {
	case rows%1_000_000 == 0:
		return strconv.Itoa(rows/1_000_000) + "M"
	case rows%1000 == 0:
		return strconv.Itoa(rows/1000) + "k"
	}
	return strconv.Itoa(rows)
}
