package conformance

import (
	"fmt"

	"github.com/xipc/xipc/shm"
)

// The peer's shared-memory commands. A mapping the peer creates or opens
// gets an ID; "close" (common to all suites) closes it. The fields of
// request and reply they use:
//
//	shmCreate  Name, Size                        → ID, N (Size()), Count (1 if Existed())
//	shmOpen    Name, Count (the shm.Access)      → ID, N (Size())
//	shmRead    ID, Size (offset), Count (bytes)  → Data
//	shmWrite   ID, Size (offset), Data
//
// A shmWrite through a ReadOnly mapping faults and kills the peer, which is
// what a test of read-only protection wants.
var shmOps = map[string]agentOp{
	"shmCreate": func(a *agent, req request, r *reply) error {
		m, err := shm.Create(req.Name, int64(req.Size), nil)
		if err != nil {
			return err
		}
		r.ID, r.N = a.add(m), int(m.Size())
		if m.Existed() {
			r.Count = 1
		}
		return nil
	},
	"shmOpen": func(a *agent, req request, r *reply) error {
		m, err := shm.Open(req.Name, shm.Access(req.Count))
		if err != nil {
			return err
		}
		r.ID, r.N = a.add(m), int(m.Size())
		return nil
	},
	"shmRead": on(func(m *shm.Mapping, req request, r *reply) error {
		b, err := shmRange(m, req.Size, req.Count)
		r.Data = append([]byte{}, b...)
		return err
	}),
	"shmWrite": on(func(m *shm.Mapping, req request, r *reply) error {
		b, err := shmRange(m, req.Size, len(req.Data))
		r.N = copy(b, req.Data)
		return err
	}),
}

// The agent knows every suite's commands: the shared-memory ones join here
// rather than in peer.go's list, so that this suite stays in its own files.
func init() { agentOps = joinOps(agentOps, shmOps) }

// shmRange returns n bytes of m's whole-object view from off.
func shmRange(m *shm.Mapping, off, n int) ([]byte, error) {
	b := m.Bytes()
	if off < 0 || n < 0 || off > len(b) || n > len(b)-off {
		return nil, fmt.Errorf("%d bytes at %d pass the end of the %d-byte view", n, off, len(b))
	}
	return b[off : off+n], nil
}

// shmCreate makes the peer create (or open, when it exists) a mapping; it
// returns the peer's handle, the size it sees and whether it existed.
func (p *peer) shmCreate(name string, size int64) (id int, got int64, existed bool) {
	p.t.Helper()
	r := p.must(request{Op: "shmCreate", Name: name, Size: int(size)})
	return r.ID, int64(r.N), r.Count == 1
}

// shmOpen makes the peer open an existing mapping; it returns the peer's
// handle and the size it sees, or the peer's error.
func (p *peer) shmOpen(name string, access shm.Access) (id int, size int64, err error) {
	p.t.Helper()
	r := p.do(request{Op: "shmOpen", Name: name, Count: int(access)})
	return r.ID, int64(r.N), r.err()
}

// shmMustOpen is shmOpen that must succeed.
func (p *peer) shmMustOpen(name string, access shm.Access) (id int, size int64) {
	p.t.Helper()
	id, size, err := p.shmOpen(name, access)
	if err != nil {
		p.t.Fatalf("peer Open(%q, %v): %v", name, access, err)
	}
	return id, size
}

// shmRead returns n bytes at off of the peer's mapping id.
func (p *peer) shmRead(id, off, n int) []byte {
	p.t.Helper()
	return p.must(request{Op: "shmRead", ID: id, Size: off, Count: n}).Data
}

// shmWrite writes data at off into the peer's mapping id.
func (p *peer) shmWrite(id, off int, data []byte) {
	p.t.Helper()
	p.must(request{Op: "shmWrite", ID: id, Size: off, Data: data})
}
