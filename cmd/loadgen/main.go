// Command loadgen is the load harness behind `make bench` (scripts/bench.sh): it sets up a
// ThamesThrive server for a run, warms it up, drives /track with a realistic mix in closed and
// open loops, serves the bare net/http baseline the server is compared with, and writes the
// report. See scripts/bench.sh for the whole procedure.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: loadgen COMMAND [flags]

commands:
  baseline  serve a trivial net/http handler that reads the body and answers a fixed
            /track-like JSON: the machine's ceiling
  setup     wait for the server, install the admin, get a token, create the event source
  warmup    create profiles with sessions through /track and save their ids
  run       drive the closed loop at saturation, then the open loop at half of it
  report    combine the results into a markdown table and a JSON file
  wait      wait until a server's /healthz answers 200
  freeport  print a free TCP port on 127.0.0.1

Run 'loadgen COMMAND -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"baseline": cmdBaseline,
		"setup":    cmdSetup,
		"warmup":   cmdWarmup,
		"run":      cmdRun,
		"report":   cmdReport,
		"freeport": cmdFreePort,
		"wait":     cmdWait,
		"cluster":  cmdCluster, // hidden: bench.sh measures the cluster's share with BACKEND=elastic
		"scale":    cmdScale,   // make bench-scale (scripts/bench-scale.sh)
		"countdb":  cmdCountDB, // hidden: bench.sh counts stored rows after the server stopped
		"floor":    cmdFloor,   // hidden: bench.sh runs the store floor at the loops' batch sizes
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen %s: %v\n", os.Args[1], err)
		if e, ok := err.(exitError); ok {
			os.Exit(int(e))
		}
		os.Exit(1)
	}
}

// exitError ends the program with a status of its own, after the output was written.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
