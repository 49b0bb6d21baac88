// Package layers holds the test that keeps leadpipe's imports running one way: commands on
// top; the drivers (the HTTP API, the intake of watched directories and Kafka requests) and
// the sinks (Kafka, ClickHouse) under them; then the importer, the files store, the engine
// and its stages; storage at the bottom. Its rules are in layers_test.go.
package layers
