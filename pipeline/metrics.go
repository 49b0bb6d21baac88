package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	rowsIn = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_stage_rows_in_total",
		Help: "Rows that entered a pipeline stage.",
	}, []string{"stage"})
	rowsOut = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_stage_rows_out_total",
		Help: "Rows that a pipeline stage passed on.",
	}, []string{"stage"})
	stageErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_stage_errors_total",
		Help: "Errors that stopped a pipeline run, by the stage that returned them.",
	}, []string{"stage"})
	batchSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadpipe_stage_batch_seconds",
		Help:    "Time a pipeline stage spent on one batch.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"stage"})
	queueDepth = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leadpipe_stage_queue_depth",
		Help: "Batches waiting for a pipeline stage: handed on by the stage before and not yet taken, summed over the imports running.",
	}, []string{"stage"})
)

// initStage creates a stage's series at zero, so that dashboards and alerts see each stage,
// and its error count, from its first run rather than from its first error.
func initStage(stage string) {
	rowsIn.WithLabelValues(stage)
	rowsOut.WithLabelValues(stage)
	stageErrors.WithLabelValues(stage)
	batchSeconds.WithLabelValues(stage)
}

func observe(stage string, start time.Time, in, out int) {
	batchSeconds.WithLabelValues(stage).Observe(time.Since(start).Seconds())
	rowsIn.WithLabelValues(stage).Add(float64(in))
	rowsOut.WithLabelValues(stage).Add(float64(out))
}

var preparedBatches = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "leadpipe_prepared_batches_total",
	Help: "Batches whose writer read ahead (pipeline.Preparer), by whether what it read and applied ahead held (held) or was read and applied again under the lock because another writer wrote into the account meanwhile (reread).",
}, []string{"result"})

var lookupIdentities = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "leadpipe_lookup_identities_total",
	Help: "Identities of rows (emails, unique identifiers, names) that the prospects writer looked up in Postgres (read), or left out because the import alone wrote into an account that held no prospects, and never wrote them (skipped). Repeats within a batch count, and so does a read-ahead read again under the lock.",
}, []string{"result"})

func init() {
	preparedBatches.WithLabelValues("held")
	preparedBatches.WithLabelValues("reread")
	lookupIdentities.WithLabelValues("read")
	lookupIdentities.WithLabelValues("skipped")
}

// CountLookups counts in leadpipe_lookup_identities_total the identities a writer looked up
// (read) and those it knew no prospect has (skipped).
func CountLookups(read, skipped int) {
	lookupIdentities.WithLabelValues("read").Add(float64(read))
	lookupIdentities.WithLabelValues("skipped").Add(float64(skipped))
}

// CountPrepared counts a batch read ahead in leadpipe_prepared_batches_total: held says what
// was read and applied ahead held, or else had to be read and applied again.
func CountPrepared(held bool) {
	if held {
		preparedBatches.WithLabelValues("held").Inc()
		return
	}
	preparedBatches.WithLabelValues("reread").Inc()
}
