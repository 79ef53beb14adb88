package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// The NATS baseline runs in a separate program, xipc-natspeer (module
// github.com/xipc/xipc/nats, nats/cmd/xipc-natspeer), so that the NATS
// server and client stay out of xipc's own dependencies. It starts an
// embedded NATS server and a responder process, and measures
// request-reply round trips itself when asked. The protocol, on its stdin
// and stdout, one line each way:
//
//	natspeer → bench: "ready"
//	bench → natspeer: {"op":"rtt","reply":false,"size":64,"duration_ns":400000000}
//	natspeer → bench: {"ops":N,"elapsed_ns":E,"lat_sum_ns":S,"lat_ns":[...],"error":""}
//
// reply true asks for 8-byte replies (as SendData's result) instead of
// echoes; lat_ns is a uniform sample of the round-trip times (at most
// 100,000). Closing stdin stops it.
//
// With Config.NATSMsgq (xipc bench msg --nats), the same program also
// measures msgq through its NATS backend (nats/natsmsgq): ops "send",
// "senddata" and "post" (same request and answer shapes) run Target.Send,
// SendData of size bytes, and Post throughput from xipc-natspeer to its
// responder process, which has registered a natsmsgq queue on the
// embedded server (with JetStream). They are the transport "msgq-nats" of
// the msg cases, next to the local msgq.

// NATSPeerName is the name of the NATS baseline's program, looked up in
// PATH when Config.NATSPeer is empty.
const NATSPeerName = "xipc-natspeer"

// natsSkip is what the NATS row says when there is no xipc-natspeer
// (docs/bench.md says how to build it: cd nats && go build -o DIR
// ./cmd/xipc-natspeer, then DIR in PATH or --nats-peer DIR/xipc-natspeer).
const natsSkip = "build nats/cmd/xipc-natspeer"

var tNATS = transport{"nats", openNATS}

// tNATSMsgq is msgq through the NATS backend, measured by xipc-natspeer.
var tNATSMsgq = transport{"msgq-nats", openNATSMsgq}

// natsMaxData is the largest SendData payload through natsmsgq: the
// embedded server's 64 MiB max payload less natsmsgq's room for headers.
const natsMaxData = 64<<20 - 512

// NATSRequest is a request of the bench to xipc-natspeer.
type NATSRequest struct {
	Op         string `json:"op"`    // "rtt", "send", "senddata" or "post"
	Reply      bool   `json:"reply"` // 8-byte replies instead of echoes
	Size       int    `json:"size"`
	DurationNS int64  `json:"duration_ns"`
}

// NATSResult is xipc-natspeer's answer to a NATSRequest.
type NATSResult struct {
	Ops       int64     `json:"ops"`
	ElapsedNS int64     `json:"elapsed_ns"`
	LatSumNS  int64     `json:"lat_sum_ns"`
	LatNS     []float64 `json:"lat_ns"`
	Error     string    `json:"error,omitempty"`
}

type natsSession struct {
	p   *peerProc
	req NATSRequest // Op, Reply and Size; DurationNS set by measure
	enc *json.Encoder
}

func openNATS(ctx context.Context, r *runner, c *benchCase) (session, error) {
	return startNATSPeer(ctx, r, NATSRequest{Op: "rtt", Reply: c.op == opReply, Size: c.size})
}

// openNATSMsgq measures msgq through natsmsgq: Send for msg-send, SendData
// for msg-senddata, Post for msg-post.
func openNATSMsgq(ctx context.Context, r *runner, c *benchCase) (session, error) {
	req := NATSRequest{Op: "send", Size: c.size}
	switch {
	case c.kind == kindTput:
		req.Op = "post"
	case c.op == opReply:
		req.Op = "senddata"
		if c.size > natsMaxData {
			return nil, &skipError{"SendData past the NATS server's 64 MiB max payload"}
		}
	}
	return startNATSPeer(ctx, r, req)
}

func startNATSPeer(ctx context.Context, r *runner, req NATSRequest) (session, error) {
	exe := r.cfg.NATSPeer
	if exe == "" {
		var err error
		if exe, err = exec.LookPath(NATSPeerName); err != nil {
			return nil, &skipError{natsSkip}
		}
	}
	p, _, err := startPeer(ctx, exe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", exe, err)
	}
	return &natsSession{p: p, req: req, enc: json.NewEncoder(p.stdin)}, nil
}

func (s *natsSession) measure(ctx context.Context, d time.Duration) (sample, error) {
	req := s.req
	req.DurationNS = d.Nanoseconds()
	if err := s.enc.Encode(&req); err != nil {
		return sample{}, fmt.Errorf("xipc-natspeer: %w %s", err, s.p.stderr())
	}
	line, err := s.p.out.ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return sample{}, errAborted
		}
		return sample{}, fmt.Errorf("xipc-natspeer: %w %s", err, s.p.stderr())
	}
	var res NATSResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return sample{}, fmt.Errorf("xipc-natspeer said %q: %w", strings.TrimSpace(line), err)
	}
	if res.Error != "" {
		return sample{}, errors.New("xipc-natspeer: " + res.Error)
	}
	return sample{ops: res.Ops, elapsed: time.Duration(res.ElapsedNS), latSum: time.Duration(res.LatSumNS), lat: res.LatNS}, nil
}

func (s *natsSession) close() error { return s.p.stop() }
func (s *natsSession) abort()       { s.p.kill() }
