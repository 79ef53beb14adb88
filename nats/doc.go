// Package nats is the root of the module github.com/xipc/xipc/nats, which
// holds what of xipc depends on NATS (nats-server and nats.go), so that the
// xipc module itself does not: the NATS backends of mailslots (natsslot)
// and, later, of message queues, and the benchmarks that compare xipc with
// NATS request-reply in the same run (bench_test.go):
//
//	cd nats && go test -run '^$' -bench . -count 5 . | benchstat -
//
// The package itself has no API.
package nats
