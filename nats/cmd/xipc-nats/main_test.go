package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCommands: msg serve answers send and senddata and prints posts;
// mailslot send reaches mailslot serve; bad input is a usage error and a
// missing queue a failure.
func TestCommands(t *testing.T) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("server not ready")
	}
	url := s.ClientURL()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 2)
	go func() { served <- run(ctx, []string{"--nats", url, "msg", "serve", "jobs"}) }()
	go func() { served <- run(ctx, []string{"--nats", url, "--host", "a", "mailslot", "serve", "news"}) }()
	try := func(args ...string) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := run(context.Background(), append([]string{"--nats", url}, args...))
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(50 * time.Millisecond) // the servers may still be starting
		}
	}
	for _, args := range [][]string{
		{"msg", "post", "jobs", "WM_USER+1", "5", "6"},
		{"msg", "send", "jobs", "0x500"},
		{"msg", "senddata", "jobs", "hello"},
		{"mailslot", "send", `\\*\mailslot\news`, "hi"},
		{"mailslot", "send", `\\a\mailslot\news`, "direct"},
	} {
		if err := try(args...); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	var ue *usageError
	for _, args := range [][]string{{"msg"}, {"--bogus"}, {"msg", "post", "jobs", "notanumber"}, {"msg", "frob", "jobs", "1"}} {
		if err := run(context.Background(), append([]string{"--nats", url}, args...)); !errors.As(err, &ue) {
			t.Errorf("%v: %v; want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"--nats", url, "msg", "send", "nope", "1"}); err == nil || errors.As(err, &ue) {
		t.Errorf("send to a missing queue: %v; want a failure", err)
	}
	cancel()
	for range 2 {
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}
