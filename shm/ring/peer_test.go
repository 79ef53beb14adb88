package ring_test

// The peer process: the test binary re-executed with XIPC_RING_PEER=1 and a
// command in its arguments. It talks to the test in lines on stdout, logs
// to stderr, and exits 0 on success. It also exits when its stdin closes,
// so that a peer outlives no test.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/shm/ring"
)

const peerEnv = "XIPC_RING_PEER"

var peerCommands = map[string]func(args []string) error{
	"produce":   peerProduce,
	"consume":   peerConsume,
	"hold":      peerHold,
	"echo":      peerEcho,
	"sink":      peerSink,
	"unix-echo": peerUnixEcho,
	"unix-sink": peerUnixSink,
}

func runPeer(args []string) int {
	if len(args) == 0 || peerCommands[args[0]] == nil {
		fmt.Fprintf(os.Stderr, "peer: unknown command %q\n", args)
		return 2
	}
	go func() {
		io.Copy(io.Discard, os.Stdin) // ends when the test closes our stdin or dies
		fmt.Fprintln(os.Stderr, "peer: stdin closed, exiting")
		os.Exit(3)
	}()
	if err := peerCommands[args[0]](args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err) // the test passes the arguments: a bad one is a bug in it
	}
	return n
}

func spinArg(s string) *ring.Options {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &ring.Options{Spin: d}
}

func roleArg(s string) ring.Role {
	if s == "producer" {
		return ring.Producer
	}
	return ring.Consumer
}

// produce NAME N SEED: attach as the producer, write the stream, close,
// print "done DIGEST".
func peerProduce(args []string) error {
	r, err := ring.Open(args[0], ring.Producer, nil)
	if err != nil {
		return err
	}
	d, err := produceStream(context.Background(), r, atoi(args[1]), uint64(atoi(args[2])))
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("done %d\n", d)
	return nil
}

