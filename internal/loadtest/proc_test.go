package loadtest

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may contain spaces and parentheses.
	stat := []byte("4242 (thames (thrive) x) S 1 4242 4242 0 -1 4194560 2913 0 0 0 1234 567 0 0 20 0 9 0 123 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil || got != 1234+567 {
		t.Fatalf("got %d, %v; want 1801", got, err)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Fatal("want an error for garbage")
	}
}

func TestStatusKiB(t *testing.T) {
	status := []byte("Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n")
	if v := statusKiB(status, "VmHWM:"); v != 51200 {
		t.Fatalf("VmHWM %d", v)
	}
	if v := statusKiB(status, "VmRSS:"); v != 40960 {
		t.Fatalf("VmRSS %d", v)
	}
	if v := statusKiB(status, "VmSwap:"); v != 0 {
		t.Fatalf("VmSwap %d", v)
	}
}

func TestReadProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	s, err := ReadProc(0)
	if err != nil {
		t.Fatal(err)
	}
	if s.VmHWMKiB <= 0 || s.VmRSSKiB <= 0 {
		t.Fatalf("%+v", s)
	}
	u := Usage(ProcSample{CPUTicks: 100}, ProcSample{CPUTicks: 350, VmHWMKiB: 7}, 100, 5, 1000)
	if u.CPUSeconds != 2.5 || u.Utilization != 0.5 || u.CPUMicrosPerReq != 2500 || u.VmHWMKiB != 7 {
		t.Fatalf("%+v", u)
	}
}

func TestCPUShare(t *testing.T) {
	before := parseCPUTimes([]byte("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 100 0 100 800 0 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 50 0\nintr 5\n"))
	after := parseCPUTimes([]byte("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 500 0 200 1000 100 0 0 100 0 0\ncpu1 0 0 0 2000 0 0 0 0 60 0\n"))
	if len(before) != 2 {
		t.Fatalf("parsed %v", before)
	}
	// cpu0: 900 ticks, of which idle+iowait 300 → busy 2/3; steal 100/900.
	s := cpuShare(0, before, after, 0.5)
	if s == nil || s.Busy != 0.667 || s.Others != 0.167 || s.Steal != 0.111 {
		t.Fatalf("%+v", s)
	}
	if s := cpuShare(1, before, after, 0.2); s.Busy != 0 || s.Others != 0 {
		t.Fatalf("idle cpu: %+v", s)
	}
	if cpuShare(7, before, after, 0) != nil {
		t.Fatal("unknown cpu")
	}
}
