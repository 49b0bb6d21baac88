// Package broker is leadpipe's embedded Kafka-protocol broker, for when no Kafka brokers are
// configured: one kfake broker (github.com/twmb/franz-go/pkg/kfake) listening on one address,
// keeping its topics, messages and committed group offsets in a data directory so that a
// stop and a restart lose nothing, and deleting the messages its retention no longer keeps.
// It also creates the topics leadpipe uses, on any Kafka.
package broker

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Partitions is how many partitions the embedded broker gives a topic created without a
// count, as EnsureTopics creates them.
const Partitions = 3

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	stop    chan struct{} // closed by Close: the retention loop ends
	stopped chan struct{} // closed when the retention loop has ended
	closing sync.Once
	log     *slog.Logger
}

// Start starts a broker listening on addr (host:port; port 0 picks a free one) that keeps
// what keep allows. With a dataDir it keeps its state there, created when missing, and a
// broker started again on the same directory finds its topics, messages and committed
// offsets; with none it keeps them in memory only. Every write is synced to disk before it
// is acknowledged. Clients are told to reach the broker at addr, or at this machine's host
// name when addr's host is unspecified (":9092", "0.0.0.0:9092").
func Start(addr, dataDir string, keep Retention) (*Broker, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kafka broker: listen on %s: %w", addr, err)
	}
	advertised, err := advertise(ln.Addr().(*net.TCPAddr))
	if err != nil {
		ln.Close()
		return nil, err
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(Partitions),
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			return advertisedListener{ln, advertised}, nil
		}),
		kfake.WithLogger(logger{slog.Default().With("component", "kafka broker")}),
		// Broker-wide, so that they hold for every topic, however it was created, and win
		// over what an earlier run on the data directory had.
		kfake.BrokerConfigs(keep.configs()),
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close() // NewCluster closes it too when it got that far; a second Close does no harm
		return nil, fmt.Errorf("kafka broker: start with data directory %q: %w", dataDir, err)
	}
	b := &Broker{cluster: c, addr: advertised.String(), stop: make(chan struct{}), stopped: make(chan struct{}),
		log: slog.Default().With("component", "kafka broker")}
	go b.applyRetention(keep)
	return b, nil
}

// Addr is the address clients reach the broker at: host:port.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker: it stops listening, drops its client connections and, with a
// data directory, saves its state there. It returns when the state is saved.
// Closing it again does nothing.
func (b *Broker) Close() {
	b.closing.Do(func() {
		close(b.stop)
		<-b.stopped // the retention loop would wait for ever on a closed cluster
		b.cluster.Close()
	})
}

// advertise returns the address the broker tells clients to use: the one it listens on, with
// the host name in place of an unspecified host.
func advertise(a *net.TCPAddr) (net.Addr, error) {
	if !a.IP.IsUnspecified() {
		return a, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("kafka broker: listening on every interface, the broker must tell clients a host name, and this machine has none: %w", err)
	}
	return hostPort(net.JoinHostPort(host, fmt.Sprint(a.Port))), nil
}

// hostPort is a TCP address given by host name.
type hostPort string

func (h hostPort) Network() string { return "tcp" }
func (h hostPort) String() string  { return string(h) }

// advertisedListener reports addr as its address; kfake puts a listener's address in the
// metadata it returns to clients.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

// logger passes kfake's warnings and errors to slog; its info and debug lines describe
// single requests and are dropped.
type logger struct{ log *slog.Logger }

func (l logger) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		l.log.Error(fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		l.log.Warn(fmt.Sprintf(format, args...))
	}
}
