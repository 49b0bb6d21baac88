// Package analyticstest gives integration tests a real ClickHouse: a database of the test
// package's own, made afresh and migrated, on the server deploy/services.sh starts; and private
// servers that a test may kill and restart. The server is LEADPIPE_TEST_CLICKHOUSE_ADDR, else
// LEADPIPE_CLICKHOUSE_ADDR, else the one deploy/services.sh starts. When it cannot be reached a
// test is skipped — unless CI is set, where it fails.
package analyticstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/leadpipe/leadpipe/internal/freeport"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
)

// DefaultAddr is the ClickHouse that deploy/services.sh starts.
const DefaultAddr = "127.0.0.1:19000"

// Addr returns the ClickHouse server tests use.
func Addr() string {
	for _, k := range []string{"LEADPIPE_TEST_CLICKHOUSE_ADDR", "LEADPIPE_CLICKHOUSE_ADDR"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultAddr
}

var (
	mu       sync.Mutex
	prepared = map[string]error{}
)

// Database returns name, with LEADPIPE_TEST_DB_SUFFIX appended: a database on Addr that the
// first call of the test process drops, creates and migrates, so that each run starts empty.
// Give each test package a name of its own.
func Database(t testing.TB, name string) string {
	t.Helper()
	name += os.Getenv("LEADPIPE_TEST_DB_SUFFIX")
	mu.Lock()
	err, done := prepared[name]
	if !done {
		err = recreate(Addr(), name)
		prepared[name] = err
	}
	mu.Unlock()
	if err != nil {
		unreachable(t, fmt.Sprintf("clickhouse for tests at %s: %v", Addr(), err))
	}
	return name
}

func recreate(addr, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := chsink.Open(ctx, addr, "default")
	if err != nil {
		return err
	}
	err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	conn.Close()
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	_, err = chsink.Migrate(ctx, addr, name)
	return err
}

// unreachable skips the test, or fails it under CI.
func unreachable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (run deploy/services.sh up)", msg)
	}
	t.Skipf("%s (run deploy/services.sh up)", msg)
}

// Conn returns a connection to database on addr, closed when the test ends.
func Conn(t testing.TB, addr, database string) driver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := chsink.Open(ctx, addr, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Server is a private ClickHouse server, started by deploy/services.sh with its data in a
// directory of its own and listening on a free loopback port, for a test that kills and
// restarts it.
type Server struct {
	Dir  string
	Port int
}

// StartServer starts a private server for the test and stops it when the test ends. It skips
// the test when clickhouse-server is not installed (deploy/services.sh up installs it), unless
// CI is set.
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/clickhouse-server"); err != nil { // Debian's, outside most users' PATH
			unreachable(t, "clickhouse-server is not installed")
		}
	}
	// A port outside the ephemeral range, so that no listen on port 0 takes it while the
	// server is down between a Kill and a Start.
	s := &Server{Dir: t.TempDir(), Port: freeport.Port(t)}
	s.Start(t)
	t.Cleanup(func() { s.services(t, "down") })
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Start starts the server (again) on its directory and port, and returns once it answers.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.services(t, "up")
}

// Kill kills the server with SIGKILL, as a crash would, and returns once it is gone.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "clickhouse", "server.pid"))
	if err != nil {
		t.Fatalf("clickhouse pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("clickhouse pid file: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill clickhouse: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse (pid %d) still runs 30 s after SIGKILL", pid)
		}
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command, which is in parentheses: "pid (comm) S …".
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// services runs deploy/services.sh cmd clickhouse for the server.
func (s *Server) services(t testing.TB, cmd string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", servicesScript(), cmd, "clickhouse")
	c.Env = append(os.Environ(), "LEADPIPE_DATA_DIR="+s.Dir, "LEADPIPE_CH_PORT="+strconv.Itoa(s.Port))
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("deploy/services.sh %s clickhouse: %v\n%s", cmd, err, out)
	}
}

// servicesScript returns the path of deploy/services.sh in this checkout.
func servicesScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "services.sh")
}
