package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// tabulate prints one line for each step of each JSON report named, for
// comparing runs (an A/B series, a round's results/ directory): its
// connection rate and idle memory, the step's latency, CPU, losses and
// system calls per order. A figure the report does not have is "-".
func tabulate(files []string, w io.Writer) error {
	columns := []string{"report", "conns/s", "idle KB", // the report's
		"rate/s", "pass", "p50 ms", "p99 ms", "max ms", "srv CPU%", "db CPU%", "other CPU%", "lost", "dup", "wrong", "srv rd/o", "srv wr/o"} // each step's
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(columns, "\t")+"\t")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: not a loadgen report: %w", name, err)
		}
		connRate, idle := "-", "-"
		if c := rep.Connect; c != nil {
			connRate = fmt.Sprintf("%.0f", c.PerSecond)
			if c.IdleKBConn > 0 {
				idle = fmt.Sprintf("%.1f", c.IdleKBConn)
			}
		}
		if len(rep.Runs) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, connRate, idle, strings.Repeat("-\t", len(columns)-3))
			continue
		}
		for _, r := range rep.Runs {
			pass := "yes"
			if !r.Pass {
				pass = "NO"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%.2f\t%.2f\t%.1f\t%s\t%s\t%.0f\t%d\t%d\t%d\t%s\t%s\t\n",
				name, connRate, idle, r.Rate, pass, r.Latency.P50, r.Latency.P99, r.Latency.Max,
				known(r.ServerCPU, "%.1f"), known(r.DBCPU, "%.1f"), r.OtherCPU, r.Lost, r.Duplicated, r.Wrong,
				known(r.ReadCalls, "%.1f"), known(r.WriteCalls, "%.1f"))
		}
	}
	return tw.Flush()
}

// known formats v, or "-" for a figure the run could not measure (-1).
func known(v float64, format string) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
