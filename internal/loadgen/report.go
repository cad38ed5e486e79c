package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Phase is what one phase of a run (the warm-up or the window) measured.
type Phase struct {
	Seconds           float64            `json:"seconds"`
	Checkins          int64              `json:"checkins"`
	CheckinsPerSecond float64            `json:"checkins_per_second"` // answered within the phase, over its length
	Latency           Latency            `json:"checkin_latency"`
	Requests          map[string]Latency `json:"requests"` // the follow-ups: blob, results, inventory
	Errors            map[string]int64   `json:"errors"`   // "request: kind"
	ErrorCount        int64              `json:"error_count"`
	ErrorExamples     map[string]string  `json:"error_examples,omitempty"`
	Counts            map[string]int64   `json:"counts"`
}

// Process is the CPU and memory of a process over the window.
type Process struct {
	PID             int     `json:"pid"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUMsPerCheckin float64 `json:"cpu_ms_per_checkin"`
	CPUPercent      float64 `json:"cpu_percent"` // of one core
	RSSMB           float64 `json:"rss_mb"`
	PeakRSSMB       float64 `json:"peak_rss_mb"`
}

// Report is the outcome of a run, as `mawload run --json` prints it.
type Report struct {
	Server           string    `json:"server"`
	Devices          int       `json:"devices"`
	Scenario         *Scenario `json:"scenario,omitempty"`
	Mix              Mix       `json:"mix"`
	OfferedPerSecond float64   `json:"offered_per_second"` // 0: closed loop, as fast as the server answers
	Concurrency      int       `json:"concurrency"`
	Warmup           *Phase    `json:"warmup,omitempty"`
	Phase
	ServerProcess *Process `json:"server_process,omitempty"`
	Generator     *Process `json:"generator,omitempty"`
	// Wake is the --wake phase; nil without it.
	Wake *WakeReport `json:"wake,omitempty"`
	// LoadAverage is the machine's one-minute load average at the end of
	// the window (-1 unknown): above the core count, other work competed.
	LoadAverage float64 `json:"machine_load_average"`
	Cores       int     `json:"cores"`
}

func phaseOf(s snapshot, elapsed time.Duration) *Phase {
	p := &Phase{
		Seconds: elapsed.Seconds(), Checkins: s.requests[opCheckin].Count, Latency: s.requests[opCheckin],
		Requests: map[string]Latency{}, Errors: s.errors, ErrorCount: s.errorCount(), ErrorExamples: s.examples, Counts: s.counts,
	}
	if elapsed > 0 {
		p.CheckinsPerSecond = float64(p.Checkins) / elapsed.Seconds()
	}
	for k, v := range s.requests {
		if k != opCheckin {
			p.Requests[k] = v
		}
	}
	return p
}

func (r *Report) fill(s snapshot, elapsed time.Duration) { r.Phase = *phaseOf(s, elapsed) }

func processOf(pid int, before, after usage, elapsed time.Duration, checkins int64) *Process {
	cpu := after.CPU - before.CPU
	p := &Process{PID: pid, CPUSeconds: cpu.Seconds(), RSSMB: mb(after.RSS), PeakRSSMB: mb(after.PeakRSS)}
	if elapsed > 0 {
		p.CPUPercent = 100 * cpu.Seconds() / elapsed.Seconds()
	}
	if checkins > 0 {
		p.CPUMsPerCheckin = float64(cpu.Microseconds()) / 1000 / float64(checkins)
	}
	return p
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) {
	load := fmt.Sprintf("max rate (closed loop, %d at once)", r.Concurrency)
	if r.OfferedPerSecond > 0 {
		load = fmt.Sprintf("%.1f check-ins/s offered", r.OfferedPerSecond)
	}
	fmt.Fprintf(w, "mawload: %d devices against %s, %s\n", r.Devices, r.Server, load)
	if s := r.Scenario; s != nil {
		fmt.Fprintf(w, "tenant      %d script configuration(s) to all, %d one-device configuration(s)\n", s.ToAll, s.PerDevice)
	}
	fmt.Fprintf(w, "mix         scripts %.0f%%, inventory %.0f%% of check-ins, reconnect %v\n",
		100*r.Mix.ScriptShare, 100*r.Mix.InventoryShare, r.Mix.Reconnect)
	if p := r.Warmup; p != nil {
		fmt.Fprintf(w, "warm-up     %d check-ins in %.1fs, %d results, %s\n", p.Checkins, p.Seconds, p.Counts[countResults], errorText(p))
	}
	fmt.Fprintf(w, "check-ins   %.1f/s; %d in %.1fs with those running at the end\n", r.CheckinsPerSecond, r.Checkins, r.Seconds)
	fmt.Fprintf(w, "latency     %s\n", latencyText(r.Latency))
	for _, k := range slices.Sorted(maps.Keys(r.Requests)) {
		fmt.Fprintf(w, "%-11s %d, %s\n", k, r.Requests[k].Count, latencyText(r.Requests[k]))
	}
	fmt.Fprintf(w, "errors      %s\n", errorText(&r.Phase))
	if n := r.Counts[countDropped]; n > 0 {
		fmt.Fprintf(w, "dropped     %d arrivals: no device free or %s; the generator is the limit\n", n, "too many sessions at once")
	}
	if p := r.ServerProcess; p != nil {
		fmt.Fprintf(w, "server      pid %d: cpu %.2f ms/check-in (%.0f%% of a core), rss %.0f MB, peak %.0f MB\n",
			p.PID, p.CPUMsPerCheckin, p.CPUPercent, p.RSSMB, p.PeakRSSMB)
	}
	if p := r.Generator; p != nil {
		fmt.Fprintf(w, "generator   cpu %.2f ms/check-in (%.0f%% of a core), rss %.0f MB\n", p.CPUMsPerCheckin, p.CPUPercent, p.RSSMB)
	}
	if r.Wake != nil {
		r.Wake.writeText(w, r.CheckinsPerSecond)
	}
	if r.LoadAverage >= 0 {
		fmt.Fprintf(w, "machine     %d cores, load average %.1f\n", r.Cores, r.LoadAverage)
	}
}

func latencyText(l Latency) string {
	return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms", l.P50, l.P95, l.P99, l.Max)
}

func errorText(p *Phase) string {
	if p.ErrorCount == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p.Errors)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, p.Errors[k]))
	}
	out := strings.Join(parts, ", ")
	for _, k := range slices.Sorted(maps.Keys(p.ErrorExamples)) {
		out += fmt.Sprintf("\n            e.g. %s: %s", k, p.ErrorExamples[k])
	}
	return out
}
