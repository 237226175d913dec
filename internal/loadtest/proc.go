package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ProcSample is a process's own CPU accounting and memory at one moment, from /proc.
type ProcSample struct {
	CPUTicks int64 // utime + stime, in clock ticks
	VmHWMKiB int64 // peak resident set size
	VmRSSKiB int64 // resident set size now
	// Of VmRSS: anonymous memory (heap, C allocations such as SQLite's page cache) and
	// file-backed pages (the binary, memory-mapped files such as a database with mmap).
	RssAnonKiB int64
	RssFileKiB int64
}

// ReadProc samples process pid; pid 0 means this process.
func ReadProc(pid int) (ProcSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var s ProcSample
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	if s.CPUTicks, err = parseStatCPU(stat); err != nil {
		return s, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	s.VmHWMKiB = statusKiB(status, "VmHWM:")
	s.VmRSSKiB = statusKiB(status, "VmRSS:")
	s.RssAnonKiB = statusKiB(status, "RssAnon:")
	s.RssFileKiB = statusKiB(status, "RssFile:")
	return s, nil
}

// parseStatCPU returns utime+stime (fields 14 and 15 of /proc/PID/stat). The command name
// (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("parsing /proc stat: no ')'")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("parsing /proc stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parsing /proc stat: %w", err)
	}
	return ut + st, nil
}

func statusKiB(status []byte, key string) int64 {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n
			}
		}
	}
	return 0
}

// ProcUsage is what a process spent over a phase.
type ProcUsage struct {
	CPUSeconds       float64 `json:"cpu_seconds"`
	Utilization      float64 `json:"utilization"`        // CPU seconds per wall-clock second
	CPUMicrosPerReq  float64 `json:"cpu_us_per_request"` // per response read
	VmHWMKiB         int64   `json:"vm_hwm_kib"`         // peak RSS at the end of the phase
	VmRSSKiB         int64   `json:"vm_rss_kib"`
	RssAnonKiB       int64   `json:"rss_anon_kib"`
	RssFileKiB       int64   `json:"rss_file_kib"`
	TickResolutionUs float64 `json:"tick_resolution_us"` // one clock tick
}

// Usage turns two samples around a phase into a ProcUsage.
func Usage(before, after ProcSample, clkTck int, seconds float64, requests int64) *ProcUsage {
	if clkTck <= 0 {
		clkTck = 100
	}
	cpu := float64(after.CPUTicks-before.CPUTicks) / float64(clkTck)
	u := &ProcUsage{CPUSeconds: round(cpu, 3), VmHWMKiB: after.VmHWMKiB, VmRSSKiB: after.VmRSSKiB,
		RssAnonKiB: after.RssAnonKiB, RssFileKiB: after.RssFileKiB, TickResolutionUs: 1e6 / float64(clkTck)}
	if seconds > 0 {
		u.Utilization = round(cpu/seconds, 3)
	}
	if requests > 0 {
		u.CPUMicrosPerReq = round(cpu*1e6/float64(requests), 2)
	}
	return u
}

// cpuTimes is one CPU's line of /proc/stat, in clock ticks.
type cpuTimes struct {
	total, idle, steal int64
}

// readCPUTimes reads the per-CPU lines of /proc/stat.
func readCPUTimes() (map[int]cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	return parseCPUTimes(b), nil
}

func parseCPUTimes(b []byte) map[int]cpuTimes {
	out := map[int]cpuTimes{}
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 9 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		n, err := strconv.Atoi(string(f[0][3:]))
		if err != nil {
			continue
		}
		var t cpuTimes
		for i, v := range f[1:] {
			x, _ := strconv.ParseInt(string(v), 10, 64)
			if i >= 8 { // guest and guest_nice are already counted in user and nice
				break
			}
			t.total += x
			switch i {
			case 3, 4: // idle, iowait
				t.idle += x
			case 7:
				t.steal += x
			}
		}
		out[n] = t
	}
	return out
}

// CPUWatch names the CPUs the server and the generator are pinned to, so a phase can tell how
// much of them other processes took.
type CPUWatch struct {
	Server, Generator int
}

// CPUShare says how busy a pinned CPU was over a phase, and how much of that was not the
// process pinned to it: other work on a shared machine disturbs the figures.
type CPUShare struct {
	CPU    int     `json:"cpu"`
	Busy   float64 `json:"busy"`   // share of the CPU's time not idle
	Others float64 `json:"others"` // Busy less the pinned process's own share
	Steal  float64 `json:"steal"`  // share taken by the hypervisor
}

func cpuShare(cpu int, before, after map[int]cpuTimes, own float64) *CPUShare {
	b, ok1 := before[cpu]
	a, ok2 := after[cpu]
	if !ok1 || !ok2 || a.total <= b.total {
		return nil
	}
	total := float64(a.total - b.total)
	busy := 1 - float64(a.idle-b.idle)/total
	return &CPUShare{CPU: cpu, Busy: round(busy, 3), Others: round(max(0, busy-own), 3),
		Steal: round(float64(a.steal-b.steal)/total, 3)}
}
