package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/thamesthrive/thamesthrive/internal/app"
	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/config"
)

// adminCommands are the subcommands a deployment needs besides serve and migrate. Each
// returns the process's exit status.
var adminCommands = map[string]func(args []string) int{
	"healthcheck":    healthcheck,
	"create-user":    createUser,
	"reset-password": resetPassword,
}

func loadConfig() (config.Config, bool) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: configuration: %v\n", err)
		return cfg, false
	}
	return cfg, true
}

// healthcheck exits 0 when the local process answers /healthz (or /readyz) with 200.
func healthcheck(args []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	ready := fs.Bool("ready", false, "ask /readyz (storage reachable) instead of /healthz (process alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	wrk := fs.Bool("worker", false, "ask the local `thamesthrive worker` (on WORKER_HTTP_ADDR) instead of serve (on HTTP_ADDR)")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return 2
	}
	cfg, ok := loadConfig()
	if !ok {
		return 2
	}
	if *wrk {
		cfg.HTTPAddr = cfg.WorkerHTTPAddr
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	if err := app.Healthcheck(context.Background(), cfg, path, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// passwordFlags are how create-user and reset-password get the password without it
// appearing in the process list or shell history: from the environment variable
// named by -password-env, else from standard input (a prompt without echo on a
// terminal, the first line otherwise).
type passwordFlags struct{ env *string }

func addPasswordFlags(fs *flag.FlagSet) passwordFlags {
	return passwordFlags{env: fs.String("password-env", "", "read the password from this environment variable instead of standard input")}
}

func (p passwordFlags) read(stdin *os.File, stderr io.Writer) (string, error) {
	if *p.env != "" {
		v, ok := os.LookupEnv(*p.env)
		if !ok || v == "" {
			return "", fmt.Errorf("-password-env: %s is not set", *p.env)
		}
		return v, nil
	}
	if term.IsTerminal(int(stdin.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		second, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input (or use -password-env)")
	}
	return line, nil
}

func createUser(args []string) int {
	fs := flag.NewFlagSet("create-user", flag.ContinueOnError)
	username := fs.String("username", "", "the user's e-mail address (required)")
	name := fs.String("name", "", "display name")
	roles := fs.String("roles", "", "comma-separated roles: "+strings.Join(auth.Roles, ", ")+" (required)")
	pw := addPasswordFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return 2
	}
	if *username == "" || *roles == "" {
		fmt.Fprintln(os.Stderr, "thamesthrive: create-user: -username and -roles are required")
		return 2
	}
	cfg, ok := loadConfig()
	if !ok {
		return 2
	}
	password, err := pw.read(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: create-user: %v\n", err)
		return 2
	}
	var rs []string
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	log := app.NewLogger(os.Stderr, cfg.LogLevel)
	u, err := app.CreateUser(context.Background(), cfg, log, auth.NewUser{Username: *username, Name: *name,
		Password: password, Roles: rs, Enabled: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: create-user: %v\n", err)
		return 1
	}
	fmt.Printf("created user %s with roles %s\n", u.Username, strings.Join(u.Roles, ", "))
	return 0
}

func resetPassword(args []string) int {
	fs := flag.NewFlagSet("reset-password", flag.ContinueOnError)
	username := fs.String("username", "", "the user's e-mail address (required)")
	enable := fs.Bool("enable", false, "also enable the user if disabled")
	pw := addPasswordFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return 2
	}
	if *username == "" {
		fmt.Fprintln(os.Stderr, "thamesthrive: reset-password: -username is required")
		return 2
	}
	cfg, ok := loadConfig()
	if !ok {
		return 2
	}
	password, err := pw.read(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: reset-password: %v\n", err)
		return 2
	}
	log := app.NewLogger(os.Stderr, cfg.LogLevel)
	u, err := app.ResetPassword(context.Background(), cfg, log, *username, password, *enable)
	if err != nil {
		fmt.Fprintf(os.Stderr, "thamesthrive: reset-password: %v\n", err)
		return 1
	}
	state := "enabled"
	if !u.Enabled {
		state = "disabled (add -enable to enable it)"
	}
	fmt.Printf("password of %s reset; its sessions were ended; the user is %s\n", u.Username, state)
	return 0
}
