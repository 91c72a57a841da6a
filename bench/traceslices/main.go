// Command traceslices reads a Go execution trace (the server's
// /debug/pprof/trace?seconds=N) and prints what a waiting goroutine waits
// behind: how long goroutines stayed runnable before they ran (the
// scheduler's delay, whose tail is an order's tail), the collector's marks,
// the longest slices a goroutine ran without a break, the longest system
// calls, and the longest waits: where the waiting goroutine was, what ran
// on the core meanwhile, and what sat in a system call meanwhile (a
// goroutine in one keeps its P until the runtime takes it back).
// bench/README.md "Twelfth round" used it to find the collector's mark
// worker behind the p99, "Twentieth round" SQLite's fsyncs, "Twenty-fourth
// round" a mark of 779 ms on a slow host.
//
//	curl -o /tmp/s.trace 'http://127.0.0.1:6060/debug/pprof/trace?seconds=5'
//	cd bench/traceslices && go run . /tmp/s.trace
//
// It is a module of its own, so that golang.org/x/exp is not the server's
// dependency.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// span is a goroutine's slice of running, of waiting to run, or of a
// system call.
type span struct {
	g    trace.GoID
	d    time.Duration
	at   trace.Time
	what string // where the goroutine was
}

func main() {
	top := flag.Int("top", 15, "how many of the longest slices and waits to print")
	longWait := flag.Duration("wait", 10*time.Millisecond, "a runnable wait counted as long")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: traceslices [flags] file.trace")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	rep, err := analyze(f, *longWait)
	if err != nil {
		fatal(fmt.Errorf("%s: %w", flag.Arg(0), err))
	}
	rep.print(os.Stdout, *top)
}

// report is what analyze found in a trace.
type report struct {
	waits     []time.Duration // every runnable → running wait, sorted
	longWait  time.Duration
	longWaits []span // the waits of longWait or more
	runs      []span // every slice run without a break, by start
	maxRun    time.Duration
	syscalls  []span // every system call, by start
	maxSysc   time.Duration
	marks     []span // the collector's concurrent mark phases, by start
	first     trace.Time
}

// analyze reads a trace and pairs each goroutine's transitions: runnable
// to running (a wait), running to anything else (a slice run).
func analyze(in io.Reader, longWait time.Duration) (*report, error) {
	r, err := trace.NewReader(in)
	if err != nil {
		return nil, err
	}
	rep := &report{longWait: longWait}
	runnableSince := map[trace.GoID]trace.Time{}
	runningSince := map[trace.GoID]trace.Time{}
	syscallSince := map[trace.GoID]trace.Time{}
	syscallWhat := map[trace.GoID]string{} // its stack, deeper than frames
	where := map[trace.GoID]string{}       // the goroutine's last known stack
	var markSince trace.Time
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if rep.first == 0 {
			rep.first = ev.Time()
		}
		if k := ev.Kind(); (k == trace.EventRangeBegin || k == trace.EventRangeEnd) && ev.Range().Name == markPhase {
			if k == trace.EventRangeBegin {
				markSince = ev.Time()
			} else {
				if markSince == 0 { // begun before the trace
					markSince = rep.first
				}
				rep.marks = append(rep.marks, span{d: ev.Time().Sub(markSince), at: markSince, what: markPhase})
				markSince = 0
			}
			continue
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		g := st.Resource.Goroutine()
		from, to := st.Goroutine()
		// The goroutine's own stack: the transition's, or the event's when
		// g emitted it (an event emitted by another goroutine, one that
		// unblocks or creates g, carries that goroutine's stack).
		stack := st.Stack
		if stack == trace.NoStack && ev.Goroutine() == g {
			stack = ev.Stack()
		}
		if s := frames(stack); s != "" {
			where[g] = s
		}
		switch to {
		case trace.GoSyscall:
			syscallSince[g] = ev.Time()
			syscallWhat[g] = framesN(stack, 6)
		case trace.GoRunnable:
			runnableSince[g] = ev.Time()
		case trace.GoRunning:
			if t0, ok := runnableSince[g]; ok {
				d := ev.Time().Sub(t0)
				rep.waits = append(rep.waits, d)
				if d >= longWait {
					rep.longWaits = append(rep.longWaits, span{g, d, t0, where[g]})
				}
				delete(runnableSince, g)
			}
			runningSince[g] = ev.Time()
		}
		if from == trace.GoSyscall {
			if t0, ok := syscallSince[g]; ok {
				d := ev.Time().Sub(t0)
				rep.syscalls = append(rep.syscalls, span{g, d, t0, syscallWhat[g]})
				rep.maxSysc = max(rep.maxSysc, d)
				delete(syscallSince, g)
			}
		}
		if from == trace.GoRunning && to != trace.GoRunning {
			if t0, ok := runningSince[g]; ok {
				d := ev.Time().Sub(t0)
				rep.runs = append(rep.runs, span{g, d, t0, where[g]})
				rep.maxRun = max(rep.maxRun, d)
				delete(runningSince, g)
			}
		}
	}
	if len(rep.waits) == 0 {
		return nil, errors.New("no goroutine ran")
	}
	slices.Sort(rep.waits)
	slices.SortFunc(rep.runs, func(a, b span) int { return cmp.Compare(a.at, b.at) })
	slices.SortFunc(rep.syscalls, func(a, b span) int { return cmp.Compare(a.at, b.at) })
	return rep, nil
}

