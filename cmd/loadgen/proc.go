package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// readRSSKB returns VmRSS of a process in KiB.
func readRSSKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return procField(b, "VmRSS")
}

// procField is the number that starts the value of a "key: value" line of
// a /proc file (status, io).
func procField(text []byte, key string) (int64, error) {
	prefix := []byte(key + ":")
	for _, line := range bytes.Split(text, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("no %s line", key)
}

// readCPU returns utime+stime of a process.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads fields 14 and 15 (utime, stime) of /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// readSyscalls returns how many read-class and write-class system calls a
// process has made (syscr and syscw of /proc/<pid>/io: read, recvmsg,
// pread64 … and write, sendmsg, pwrite64 …).
func readSyscalls(pid int) (reads, writes int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseProcIO(b)
}

func parseProcIO(text []byte) (reads, writes int64, err error) {
	reads, err1 := procField(text, "syscr")
	writes, err2 := procField(text, "syscw")
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return reads, writes, nil
}

// listensOn reports whether process pid holds a TCP socket listening on
// port: its listening sockets' inodes from /proc/<pid>/net/tcp and tcp6
// (its own network namespace), found among its open files. A -pid that is
// not the server's would otherwise be measured without a word: a shell's
// $! can name a subshell of its own rather than the server it started
// (seen here: 0% CPU and 1.9 MB reported for a sleeping bash).
func listensOn(pid, port int) (bool, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if errors.Is(err, fs.ErrNotExist) {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return false, err
		}
		listeningInodes(b, port, inodes)
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	files, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, f := range files {
		target, err := os.Readlink(dir + "/" + f.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			return true, nil
		}
	}
	return false, nil
}

// listeningInodes adds to inodes the inode of every socket of a
// /proc/net/tcp(6) table that listens (state 0A) on port.
func listeningInodes(table []byte, port int, inodes map[string]bool) {
	for _, line := range bytes.Split(table, []byte("\n")) {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
		f := bytes.Fields(line)
		if len(f) < 10 || string(f[3]) != "0A" {
			continue
		}
		i := bytes.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		if p, err := strconv.ParseUint(string(f[1][i+1:]), 16, 16); err == nil && int(p) == port {
			inodes[string(f[9])] = true
		}
	}
}

// selfCPU is the generator's own user+system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procProbe samples a server process (and its database server's, when
// given); a zero pid samples nothing.
type procProbe struct{ pid, dbPid int }

func (p procProbe) rss() int64 {
	if p.pid == 0 {
		return 0
	}
	kb, _ := readRSSKB(p.pid)
	return kb
}

func (p procProbe) cpu() time.Duration {
	if p.pid == 0 {
		return 0
	}
	d, _ := readCPU(p.pid)
	return d
}

// readMachineBusy returns the CPU time all CPUs spent busy (not idle nor
// waiting for I/O) since boot, from the first line of /proc/stat.
func readMachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStatBusy(b)
}

func parseProcStatBusy(stat []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return 0, errors.New("malformed /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, err
		}
		// Fields: user nice system idle iowait irq softirq steal guest
		// guest_nice; guest time is already in user and nice.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// cpuMeter measures, between start and stop, the CPU share of the server,
// of the generator and of everything else on the machine, in percent of
// one core. "Everything else" shows a benchmark disturbed by other work.
// It also counts the server's system calls (when /proc/<pid>/io can be
// read: the same user, or root).
type cpuMeter struct {
	probe                  procProbe
	wall                   time.Time
	server, self, busy, db time.Duration
	reads, writes          int64
	counted                bool // reads and writes were read at start
}

func startCPU(p procProbe) *cpuMeter {
	busy, _ := readMachineBusy()
	m := &cpuMeter{probe: p, wall: time.Now(), server: p.cpu(), self: selfCPU(), busy: busy, db: p.dbCPU()}
	var err error
	m.reads, m.writes, err = p.syscalls()
	m.counted = err == nil
	return m
}

func (p procProbe) syscalls() (reads, writes int64, err error) {
	if p.pid == 0 {
		return 0, 0, errors.New("no server pid")
	}
	return readSyscalls(p.pid)
}

func (p procProbe) dbCPU() time.Duration {
	if p.dbPid == 0 {
		return 0
	}
	d, _ := readCPU(p.dbPid)
	return d
}

// cpuShares is what a cpuMeter measured, in percent of one core; Server
// is -1 without a pid, DB -1 without a database pid. Reads and Writes are
// the server's system calls meanwhile, -1 when they could not be read.
type cpuShares struct {
	Server, Self, DB, Other float64
	Reads, Writes           int64
}

func (m *cpuMeter) stop() cpuShares {
	wall := time.Since(m.wall).Seconds()
	if wall <= 0 {
		return cpuShares{Server: -1}
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall }
	s := cpuShares{Server: -1, DB: -1, Self: pct(selfCPU() - m.self), Reads: -1, Writes: -1}
	if m.counted {
		if r, w, err := m.probe.syscalls(); err == nil {
			s.Reads, s.Writes = r-m.reads, w-m.writes
		}
	}
	var server, db time.Duration
	if m.probe.pid != 0 {
		server = m.probe.cpu() - m.server
		s.Server = pct(server)
	}
	if m.probe.dbPid != 0 {
		db = m.probe.dbCPU() - m.db
		s.DB = pct(db)
	}
	if busy, err := readMachineBusy(); err == nil {
		s.Other = max(0, pct(busy-m.busy)-s.Self-pct(server)-pct(db))
	}
	return s
}

// waitQuiet waits, at most limit, for a second in which processes other
// than the server and the generator used under 10% of one core, and
// returns the last second's share. On a shared machine this keeps other
// people's builds out of the figures.
func waitQuiet(ctx context.Context, p procProbe, limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	for {
		m := startCPU(p)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1
		case <-t.C:
		}
		other := m.stop().Other
		if other < 10 || !time.Now().Before(deadline) {
			return other
		}
	}
}
