// Command xipc-natspeer is the NATS request-reply baseline of `xipc bench`.
// It lives in the module github.com/xipc/xipc/nats so that the NATS server
// and client stay out of xipc's own dependencies; `xipc bench` finds it in
// PATH or through --nats-peer.
//
// It starts an embedded NATS server with JetStream on 127.0.0.1 (a random
// port, its store in a temporary directory) and a responder process
// (itself again) that answers requests, and then measures between itself
// and the responder, as the bench asks on stdin. The protocol, one line
// each way:
//
//	xipc-natspeer → bench: ready
//	bench → xipc-natspeer: {"op":"rtt","reply":false,"size":64,"duration_ns":400000000}
//	xipc-natspeer → bench: {"ops":N,"elapsed_ns":E,"lat_sum_ns":S,"lat_ns":[...]}
//
// The ops:
//
//   - "rtt": NATS request-reply round trips (plain nats.go Request).
//     "reply": true asks for 8-byte replies (like msgq SendData's result)
//     instead of echoes of the request.
//   - "send", "senddata", "post": msgq through the NATS backend
//     (nats/natsmsgq). The responder has registered the queue
//     "xipc-bench" with natsmsgq.Register and serves it; this process finds
//     it with natsmsgq.Find and measures Target.Send (no payload; size
//     is ignored), Target.SendData of size bytes, or Target.Post
//     throughput. A post that meets the queue's quota (ErrQuota) waits
//     20 µs and tries again; after the posts it Sends a count request until
//     the receiver has counted every post, so ops counts posts delivered
//     and elapsed includes that wait (post has no lat_ns).
//
// lat_ns is a uniform sample of at most 100,000 round-trip times; "error"
// says what failed. Closing stdin stops it, the responder and the server.
//
//	cd nats && go build -o ~/bin/ ./cmd/xipc-natspeer
//	xipc bench msg --nats-peer ~/bin/xipc-natspeer
package main

import (
	"bufio"
	"context"
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

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/msgq"
	"github.com/xipc/xipc/nats/natsmsgq"
)

const (
	responderEnv = "XIPC_NATSPEER_RESPONDER" // the server's URL, in the responder process
	subjEcho     = "xipc.bench.echo"
	subjReply    = "xipc.bench.reply"
	queueName    = "xipc-bench" // the natsmsgq queue of the send, senddata and post ops
	maxPayload   = 64 << 20
	maxSamples   = 100000
	timeout      = 10 * time.Second
)

// The messages of the msgq ops, as internal/bench's msgq cases use them.
const (
	wmEcho  = msgq.WM_APP + 1 // Send: the receiver returns WParam
	wmData  = msgq.WM_APP + 2 // Post: the receiver counts it
	wmCount = msgq.WM_APP + 3 // Send: the receiver returns its count of wmData
)

// replySize is the result SendData's receiver returns (8, as the bench's
// other transports answer 8 bytes).
const replySize = 8

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
	dir, err := os.MkdirTemp("", "xipc-natspeer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		MaxPayload: maxPayload, MaxPending: 4 * maxPayload, JetStream: true, StoreDir: dir})
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
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := natsmsgq.EnsureStream(nc, 1); err != nil {
		return err
	}
	resp, err := startResponder(s.ClientURL())
	if err != nil {
		return err
	}
	defer resp.stop()
	m := &meter{nc: nc}
	defer m.close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var res result
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = err.Error()
		} else if req.Size < 1 || req.Size > maxPayload || req.DurationNS < 0 {
			res.Error = fmt.Sprintf("bad request %s", in.Bytes())
		} else {
			switch req.Op {
			case "rtt":
				res = m.rtt(req)
			case "send", "senddata":
				res = m.send(req)
			case "post":
				res = m.post(req)
			default:
				res.Error = fmt.Sprintf("bad request %s: unknown op", in.Bytes())
			}
		}
		if err := out.Encode(&res); err != nil {
			return err
		}
	}
	return in.Err()
}

