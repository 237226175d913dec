// Command thamesthrive is the ThamesThrive customer data platform: one binary whose
// subcommands run the API process (serve) and print the version.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/thamesthrive/thamesthrive/internal/app"
	"github.com/thamesthrive/thamesthrive/internal/config"
)

const usage = `usage: thamesthrive <command>

commands:
  serve     run the API: collector (/track), GUI API (/api/v1/) and ops routes
  worker    run the background work of the production backend (destination delivery)
  migrate   create or upgrade the storage schema (Elasticsearch/OpenSearch indices)
  backup <file>   copy the embedded store to a new file, also while serve runs
  restore <file>  replace the embedded store with a backup (serve must be stopped)
  version   print the version

admin commands (docs/deployment.md):
  healthcheck [-ready] [-worker]                exit 0 when the local serve (worker) answers /healthz (/readyz)
  create-user -username U -roles R[,R] [-name N] [-password-env VAR]
  reset-password -username U [-enable] [-password-env VAR]
            the password comes from standard input (no echo on a terminal) or VAR

Configuration comes from environment variables; see docs/configuration.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if cmd, ok := adminCommands[os.Args[1]]; ok {
		os.Exit(cmd(os.Args[2:]))
	}
	switch os.Args[1] {
	case "serve":
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: configuration: %v\n", err)
			os.Exit(2)
		}
		log := app.NewLogger(os.Stderr, cfg.LogLevel)
		if err := app.Serve(context.Background(), cfg, log, os.Stdout); err != nil {
			log.Error("serve_failed", "error", err.Error())
			fmt.Fprintf(os.Stderr, "thamesthrive: %v\n", err)
			os.Exit(1)
		}
	case "worker":
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: configuration: %v\n", err)
			os.Exit(2)
		}
		log := app.NewLogger(os.Stderr, cfg.LogLevel)
		if err := app.Work(context.Background(), cfg, log); err != nil {
			log.Error("worker_failed", "error", err.Error())
			fmt.Fprintf(os.Stderr, "thamesthrive: worker: %v\n", err)
			if errors.Is(err, app.ErrWorkerEmbedded) {
				os.Exit(2)
			}
			os.Exit(1)
		}
	case "migrate":
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: configuration: %v\n", err)
			os.Exit(2)
		}
		log := app.NewLogger(os.Stderr, cfg.LogLevel)
		if err := app.Migrate(context.Background(), cfg, log, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: migrate: %v\n", err)
			os.Exit(1)
		}
	case "backup", "restore":
		if len(os.Args) != 3 {
			fmt.Fprintf(os.Stderr, "usage: thamesthrive %s <file>\n", os.Args[1])
			os.Exit(2)
		}
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: configuration: %v\n", err)
			os.Exit(2)
		}
		run := app.Backup
		if os.Args[1] == "restore" {
			run = app.Restore
		}
		if err := run(context.Background(), cfg, os.Args[2], os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "thamesthrive: %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
	case "version", "--version", "-v":
		fmt.Println("thamesthrive", app.Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "thamesthrive: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
