package cli

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/internal/bench"
)

func newBenchCmd(e *env) *cobra.Command {
	var (
		sizes    []string
		clients  []int
		duration time.Duration
		repeat   int
		asJSON   bool
		plotFile string
		natsPeer string
		natsMsgq bool
		cpuProf  string
		only     string
	)
	choices := append(slices.Clone(bench.Mechanisms), "all")
	cmd := &cobra.Command{
		Use:   "bench [" + strings.Join(choices, "|") + "]...",
		Short: "Measure each mechanism against the raw OS transport, in the same run",
		Long: `Bench measures each xipc mechanism between this process and a peer
process (this executable, restarted), and in the same run the raw OS
transport it stands in for: a unix stream socket with a 4-byte length
prefix and TCP loopback for pipes and messages, unixgram for mailslots,
memcpy and a unix socket for the shared-memory ring, and NATS
request-reply for messages when xipc-natspeer is built (see docs/bench.md).
With --nats the msg cases also measure msgq through its NATS backend
(transport msgq-nats, by xipc-natspeer; skipped without it).

Cases: round trips (rtt) and one-way throughput (tput) at each --size, for
pipes also with several clients at once (--clients). Repeats of xipc and
its baselines are interleaved so that the machine's noise hits both; each
figure is the median of the repeats, with their spread, and a warning
when the spread exceeds 20%. The ratio is xipc's time divided by the
baseline's: below 1, xipc is faster.

Progress goes to stderr (a bar on a terminal, plain lines otherwise);
Ctrl-C stops at once, kills the peers and prints what was measured.`,
		Example: `  xipc bench pipe
  xipc bench all --json > bench.jsonl
  xipc bench pipe --size 64,1k,64k,1m,4m --clients 1,4,16,64 --plot bench.png`,
		Args: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if !slices.Contains(choices, a) {
					return usagef("%s: unknown mechanism %q (want %s)", cmd.CommandPath(), a, strings.Join(choices, ", "))
				}
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg := bench.Config{Duration: duration, Repeat: repeat, Clients: clients, NATSPeer: natsPeer, NATSMsgq: natsMsgq,
				Progress: bench.NewProgress(e.stderr)}
			if !slices.Contains(args, "all") {
				cfg.Mechanisms = args
			}
			if only != "" {
				re, err := regexp.Compile(only)
				if err != nil {
					return usagef("%s: --case: %v", cmd.CommandPath(), err)
				}
				cfg.Cases = re
			}
			for _, s := range sizes {
				for f := range strings.SplitSeq(s, ",") {
					n, err := bench.ParseSize(strings.TrimSpace(f))
					if err != nil {
						return usagef("%s: --size: %v", cmd.CommandPath(), err)
					}
					cfg.Sizes = append(cfg.Sizes, n)
				}
			}
			for _, n := range clients {
				if n < 1 || n > bench.MaxClients {
					return usagef("%s: --clients %d: want 1 to %d", cmd.CommandPath(), n, bench.MaxClients)
				}
			}
			if duration < 0 {
				return usagef("%s: --duration %v: want a positive duration", cmd.CommandPath(), duration)
			}
			if repeat < 1 {
				return usagef("%s: --repeat %d: want 1 or more", cmd.CommandPath(), repeat)
			}
			if plotFile != "" && !strings.HasSuffix(strings.ToLower(plotFile), ".png") {
				return usagef("%s: --plot %q: want a .png file", cmd.CommandPath(), plotFile)
			}
			if cpuProf != "" {
				stop, err := bench.StartCPUProfile(cpuProf)
				if err != nil {
					return err
				}
				defer stop()
			}
			rep, err := bench.Run(cmd.Context(), cfg)
			if rep == nil {
				return fmt.Errorf("bench: %w", err)
			}
			var werr error
			if asJSON {
				werr = bench.WriteJSON(e.stdout, rep)
			} else {
				werr = bench.WriteText(e.stdout, rep)
			}
			if plotFile != "" && len(rep.Results) > 0 {
				werr = errors.Join(werr, bench.WritePlot(plotFile, rep))
			}
			if errors.Is(err, bench.ErrInterrupted) {
				return errors.Join(errors.New("bench: interrupted; the results printed are partial"), werr)
			}
			if err != nil {
				return errors.Join(fmt.Errorf("bench: %w", err), werr)
			}
			return werr
		}),
	}
	f := cmd.Flags()
	f.StringSliceVar(&sizes, "size", nil, "message sizes: a list (64,64k,4m) or the flag repeated (default 64,64k)")
	f.IntSliceVar(&clients, "clients", nil, "numbers of concurrent clients for the pipe round-trip scaling cases, e.g. 1,4,16,64 (default 1)")
	f.DurationVar(&duration, "duration", bench.DefaultDuration, "measuring time of each transport of each case, split over the repeats")
	f.IntVar(&repeat, "repeat", bench.DefaultRepeat, "repeats, interleaved between xipc and its baselines")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per case (JSON Lines; see docs/bench.md)")
	f.StringVar(&plotFile, "plot", "", "also write a PNG plot of the results to `FILE.png`")
	f.StringVar(&only, "case", "", "measure only the cases whose names match `REGEXP`, e.g. rtt-64$")
	f.StringVar(&cpuProf, "cpuprofile", "", "write a CPU profile of this process (the client side) to `FILE`; XIPC_BENCH_PEER_CPUPROFILE=PREFIX profiles the peers")
	f.StringVar(&natsPeer, "nats-peer", "", "`PATH` of the xipc-natspeer program for the NATS baseline (default: looked up in $PATH; see docs/bench.md)")
	f.BoolVar(&natsMsgq, "nats", false, "msg cases: also measure msgq through its NATS backend (transport msgq-nats, by xipc-natspeer; skipped without it)")
	return cmd
}

// newBenchPeerCmd is the hidden command that bench starts as its peer
// processes.
func newBenchPeerCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    bench.PeerCommand + " KIND SIZE ADDR [ADDR2]",
		Short:  "The peer process of xipc bench (internal)",
		Hidden: true,
		Args:   cobra.RangeArgs(3, 4),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return bench.Peer(cmd.Context(), args, e.stdin, e.stdout)
		}),
	}
}
