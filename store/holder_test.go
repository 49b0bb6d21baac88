package store

import "testing"

func TestHolderRoundTrip(t *testing.T) {
	for _, h := range []Holder{{Kind: HolderServe, Host: "web-3", PID: 4121, Worker: 2}, {Kind: HolderCLI, Host: "laptop", PID: 877}} {
		if got, ok := ParseHolder(h.String()); !ok || got != h {
			t.Errorf("ParseHolder(%q) = %+v, %v; want %+v", h.String(), got, ok, h)
		}
	}
	for _, owner := range []string{"", "workers-test/1", "api-test:TestX", "web-3:4121/2", "cli:laptop:x", "serve:h:1/w"} {
		if h, ok := ParseHolder(owner); ok {
			t.Errorf("ParseHolder(%q) = %+v, want no holder read", owner, h)
		}
	}
}