func (rep *report) quantile(p float64) time.Duration {
	return rep.waits[min(len(rep.waits)-1, int(p*float64(len(rep.waits))))]
}

// longest returns the n longest of s.
func longest(s []span, n int) []span {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b span) int { return cmp.Compare(b.d, a.d) })
	return s[:min(n, len(s))]
}

func (rep *report) print(w io.Writer, top int) {
	fmt.Fprintf(w, "runnable → running: %d waits, p50 %v, p90 %v, p99 %v, p99.9 %v, max %v; %d of %v or more\n",
		len(rep.waits), rep.quantile(0.5), rep.quantile(0.9), rep.quantile(0.99), rep.quantile(0.999),
		rep.waits[len(rep.waits)-1], len(rep.longWaits), rep.longWait)
	at := func(t trace.Time) float64 { return time.Duration(t - rep.first).Seconds() }
	var marks []string
	for _, m := range rep.marks {
		marks = append(marks, fmt.Sprintf("at %.3fs for %v", at(m.at), m.d.Round(time.Millisecond)))
	}
	fmt.Fprintf(w, "the collector's marks (%d): %s\n", len(rep.marks), strings.Join(marks, "; "))
	fmt.Fprintf(w, "longest slices run without a break (of %d):\n", len(rep.runs))
	for _, x := range longest(rep.runs, top) {
		fmt.Fprintf(w, "  %10v  g%-8d at %8.3fs  %s\n", x.d, x.g, at(x.at), x.what)
	}
	var inSyscalls time.Duration
	for _, x := range rep.syscalls {
		inSyscalls += x.d
	}
	fmt.Fprintf(w, "longest system calls (of %d, %v in all):\n", len(rep.syscalls), inSyscalls.Round(time.Millisecond))
	for _, x := range longest(rep.syscalls, top) {
		fmt.Fprintf(w, "  %10v  g%-8d at %8.3fs  %s\n", x.d, x.g, at(x.at), x.what)
	}
	fmt.Fprintf(w, "longest runnable waits, where the waiting goroutine was, and what ran or sat in a system call meanwhile:\n")
	for _, x := range longest(rep.longWaits, top) {
		fmt.Fprintf(w, "  %10v  g%-8d at %8.3fs  %s\n", x.d, x.g, at(x.at), x.what)
		fmt.Fprintf(w, "      ran meanwhile: %s\n", rep.ranDuring(x.at, x.at+trace.Time(x.d)))
		fmt.Fprintf(w, "      in system calls meanwhile: %s\n", overlap(rep.syscalls, rep.maxSysc, x.at, x.at+trace.Time(x.d)))
	}
}

// ranDuring sums the running time inside [from, to), by where each
// goroutine was, and names the three largest.
func (rep *report) ranDuring(from, to trace.Time) string {
	return overlap(rep.runs, rep.maxRun, from, to)
}

// overlap sums the time of spans (sorted by start, none longer than
// maxLen) inside [from, to), by where each goroutine was, and names the
// three largest.
func overlap(spans []span, maxLen time.Duration, from, to trace.Time) string {
	sum := map[string]time.Duration{}
	var total time.Duration
	// A span that began before from may still run into the window: any
	// that began less than the longest span before it.
	i, _ := slices.BinarySearchFunc(spans, from-trace.Time(maxLen), func(s span, t trace.Time) int { return cmp.Compare(s.at, t) })
	for ; i < len(spans) && spans[i].at < to; i++ {
		s := spans[i]
		d := min(to, s.at+trace.Time(s.d)) - max(from, s.at)
		if d > 0 {
			sum[s.what] += time.Duration(d)
			total += time.Duration(d)
		}
	}
	type item struct {
		what string
		d    time.Duration
	}
	var items []item
	for w, d := range sum {
		items = append(items, item{w, d})
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(b.d, a.d) })
	var parts []string
	for _, it := range items[:min(3, len(items))] {
		name := it.what
		if name == "" {
			name = "(no stack)"
		}
		parts = append(parts, fmt.Sprintf("%v %s", it.d.Round(10*time.Microsecond), name))
	}
	return fmt.Sprintf("%v in all: %s", total.Round(10*time.Microsecond), strings.Join(parts, "; "))
}

// markPhase is the trace's name for the time the collector marks,
// concurrently with the program: its workers' slices fall inside it.
const markPhase = "GC concurrent mark phase"

// frames names a stack by its innermost frames, up to three, leaving out
// the parking itself (the collector's workers then show as
// runtime.gcBgMarkWorker).
func frames(s trace.Stack) string { return framesN(s, 3) }

// framesN is frames with up to n frames.
func framesN(s trace.Stack, n int) string {
	var names []string
	for f := range s.Frames() {
		fn := f.Func
		if fn == "runtime.gopark" || fn == "runtime.goparkunlock" {
			continue
		}
		names = append(names, fn[strings.LastIndex(fn, "/")+1:])
		if len(names) == n {
			break
		}
	}
	return strings.Join(names, " < ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "traceslices:", err)
	os.Exit(1)
}
