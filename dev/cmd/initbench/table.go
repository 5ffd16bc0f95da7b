package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// printTable writes one Markdown row per action, ready for the README.
func printTable(out io.Writer, rows []row, runs int) {
	fmt.Fprintf(out, "| action | zip | exec | /init median (n=%d) | min–max | decode | unzip | start → ready |\n", runs)
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		lo, hi := minMax(r.total)
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s–%s | %s | %s | %s |\n",
			r.action, megabytes(r.zipSize), megabytes(r.execSize),
			ms(median(r.total)), ms(lo), ms(hi),
			ms(median(r.decode)), ms(median(r.unzip)), ms(median(r.ready)))
	}
}

// median of a non-empty list; of an even count, the mean of the middle two.
func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(d []time.Duration) (time.Duration, time.Duration) {
	return slices.Min(d), slices.Max(d)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
