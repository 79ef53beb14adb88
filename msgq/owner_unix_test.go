//go:build unix

package msgq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
)

func uniqName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())
}

// TestPlantedNotAFile: a symlink or a FIFO where a queue's file goes is
// neither followed nor removed: Find and Register fail with
// ErrAccessDenied naming it. (Other users' files are tested as root in
// internal/robust.)
func TestPlantedNotAFile(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	target := t.TempDir() + "/target"
	if err := os.WriteFile(target, make([]byte, mappingBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"symlink", "fifo"} {
		name := uniqName("planted-" + kind)
		path, err := queuePath(name)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "symlink" {
			err = os.Symlink(target, path)
		} else {
			err = syscall.Mkfifo(path, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		if _, err := Find(name); !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Find: %v; want ErrAccessDenied naming %s", kind, err, path)
		}
		q, err := Register(name, nil)
		if err == nil {
			q.Close()
		}
		if !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Register: %v; want ErrAccessDenied naming %s", kind, err, path)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s: removed: %v", kind, err)
		}
	}
}

// TestLinkedUnderAnotherName: a hard link of a live queue's file under
// another queue's name does not make Find of that name reach the queue.
func TestLinkedUnderAnotherName(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	a, b := uniqName("linked-a"), uniqName("linked-b")
	q, err := Register(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	pa, _ := queuePath(a)
	pb, _ := queuePath(b)
	if err := os.Link(pa, pb); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(pb)
	if _, err := Find(b); !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), pb) {
		t.Errorf("Find through a link: %v; want ErrAccessDenied naming %s", err, pb)
	}
	tg, err := Find(a)
	if err != nil {
		t.Fatalf("Find of the queue's own name: %v", err)
	}
	tg.Close()
}

// TestPayloadSizeLie: a sender that states a payload size its file does not
// have (a hostile one writing the shared memory) makes the receiver
// allocate nothing of that size: the message is dropped, its sender
// answered, and the payload file removed.
func TestPayloadSizeLie(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	name := uniqName("payload-lie")
	q, err := Register(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	tg, err := Find(name)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	s := tg.s.(*unixSender)
	var cancel uint32
	i, err := s.claim(context.Background(), &cancel, false)
	if err != nil {
		t.Fatal(err)
	}
	h, sl := s.m.h, s.m.slot(i)
	sl.pid, sl.msg, sl.flags, sl.size = uint32(pid), WM_COPYDATA, fData|fExternal, 1<<40
	sl.gen = atomic.AddUint32(&h.gen, 1)
	payload := s.m.payloadPath(i, sl.gen)
	if err := os.WriteFile(payload, []byte("small"), 0o600); err != nil {
		t.Fatal(err)
	}
	sl.ticket = atomic.AddUint64(&h.ticket, 1)
	atomic.AddUint32(&h.pending, 1)
	atomic.StoreUint32(&sl.state, sPending)
	wakeReceiver(h)
	if m, err := q.Peek(0, 0, true); m != nil || err != nil {
		t.Errorf("Peek: %v, %v; want nothing", m, err)
	}
	if st := atomic.LoadUint32(&sl.state); st != sReplied {
		t.Errorf("the slot's state is %d; want replied (%d)", st, sReplied)
	}
	s.free(i)
	if _, err := os.Lstat(payload); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the payload file stays: %v", err)
	}
	// The queue still works.
	if err := tg.Post(WM_USER, 1, 2); err != nil {
		t.Fatal(err)
	}
	if m, err := q.Peek(0, 0, true); err != nil || m == nil || m.Msg != WM_USER {
		t.Errorf("Peek after: %v, %v", m, err)
	}
}
