package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/httpguard"
)

// readHeaderTimeout bounds how long a client may take to send a request's headers.
const readHeaderTimeout = 10 * time.Second

// listenHTTP listens on the http_addr setting and serves h there in the background, guarded
// by the http_* settings: a keep-alive connection idle for http_idle_timeout is closed, a
// request body or answer stalled for http_stall_timeout is cut, and one client IP holds at most
// http_max_conns_per_client connections. Every answer carries the security headers (httpguard.Headers).
// It returns once the address is bound (or could not be), so that whoever reads "leadpipe
// serving" in the log can connect; why the server later ended is sent on the returned channel.
func listenHTTP(e *env, h http.Handler) (*http.Server, <-chan error, error) {
	l, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{
		Handler:           httpguard.Headers(httpguard.BodyStalls(h, time.Duration(e.cfg.HTTPStallTimeout))),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       time.Duration(e.cfg.HTTPIdleTimeout),
	}
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(httpguard.Listener(l, e.cfg.HTTPMaxConnsPerClient, time.Duration(e.cfg.HTTPStallTimeout)))
	}()
	return srv, served, nil
}

// readyz answers whether the daemon can serve: 200 when Postgres answers, else 503 "not ready".
// Why it is not ready is logged, not shown: Postgres' errors name its user, database and address.
func readyz(e *env, pool *pgxpool.Pool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			e.log.Error("not ready: postgres does not answer", "error", err)
			http.Error(w, "not ready: the database does not answer", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
