package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
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
	return parseVmRSS(b)
}

func parseVmRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, errors.New("no VmRSS line")
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

// selfCPU is the generator's own user+system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procProbe samples a server process; a zero pid samples nothing.
type procProbe struct{ pid int }

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

// cpuMeter measures the CPU share of the server and of the generator
// between start and stop, in percent of one core.
type cpuMeter struct {
	probe        procProbe
	wall         time.Time
	server, self time.Duration
}

func startCPU(p procProbe) *cpuMeter {
	return &cpuMeter{probe: p, wall: time.Now(), server: p.cpu(), self: selfCPU()}
}

// stop returns (server %, generator %) of one core since start; the server
// share is -1 without a pid.
func (m *cpuMeter) stop() (server, self float64) {
	wall := time.Since(m.wall).Seconds()
	if wall <= 0 {
		return -1, 0
	}
	server = -1
	if m.probe.pid != 0 {
		server = 100 * (m.probe.cpu() - m.server).Seconds() / wall
	}
	return server, 100 * (selfCPU() - m.self).Seconds() / wall
}
