package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// resetPeakRSS restarts the process's resident-set high-water mark (VmHWM) from
// the current size, so that each run reports its own peak. Linux only; where it
// cannot, peaks are those of the process so far.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the process's resident-set high-water mark in bytes, or 0.
func peakRSS() uint64 {
	return procField("/proc/self/status", "VmHWM:") * 1024
}

// procField reads a "Name:   123 kB" line of a /proc file.
func procField(path, name string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				n, _ := strconv.ParseUint(fields[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// machine describes where and on what the benchmark ran.
type machine struct {
	cpus       int
	cpuModel   string
	memory     uint64 // bytes
	goVersion  string
	postgres   string
	commit     string
	date       time.Time
	peakResets bool
}

func describeMachine(ctx context.Context, pool *sql.DB) machine {
	m := machine{
		cpus:       runtime.NumCPU(),
		cpuModel:   cpuModel(),
		memory:     procField("/proc/meminfo", "MemTotal:") * 1024,
		goVersion:  runtime.Version(),
		commit:     commit(ctx),
		date:       time.Now().UTC(),
		peakResets: resetPeakRSS(),
	}
	if err := pool.QueryRowContext(ctx, "SHOW server_version").Scan(&m.postgres); err != nil {
		m.postgres = "unknown"
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// commit names the checked-out commit, and says when the tree differs from it.
func commit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	dirty, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(strings.TrimSpace(string(dirty))) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

func (m machine) String() string {
	model := ""
	if m.cpuModel != "" {
		model = " (" + m.cpuModel + ")"
	}
	return fmt.Sprintf("%d CPUs%s, %.1f GiB of memory, %s/%s; Go %s; PostgreSQL %s",
		m.cpus, model, float64(m.memory)/(1<<30), runtime.GOOS, runtime.GOARCH, strings.TrimPrefix(m.goVersion, "go"), m.postgres)
}
