package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// cmdFloor is bench.sh's link to BenchmarkSQLiteFloor. With -batches it prints the closed
// and the open loop's mean store batch sizes (from run's -out), rounded, so that the
// benchmark runs at the sizes the server really committed; with -bench it reads the
// benchmark's output and writes the floor at those sizes as JSON for `report -floor`.
func cmdFloor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	track := fs.String("track", "", "the server's run result (from run -label track -out)")
	batches := fs.Bool("batches", false, "print the closed and open loop's batch sizes, comma-separated")
	bench := fs.String("bench", "", "BenchmarkSQLiteFloor's output")
	out := fs.String("out", "", "write the floor as JSON here")
	fs.Parse(args)

	var tf loadtest.RunFile
	if err := readJSON(*track, &tf); err != nil {
		return err
	}
	closed, open := roundBatch(tf.Closed), roundBatch(tf.Open)
	if *batches {
		if closed == 0 && open == 0 {
			return fmt.Errorf("floor: %s has no store batch sizes (a server without thamesthrive_store_write_batch_size?)", *track)
		}
		fmt.Println(joinBatches(closed, open))
		return nil
	}
	f, err := os.Open(*bench)
	if err != nil {
		return err
	}
	defer f.Close()
	cpu, err := parseFloor(f)
	if err != nil {
		return err
	}
	var fl loadtest.Floor
	if v, ok := cpu[closed]; ok {
		fl.Closed = &loadtest.FloorAt{Batch: closed, CPUMicrosPerReq: v}
	}
	if v, ok := cpu[open]; ok {
		fl.Open = &loadtest.FloorAt{Batch: open, CPUMicrosPerReq: v}
	}
	if fl.Closed == nil && fl.Open == nil {
		return fmt.Errorf("floor: %s has no result at batch %d or %d", *bench, closed, open)
	}
	return writeJSON(*out, &fl)
}

func roundBatch(r *loadtest.Result) int {
	if r == nil || r.StoreBatch <= 0 {
		return 0
	}
	return max(1, int(math.Round(r.StoreBatch)))
}

func joinBatches(a, b int) string {
	switch {
	case a == 0:
		return strconv.Itoa(b)
	case b == 0 || a == b:
		return strconv.Itoa(a)
	}
	return strconv.Itoa(a) + "," + strconv.Itoa(b)
}

var floorLine = regexp.MustCompile(`^BenchmarkSQLiteFloor/batch=(\d+)/sync=\S+\s.*?\s([0-9.]+) cpu-µs/req`)

// parseFloor reads `go test -bench BenchmarkSQLiteFloor` output: cpu-µs/req by batch size.
func parseFloor(r io.Reader) (map[int]float64, error) {
	out := map[int]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := floorLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("floor: %q: %w", sc.Text(), err)
		}
		out[n] = v
	}
	return out, sc.Err()
}
