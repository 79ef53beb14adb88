// Package robust holds the cross-cutting security and robustness tests of
// xipc's mechanisms (pipes, mailslots, shared memory, the shared-memory
// ring and the named sync objects), which docs/security.md describes:
//
//   - other users: objects are owner-only by default and admit a group or
//     every user only when asked; a user who creates a name first
//     (squatting) is refused by an opener that expects its own user or root
//     (run as root: the other side runs as nobody and as a second uid);
//   - hostile peers: raw processes that write malformed frames, huge length
//     prefixes, partial headers, floods or corrupt ring headers cannot make
//     the other side allocate without bound, hang past its deadline or
//     panic;
//   - crashes: either side killed with SIGKILL at random points leaves no
//     stale object that blocks a restart, and loses nothing it had
//     acknowledged;
//   - leaks: opening and closing 10,000 objects of each kind returns the
//     process's descriptors and mappings to where they started.
//
// The package has no code of its own besides this documentation: everything
// is in its tests.
package robust
