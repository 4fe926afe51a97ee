/**
 * Preloaded into the broker's process by the benchmark only (`node --expose-gc --import …`), never by
 * `npm start` or in Azure: on SIGUSR2 it runs a full garbage collection and prints `GC DONE` with the heap figures after it, so that the
 * benchmark reads the broker's RSS with the garbage of the warm-up gone (RSS growth per cached token:
 * docs/operations.md "Scaling") rather than whatever the collector had not got round to yet.
 * @module
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench/gc-on-signal needs node --expose-gc');
process.on('SIGUSR2', () => {
  // Twice: the first pass finalizes weak references whose targets the second can then free.
  gc();
  gc();
  const m = process.memoryUsage();
  console.log(
    `GC DONE heapUsed=${m.heapUsed} external=${m.external} arrayBuffers=${m.arrayBuffers} heapTotal=${m.heapTotal} rss=${m.rss}`,
  );
});