// consume NAME N SEED: attach as the consumer, read and check the stream
// to its end, print "ok COUNT DIGEST".
func peerConsume(args []string) error {
	r, err := ring.Open(args[0], ring.Consumer, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	n, d, err := consumeStream(context.Background(), r, uint64(atoi(args[2])))
	if err != nil {
		return err
	}
	fmt.Printf("ok %d %d\n", n, d)
	return nil
}

// hold NAME ROLE K: attach as ROLE, commit K messages (as the producer),
// print "ready", and wait to be killed.
func peerHold(args []string) error {
	r, err := ring.Open(args[0], roleArg(args[1]), nil)
	if err != nil {
		return err
	}
	defer r.Close()
	for i := range atoi(args[2]) {
		if err := send(context.Background(), r, []byte("message "+strconv.Itoa(i))); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	select {}
}

// echo PING PONG SPIN: read each message from PING and write it back to
// PONG, until PING ends.
func peerEcho(args []string) error {
	opts := spinArg(args[2])
	in, err := ring.Open(args[0], ring.Consumer, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := ring.Open(args[1], ring.Producer, opts)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Println("ready")
	ctx := context.Background()
	for {
		m, err := in.Read(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := out.Reserve(ctx, len(m))
		if err != nil {
			return err
		}
		copy(b, m)
		in.Release()
		if err := out.Commit(len(m)); err != nil {
			return err
		}
	}
}

// sink DATA ACK SPIN: copy every message of DATA out of the ring, and at its
// end write the number of bytes to ACK.
func peerSink(args []string) error {
	opts := spinArg(args[2])
	inPlace := len(args) > 3 && args[3] == "inplace"
	in, err := ring.Open(args[0], ring.Consumer, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := ring.Open(args[1], ring.Producer, opts)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Println("ready")
	ctx := context.Background()
	buf := make([]byte, in.MaxMessage())
	var total, marks uint64
	for {
		m, err := in.Read(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if inPlace {
			// Read every byte where it lies, as a consumer of the
			// zero-copy ring does, and count the bytes of one value so
			// that the producer can tell that they all arrived.
			marks += uint64(bytes.Count(m, benchMark))
			total += uint64(len(m))
		} else {
			total += uint64(copy(buf, m))
		}
		in.Release()
	}
	ack := binary.LittleEndian.AppendUint64(nil, total)
	return send(ctx, out, binary.LittleEndian.AppendUint64(ack, marks))
}

// benchMark is the byte value whose occurrences the in-place sink counts.
var benchMark = []byte{0x5a}

// unix-echo ADDR: the raw socket baseline of echo, with 4-byte length
// prefixes.
func peerUnixEcho(args []string) error {
	c, err := net.Dial("unix", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	buf := make([]byte, 4+(1<<20))
	for {
		if _, err := io.ReadFull(c, buf[:4]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n := binary.LittleEndian.Uint32(buf)
		if _, err := io.ReadFull(c, buf[4:4+n]); err != nil {
			return err
		}
		if _, err := c.Write(buf[:4+n]); err != nil {
			return err
		}
	}
}

// unix-sink ADDR: the raw socket baseline of sink.
func peerUnixSink(args []string) error {
	c, err := net.Dial("unix", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	r := bufio.NewReader(c) // small: a 64 KiB read bypasses it
	buf := make([]byte, 1<<20)
	var total uint64
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
		n, err := io.ReadFull(r, buf[:binary.LittleEndian.Uint32(h[:])])
		if err != nil {
			return err
		}
		total += uint64(n)
	}
	_, err = c.Write(binary.LittleEndian.AppendUint64(nil, total))
	return err
}

// send writes p as one message.
func send(ctx context.Context, r *ring.Ring, p []byte) error {
	b, err := r.Reserve(ctx, len(p))
	if err != nil {
		return err
	}
	copy(b, p)
	return r.Commit(len(p))
}

// The stream of the two-process tests: message i has a pseudo-random size
// (mostly small, sometimes up to the ring's MaxMessage) drawn from the seed
// and i, and holds i, the CRC-32C of its payload, and a pseudo-random
// payload. The consumer checks each message's number, size and checksum;
// both sides fold the checksums, in order, into a digest.

const streamHeader = 12 // uint64 number, uint32 CRC-32C

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func mix(x uint64) uint64 { // splitmix64's finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func streamSize(seed, i uint64, max int) int {
	r := mix(seed ^ i*0x9e3779b97f4a7c15)
	var n int
	switch p := r % 1000; {
	case p < 900:
		n = int(r >> 20 % 128)
	case p < 999:
		n = 128 + int(r>>20%1920)
	default:
		n = int(r >> 20 % uint64(max))
	}
	return min(max, streamHeader+n)
}

func digest(d uint64, crc uint32) uint64 { return (d ^ uint64(crc)) * 0x100000001b3 }

func produceStream(ctx context.Context, r *ring.Ring, n int, seed uint64) (uint64, error) {
	var d uint64
	rng := rand.NewPCG(seed, 1)
	for i := range uint64(n) {
		size := streamSize(seed, i, r.MaxMessage())
		b, err := r.Reserve(ctx, size)
		if err != nil {
			return 0, fmt.Errorf("message %d: %w", i, err)
		}
		p := b[streamHeader:]
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, rng.Uint64())
			p = p[8:]
		}
		for j := range p {
			p[j] = byte(rng.Uint64())
		}
		crc := crc32.Checksum(b[streamHeader:], castagnoli)
		binary.LittleEndian.PutUint64(b, i)
		binary.LittleEndian.PutUint32(b[8:], crc)
		if err := r.Commit(size); err != nil {
			return 0, err
		}
		d = digest(d, crc)
	}
	return d, nil
}

// consumeStream reads the stream to io.EOF, checking every message.
func consumeStream(ctx context.Context, r *ring.Ring, seed uint64) (uint64, uint64, error) {
	var d, i uint64
	for ; ; i++ {
		m, err := r.Read(ctx)
		if err == io.EOF {
			return i, d, nil
		}
		if err != nil {
			return i, d, fmt.Errorf("message %d: %w", i, err)
		}
		if want := streamSize(seed, i, r.MaxMessage()); len(m) != want {
			return i, d, fmt.Errorf("message %d: %d bytes, want %d", i, len(m), want)
		}
		if got := binary.LittleEndian.Uint64(m); got != i {
			return i, d, fmt.Errorf("message %d arrived as number %d", i, got)
		}
		crc := crc32.Checksum(m[streamHeader:], castagnoli)
		if got := binary.LittleEndian.Uint32(m[8:]); got != crc {
			return i, d, fmt.Errorf("message %d: checksum %#x, want %#x", i, crc, got)
		}
		d = digest(d, crc)
		r.Release()
	}
}

// peer is a running peer process.
type peer struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	reap  chan struct{} // closed: Wait for the process once it has ended
	done  chan struct{}
	err   error // of Wait, after done
	once  sync.Once
	reaps sync.Once
}

func startPeer(t testing.TB, args ...string) *peer {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), peerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 16), reap: make(chan struct{}), done: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
		<-p.reap
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

// line returns the peer's next line of output.
func (p *peer) line(timeout time.Duration) string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.reapNow()
			<-p.done
			p.t.Fatalf("peer %v ended: %v", p.cmd.Args[1:], p.err)
		}
		return l
	case <-time.After(timeout):
		p.t.Fatalf("peer %v: no output in %v", p.cmd.Args[1:], timeout)
	}
	return ""
}

// expect reads the peer's next line and fails unless it starts with prefix;
// it returns the rest of the line's words.
func (p *peer) expect(prefix string, timeout time.Duration) []string {
	p.t.Helper()
	l := p.line(timeout)
	if !strings.HasPrefix(l, prefix) {
		p.t.Fatalf("peer said %q, want %q...", l, prefix)
	}
	return strings.Fields(l[len(prefix):])
}

// wait waits for the peer to exit and returns its exit error.
func (p *peer) wait(timeout time.Duration) error {
	p.reapNow()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return errors.New("peer still running")
	}
}

func (p *peer) reapNow() { p.reaps.Do(func() { close(p.reap) }) }

// kill ends the peer at once (SIGKILL; TerminateProcess on Windows) without
// reaping it: a Unix peer stays a zombie until wait or stop.
func (p *peer) kill() {
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Log(err)
	}
}

func (p *peer) stop() {
	p.once.Do(func() {
		p.stdin.Close()
		p.reapNow()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.kill()
			<-p.done
		}
	})
}
