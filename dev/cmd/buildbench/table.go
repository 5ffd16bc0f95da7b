package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/apache/openserverless-deployer/dev/buildstats"
)

// phaseOrder is the order of the table's phase rows: the engines' phases
// interleaved as a build goes; a phase not named here comes after them.
var phaseOrder = []string{
	buildstats.Fetch, buildstats.BasePulled, buildstats.Unpack, buildstats.SnapshotFirst,
	buildstats.Install, buildstats.SnapshotLast, buildstats.Save, buildstats.LayerWritten, buildstats.Push,
}

// printTable writes the engines' results side by side: per case, request →
// final state, then every figure any engine has ("–" where one has not),
// and the repeated ensures' p50. The cases are the first result's.
func printTable(w io.Writer, results []result) {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "\ncase")
	for _, r := range results {
		fmt.Fprintf(tw, "\t%s", r.engine)
	}
	fmt.Fprintln(tw)
	row := func(name string, cell func(r result) string) {
		fmt.Fprint(tw, name)
		for _, r := range results {
			fmt.Fprintf(tw, "\t%s", cell(r))
		}
		fmt.Fprintln(tw)
	}
	for i, c := range results[0].cases {
		row(c.name, func(result) string { return "" }) // its empty cells keep the block's columns aligned
		measured := func(r result) (measurement, bool) {
			if i < len(r.cases) {
				return r.cases[i].m, true
			}
			return measurement{}, false
		}
		row("  request → final state", func(r result) string {
			m, ok := measured(r)
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%s %s", seconds(m.ended.Sub(m.requested)), m.state)
		})
		for _, name := range figureNames(results, i) {
			row("  "+name, func(r result) string {
				m, _ := measured(r)
				for _, f := range m.rows() {
					if f.name == name {
						return f.value
					}
				}
				return "–"
			})
		}
	}
	row("repeat ensure, p50", func(r result) string {
		if len(r.repeat) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f ms", ms(r.repeat[len(r.repeat)/2]))
	})
	tw.Flush()
	for line := range strings.Lines(buf.String()) { // without the padding of the last cells
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
}

// figureNames are the names of case i's figures over all results: queued,
// the phases in phaseOrder, the others, the last line → seen final, the
// layer's size.
func figureNames(results []result, i int) []string {
	var phases []string
	has := map[string]bool{}
	for _, r := range results {
		if i >= len(r.cases) {
			continue
		}
		for _, p := range r.cases[i].m.phases {
			if !slices.Contains(phases, p.Name) {
				phases = append(phases, p.Name)
			}
		}
		for _, f := range r.cases[i].m.rows() {
			has[f.name] = true
		}
	}
	rank := func(name string) int {
		if k := slices.Index(phaseOrder, name); k >= 0 {
			return k
		}
		return len(phaseOrder)
	}
	slices.SortStableFunc(phases, func(a, b string) int { return rank(a) - rank(b) })
	var out []string
	if has[rowQueued] {
		out = append(out, rowQueued)
	}
	out = append(out, phases...)
	for _, name := range []string{rowSeenFinal, rowLayer} {
		if has[name] {
			out = append(out, name)
		}
	}
	return out
}
