// Package freeport gives tests a loopback address that nothing listens on and that no other
// program will be handed in the meantime.
//
// The usual trick — listen on port 0, note the port, close — hands out a port from the
// kernel's ephemeral range, and the kernel may give that same port to the next listen on
// port 0 (the daemon's embedded broker, a ClickHouse test server, another package's test)
// before the test binds it: "bind: address already in use", seen under load on 2 cores. The
// ports given here lie below the ephemeral range (net.ipv4.ip_local_port_range), so only
// another explicit pick could take them, and picks are random among thousands.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
)

// lowest is the lowest port handed out: above the registered ports services commonly use.
const lowest = 20000

// Addr returns "127.0.0.1:PORT" for a port nothing listens on now, below the ephemeral range.
func Addr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", Port(t))
}

// Port returns a loopback port nothing listens on now, below the ephemeral range.
func Port(t testing.TB) int {
	t.Helper()
	highest := ephemeralLow() - 1
	for range 100 {
		port := lowest + rand.IntN(highest-lowest+1)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatalf("freeport: no free port in %d-%d after 100 tries", lowest, highest)
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range, or Linux's default.
func ephemeralLow() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var l, h int
		if n, _ := fmt.Sscan(string(b), &l, &h); n == 2 && l > lowest+1000 {
			low = l
		}
	}
	return low
}
