// Command xipc-natspeer is the NATS request-reply baseline of `xipc bench`.
// It lives in the module github.com/xipc/xipc/nats so that the NATS server
// and client stay out of xipc's own dependencies; `xipc bench` finds it in
// PATH or through --nats-peer.
//
// It starts an embedded NATS server on 127.0.0.1 (a random port) and a
// responder process (itself again) that answers requests, and then
// measures request-reply round trips between itself and the responder, as
// the bench asks on stdin. The protocol, one line each way:
//
//	xipc-natspeer → bench: ready
//	bench → xipc-natspeer: {"op":"rtt","reply":false,"size":64,"duration_ns":400000000}
//	xipc-natspeer → bench: {"ops":N,"elapsed_ns":E,"lat_sum_ns":S,"lat_ns":[...]}
//
// "reply": true asks for 8-byte replies (like msgq SendData's result)
// instead of echoes of the request. lat_ns is a uniform sample of at most
// 100,000 round-trip times; "error" says what failed. Closing stdin stops
// it, the responder and the server.
//
//	cd nats && go build -o ~/bin/ ./cmd/xipc-natspeer
//	xipc bench msg --nats-peer ~/bin/xipc-natspeer
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

const (
	responderEnv = "XIPC_NATSPEER_RESPONDER" // the server's URL, in the responder process
	subjEcho     = "xipc.bench.echo"
	subjReply    = "xipc.bench.reply"
	maxPayload   = 64 << 20
	maxSamples   = 100000
	timeout      = 10 * time.Second
)

func main() {
	var err error
	if url := os.Getenv(responderEnv); url != "" {
		err = respond(url)
	} else {
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xipc-natspeer:", err)
		os.Exit(1)
	}
}

type request struct {
	Op         string `json:"op"`
	Reply      bool   `json:"reply"`
	Size       int    `json:"size"`
	DurationNS int64  `json:"duration_ns"`
}

type result struct {
	Ops       int64     `json:"ops"`
	ElapsedNS int64     `json:"elapsed_ns"`
	LatSumNS  int64     `json:"lat_sum_ns"`
	LatNS     []float64 `json:"lat_ns"`
	Error     string    `json:"error,omitempty"`
}

func run() error {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: maxPayload})
	if err != nil {
		return err
	}
	go s.Start()
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
	}()
	if !s.ReadyForConnections(timeout) {
		return errors.New("the NATS server did not start")
	}
	resp, err := startResponder(s.ClientURL())
	if err != nil {
		return err
	}
	defer resp.stop()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var res result
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = err.Error()
		} else if req.Op != "rtt" || req.Size < 1 || req.Size > maxPayload {
			res.Error = fmt.Sprintf("bad request %s", in.Bytes())
		} else {
			res = measure(nc, req)
		}
		if err := out.Encode(&res); err != nil {
			return err
		}
	}
	return in.Err()
}

// measure runs request-reply round trips for the request's duration.
func measure(nc *nats.Conn, req request) result {
	subj, want := subjEcho, req.Size
	if req.Reply {
		subj, want = subjReply, 8
	}
	msg := make([]byte, req.Size)
	var res result
	var seen uint64
	rng := uint64(0x9e3779b97f4a7c15)
	start := time.Now()
	deadline := start.Add(time.Duration(req.DurationNS))
	for {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		m, err := nc.Request(subj, msg, timeout)
		if err == nil && len(m.Data) != want {
			err = fmt.Errorf("reply of %d bytes, want %d", len(m.Data), want)
		}
		if err != nil {
			res.Error = err.Error()
			break
		}
		lat := time.Since(t0)
		res.Ops++
		res.LatSumNS += lat.Nanoseconds()
		// A uniform sample (reservoir) of the round-trip times.
		seen++
		if len(res.LatNS) < maxSamples {
			res.LatNS = append(res.LatNS, float64(lat.Nanoseconds()))
		} else {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			if j := rng % seen; j < maxSamples {
				res.LatNS[j] = float64(lat.Nanoseconds())
			}
		}
	}
	res.ElapsedNS = time.Since(start).Nanoseconds()
	return res
}

// responder is the process that answers the requests.
type responder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startResponder(url string) (*responder, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), responderEnv+"="+url)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &responder{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		r.stop()
		return nil, fmt.Errorf("the responder did not start: %q %v", line, err)
	}
	return r, nil
}

func (r *responder) stop() {
	r.stdin.Close()
	done := make(chan struct{})
	go func() {
		r.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

// respond answers requests until stdin closes: echoes on subjEcho, 8 bytes
// on subjReply.
func respond(url string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	eight := make([]byte, 8)
	if _, err := nc.Subscribe(subjEcho, func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		return err
	}
	if _, err := nc.Subscribe(subjReply, func(m *nats.Msg) { m.Respond(eight) }); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	fmt.Println("ready")
	_, err = io.Copy(io.Discard, os.Stdin) // until the peer closes it
	return err
}