// meter runs the measurements; its msgq target is found at the first msgq
// op and kept.
type meter struct {
	nc *nats.Conn
	t  *natsmsgq.Target

	posted, acked uintptr // posts sent, and counted by the receiver at the last count
}

func (m *meter) target() (*natsmsgq.Target, error) {
	if m.t == nil {
		t, err := natsmsgq.Find(m.nc, queueName)
		if err != nil {
			return nil, err
		}
		m.t = t
	}
	return m.t, nil
}

func (m *meter) close() {
	if m.t != nil {
		m.t.Close()
	}
}

// rtt runs NATS request-reply round trips for the request's duration.
func (m *meter) rtt(req request) result {
	subj, want := subjEcho, req.Size
	if req.Reply {
		subj, want = subjReply, 8
	}
	msg := make([]byte, req.Size)
	return roundTrips(req, func() error {
		r, err := m.nc.Request(subj, msg, timeout)
		if err == nil && len(r.Data) != want {
			err = fmt.Errorf("reply of %d bytes, want %d", len(r.Data), want)
		}
		return err
	})
}

// send runs natsmsgq Send (op "send") or SendData (op "senddata") round
// trips for the request's duration.
func (m *meter) send(req request) result {
	t, err := m.target()
	if err != nil {
		return result{Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(req.DurationNS)+timeout)
	defer cancel()
	if req.Op == "send" {
		return roundTrips(req, func() error {
			r, err := t.Send(ctx, wmEcho, 64, 0)
			if err == nil && r != 64 {
				err = fmt.Errorf("Send returned %d, want 64", r)
			}
			return err
		})
	}
	data := make([]byte, req.Size)
	return roundTrips(req, func() error {
		r, err := t.SendData(ctx, 0, data)
		if err == nil && r != replySize {
			err = fmt.Errorf("SendData returned %d, want %d", r, replySize)
		}
		return err
	})
}

// roundTrips calls rt for the request's duration and times each call.
func roundTrips(req request, rt func() error) result {
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
		if err := rt(); err != nil {
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

// post posts for the request's duration, then asks the receiver's count
// (a Send, which overtakes posts) until it covers every post: ops is the
// posts delivered, elapsed includes the wait for the last of them.
func (m *meter) post(req request) result {
	t, err := m.target()
	if err != nil {
		return result{Error: err.Error()}
	}
	var res result
	start := time.Now()
	deadline := start.Add(time.Duration(req.DurationNS))
	for time.Now().Before(deadline) {
		err := t.Post(wmData, 0, 0)
		if errors.Is(err, xipc.ErrQuota) {
			// The queue holds msgq.Quota messages: let the receiver catch up.
			time.Sleep(20 * time.Microsecond)
			continue
		}
		if err != nil {
			res.Error = err.Error()
			return res
		}
		m.posted++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*timeout)
	defer cancel()
	for {
		n, err := t.Send(ctx, wmCount, 0, 0)
		if err != nil {
			res.Error = fmt.Sprintf("the count: %v", err)
			return res
		}
		if n >= m.posted {
			res.Ops = int64(n - m.acked)
			m.acked = n
			break
		}
		time.Sleep(50 * time.Microsecond)
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
// on subjReply, and the msgq messages on the natsmsgq queue queueName.
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
	q, err := natsmsgq.Register(nc, queueName)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() {
		var count uintptr
		// Serve ends with an error when the queue closes: that is the way
		// out.
		served <- q.Serve(context.Background(), func(m *natsmsgq.Message) uintptr {
			switch m.Msg {
			case wmEcho:
				return m.WParam
			case msgq.WM_COPYDATA:
				return replySize
			case wmData:
				count++
			case wmCount:
				return count
			}
			return 0
		})
	}()
	if err := nc.Flush(); err != nil {
		q.Close()
		<-served
		return err
	}
	fmt.Println("ready")
	_, err = io.Copy(io.Discard, os.Stdin) // until the peer closes it
	q.Close()
	<-served
	return err
}
