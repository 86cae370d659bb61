package bench

import (
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// memoryPeak says where the process's memory was at the largest resident set
// sampled during a run, and how the garbage collector ran over it.
type memoryPeak struct {
	rss      uint64 // resident set at that sample
	heap     uint64 // heap objects, live and garbage not yet collected
	heapFree uint64 // heap memory free for reuse, not returned to the system
	stacks   uint64 // goroutine stacks
	runtime  uint64 // the rest of Go's memory: GC and allocator metadata, buffers
	outside  uint64 // the rest of the resident set: program text and data, C
	live     uint64 // the largest live heap a collection of the run marked
	goal     uint64 // the largest heap size a collection of the run aimed for
	gcs      uint64 // collections during the run
}

var memoryMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/gc/cycles/total:gc-cycles",
}

// sampleMemory samples the process's memory every few milliseconds until the
// function it returns is called, which returns the peak.
func sampleMemory() func() memoryPeak {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	value := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	metrics.Read(samples)
	firstGC := value(8)
	stop, done := make(chan struct{}), make(chan memoryPeak)
	go func() {
		var peak memoryPeak
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			peak.live, peak.goal = max(peak.live, value(6)), max(peak.goal, value(7))
			peak.gcs = value(8) - firstGC
			if rss := residentSet(); rss > peak.rss {
				goMemory := value(4) - value(5)
				peak.rss, peak.heap, peak.heapFree, peak.stacks = rss, value(0), value(1)+value(2), value(3)
				peak.runtime = goMemory - min(goMemory, peak.heap+peak.heapFree+peak.stacks)
				peak.outside = rss - min(rss, goMemory)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() memoryPeak {
		close(stop)
		return <-done
	}
}

// residentSet returns the process's resident set in bytes, or 0.
func residentSet() uint64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(statm))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
