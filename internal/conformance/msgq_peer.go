package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/msgq"
)

// The peer's message-queue commands. A queue the peer registers and a
// target it finds get IDs; "close" (common to all suites) closes either.
// The fields of request and reply they use:
//
//	msgRegister  Name                                     → ID
//	msgFind      Name                                     → ID
//	msgPost      ID (target), Data (msgArgs)
//	msgPostGen   ID (target), Seed, Count, Vary (retry on ErrQuota)
//	             posts Count messages WM_USER+1, wParam Seed, lParam 0..Count-1;
//	             stops at the first error                → Count (posted)
//	msgSend      ID (target), Data (msgArgs), Timeout (0: none) → N (result)
//	msgSendData  ID (target), Seed (dwData), Data (payload), Timeout → N (result)
//	msgNotify    ID (target), Data (msgArgs)
//	msgServe     ID (queue): from now on answer every message with
//	             serveResult, until the queue closes
//	msgGet       ID (queue), Timeout: take one message, answer a sent one
//	             with serveResult                         → Data (msgArgs)
//	msgHold      ID (queue): take one message and never answer it → Data (msgArgs)
//	msgRegisterMessage  Name                              → N
var msgqOps = map[string]agentOp{
	"msgRegister": func(a *agent, req request, r *reply) error {
		q, err := msgq.Register(req.Name, nil)
		if err == nil {
			r.ID = a.add(q)
		}
		return err
	},
	"msgFind": func(a *agent, req request, r *reply) error {
		t, err := msgq.Find(req.Name)
		if err == nil {
			r.ID = a.add(t)
		}
		return err
	},
	"msgPost": on(func(t *msgq.Target, req request, r *reply) error {
		m, err := decodeArgs(req.Data)
		if err != nil {
			return err
		}
		return t.Post(m.Msg, m.W, m.L)
	}),
	"msgPostGen": on(func(t *msgq.Target, req request, r *reply) error {
		for i := 0; i < req.Count; {
			err := t.Post(msgq.WM_USER+1, uintptr(req.Seed), uintptr(i))
			if err != nil {
				if req.Vary && errors.Is(err, errs.ErrQuota) {
					time.Sleep(time.Millisecond) // the receiver drains meanwhile
					continue
				}
				return err
			}
			i++
			r.Count = i
		}
		return nil
	}),
	"msgSend": on(func(t *msgq.Target, req request, r *reply) error {
		m, err := decodeArgs(req.Data)
		if err != nil {
			return err
		}
		ctx, cancel := peerCtx(req.Timeout)
		defer cancel()
		res, err := t.Send(ctx, m.Msg, m.W, m.L)
		r.N = int(res)
		return err
	}),
	"msgSendData": on(func(t *msgq.Target, req request, r *reply) error {
		ctx, cancel := peerCtx(req.Timeout)
		defer cancel()
		res, err := t.SendData(ctx, uintptr(req.Seed), req.Data)
		r.N = int(res)
		return err
	}),
	"msgNotify": on(func(t *msgq.Target, req request, r *reply) error {
		m, err := decodeArgs(req.Data)
		if err != nil {
			return err
		}
		return t.SendNotify(m.Msg, m.W, m.L)
	}),
	"msgServe": on(func(q *msgq.Queue, req request, r *reply) error {
		go func() {
			// Ends with an error when the queue closes: that is the signal.
			_ = q.Serve(context.Background(), serveResult)
		}()
		return nil
	}),
	"msgGet": on(func(q *msgq.Queue, req request, r *reply) error {
		ctx, cancel := peerCtx(req.Timeout)
		defer cancel()
		m, err := q.Get(ctx, 0, 0)
		if err != nil {
			return err
		}
		r.Data = encodeArgs(m)
		if m.Sent {
			return m.Reply(serveResult(m))
		}
		return nil
	}),
	"msgHold": on(func(q *msgq.Queue, req request, r *reply) error {
		m, err := q.Get(context.Background(), 0, 0)
		if err != nil {
			return err
		}
		r.Data = encodeArgs(m)
		return nil
	}),
	"msgRegisterMessage": func(a *agent, req request, r *reply) error {
		r.N = int(msgq.RegisterMessage(req.Name))
		return nil
	},
}

func init() {
	agentOps = joinOps(agentOps, msgqOps)
	knownErrors = append(knownErrors, struct {
		name string
		err  error
	}{"ErrQuota", errs.ErrQuota})
}

// serveResult is how the suite's receivers answer: wParam+lParam, or for
// WM_COPYDATA the CRC-32C of the data plus dwData.
func serveResult(m *msgq.Message) uintptr {
	if m.Msg == msgq.WM_COPYDATA {
		return uintptr(crc32.Checksum(m.Data, castagnoli)) + m.LParam
	}
	return m.WParam + m.LParam
}

// msgArgs is a message as the suite passes it to and from peers.
type msgArgs struct {
	Msg  uint32
	W, L uintptr
	Data []byte `json:",omitempty"`
	PID  int    `json:",omitempty"`
	Sent bool   `json:",omitempty"`
}

func encodeArgs(m *msgq.Message) []byte {
	b, err := json.Marshal(msgArgs{Msg: m.Msg, W: m.WParam, L: m.LParam, Data: m.Data, PID: m.PID, Sent: m.Sent})
	if err != nil {
		panic(err) // a struct of plain fields always marshals
	}
	return b
}

func decodeArgs(b []byte) (msgArgs, error) {
	var m msgArgs
	err := json.Unmarshal(b, &m)
	return m, err
}

func args(msg uint32, w, l uintptr) []byte {
	b, err := json.Marshal(msgArgs{Msg: msg, W: w, L: l})
	if err != nil {
		panic(err)
	}
	return b
}

// peerCtx is the context of a peer's wait: Timeout from now, or none.
func peerCtx(d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), d)
}
