package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/msgq"
)

// The messages of the msg cases, in the application's private range.
const (
	wmEcho  = msgq.WM_APP + 1 // Send: the receiver returns WParam
	wmData  = msgq.WM_APP + 2 // Post: the receiver counts it
	wmCount = msgq.WM_APP + 3 // Send: the receiver returns its count of wmData
)

var tMsgq = transport{"msgq", openMsgq}

// msgqAckWait bounds the wait for the receiver to count every post.
const msgqAckWait = 30 * time.Second

// msgCases are the cases of the window message queues: Send (no payload)
// against a 64-byte round trip of the other transports, SendData with a
// payload of each size against a request of that size answered with 8
// bytes, and Post throughput against one-way 64-byte messages. With
// Config.NATSMsgq each case also measures msgq through its NATS backend
// (transport "msgq-nats", last).
func (r *runner) msgCases() []*benchCase {
	withNATS := func(ts ...transport) []transport {
		if r.cfg.NATSMsgq {
			ts = append(ts, tNATSMsgq)
		}
		return ts
	}
	cs := []*benchCase{{name: "msg-send-64", mechanism: "msg", kind: kindRTT, size: 64, clients: 1,
		transports: withNATS(tMsgq, tPipe, tUnix, tTCP, tNATS)}}
	for _, s := range r.cfg.Sizes {
		cs = append(cs, &benchCase{name: "msg-senddata-" + SizeName(s), mechanism: "msg", kind: kindRTT, size: s, clients: 1,
			transports: withNATS(tMsgq, tPipe, tUnix, tTCP, tNATS), op: opReply})
	}
	cs = append(cs, &benchCase{name: "msg-post-64", mechanism: "msg", kind: kindTput, size: 64, clients: 1,
		transports: withNATS(tMsgq, tPipe, tUnix, tTCP)})
	return cs
}

func init() {
	peerServers["msgq"] = func(ctx context.Context, name string, _ int) (func() error, error) {
		q, err := msgq.Register(name, nil)
		if err != nil {
			return nil, err
		}
		var count uintptr
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Serve ends with an error when the queue closes: that is the
			// way out.
			_ = q.Serve(ctx, func(m *msgq.Message) uintptr {
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
		return func() error {
			err := q.Close()
			<-done
			return err
		}, nil
	}
}

func openMsgq(ctx context.Context, r *runner, c *benchCase) (session, error) {
	name := r.name("msgq")
	p, _, err := r.startPeer(ctx, c, "msgq", name)
	if err != nil {
		return nil, err
	}
	t, err := msgq.Find(name)
	if err != nil {
		p.kill()
		return nil, err
	}
	return newMsgSession(c, []msgConn{&msgqConn{ctx: ctx, t: t}}, p), nil
}

// msgqConn puts a msgq Target behind the msgConn of the other transports:
// a round trip is one Send (opEcho) or SendData (opReply), whose result
// stands for the answer's length; opData is a Post, and opAck asks the
// receiver for its count until every post has arrived.
type msgqConn struct {
	ctx    context.Context
	t      *msgq.Target
	answer int  // the length recv reports, or the ack's count
	lastOp byte // of the last send

	posted, acked uintptr // posts sent, and counted by the receiver at the last ack
}

func (m *msgqConn) send(p []byte) error {
	var res uintptr
	var err error
	m.lastOp = p[0]
	switch p[0] {
	case opEcho:
		res, err = m.t.Send(m.ctx, wmEcho, uintptr(len(p)), 0)
	case opReply:
		res, err = m.t.SendData(m.ctx, 0, p)
	case opData:
		for {
			err = m.t.Post(wmData, 0, 0)
			if !errors.Is(err, errs.ErrQuota) {
				break
			}
			// The queue holds Quota messages: let the receiver catch up.
			time.Sleep(20 * time.Microsecond)
		}
		if err == nil {
			m.posted++
		}
		return err
	case opAck:
		// Sent messages overtake posted ones: ask until the count covers
		// every post.
		deadline := time.Now().Add(msgqAckWait)
		for {
			res, err = m.t.Send(m.ctx, wmCount, 0, 0)
			if err != nil || res >= m.posted {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the receiver counted %d of %d posts", res, m.posted)
			}
			time.Sleep(50 * time.Microsecond)
		}
		if err == nil {
			m.acked, res = res, res-m.acked
		}
	default:
		return fmt.Errorf("msgq: unknown message type %q", p[0])
	}
	m.answer = int(res)
	return err
}

func (m *msgqConn) recv(p []byte) (int, error) {
	if m.lastOp == opAck {
		// The count goes in the 8 bytes measureTput reads.
		if len(p) < replySize {
			return 0, fmt.Errorf("ack into a %d-byte buffer", len(p))
		}
		binary.LittleEndian.PutUint64(p, uint64(m.answer))
		return replySize, nil
	}
	return m.answer, nil
}

func (m *msgqConn) close() error { return m.t.Close() }
