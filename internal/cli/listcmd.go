package cli

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc"
)

// listKinds are the kinds `xipc list` shows, in order, with the word a user
// types for each.
var listKinds = []struct{ arg, kind string }{
	{"pipes", "pipe"},
	{"mailslots", "mailslot"},
	{"shm", "shm"},
	{"msg", "msg"},
}

// listEntry is one live endpoint.
type listEntry struct {
	kind string // "pipe", "mailslot", "shm", "msg"
	name string // its full name
	pids []int  // the owner (pipes, mailslots, queues) or the holders (shm); none when unknown
}

func newListCmd(e *env) *cobra.Command {
	var args []string
	for _, k := range listKinds {
		args = append(args, k.arg)
	}
	return &cobra.Command{
		Use:   "list [" + strings.Join(args, "|") + "]...",
		Short: "List the live pipes, mailslots, shared memory and message queues",
		Long: `List shows the live endpoints on this machine, like Sysinternals pipelist:
named pipes and mailslots with the PID of the process serving them, shared
memory with the PIDs of the processes holding it, message queues with their
receiver's PID. Objects left behind by a process that crashed are not shown.
Without arguments it lists every kind.

On Linux it reads the xipc namespace ($XIPC_ROOT, default /tmp/.xipc, and
/dev/shm) and the kernel's lock table (/proc/locks). PIDs of shared memory
holders come from /proc/PID/fd and so show only processes the caller may
inspect. On Windows it lists named pipes (without PIDs: Windows tells a
pipe's server PID only to a client that connects, which would take an
instance), and message queues with their PIDs; mailslots and shared memory
cannot be enumerated there.`,
		Example: `  xipc list
  xipc list pipes mailslots`,
		Args: func(cmd *cobra.Command, a []string) error {
			for _, s := range a {
				if listKind(s) == "" {
					return usagef("%s: unknown kind %q (want %s)", cmd.CommandPath(), s, strings.Join(args, ", "))
				}
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, a []string) error {
			want := map[string]bool{}
			for _, s := range a {
				want[listKind(s)] = true
			}
			var all []listEntry
			for _, k := range listKinds {
				if len(want) > 0 && !want[k.kind] {
					continue
				}
				entries, err := listLive(k.kind)
				if errors.Is(err, xipc.ErrNotSupported) && len(want) == 0 {
					continue // this OS cannot enumerate them; asked for by name, it is an error
				}
				if err != nil {
					return fmt.Errorf("list %s: %w", k.arg, err)
				}
				sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
				all = append(all, entries...)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tPID")
			for _, en := range all {
				pids := make([]string, len(en.pids))
				for i, p := range en.pids {
					pids[i] = strconv.Itoa(p)
				}
				if len(pids) == 0 {
					pids = []string{"-"}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", en.kind, en.name, strings.Join(pids, ","))
			}
			return tw.Flush()
		}),
	}
}

// listKind maps what the user typed to a kind: "pipes" or "pipe" → "pipe".
func listKind(s string) string {
	for _, k := range listKinds {
		if s == k.arg || s == k.kind {
			return k.kind
		}
	}
	return ""
}
