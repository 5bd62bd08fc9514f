package org.jvirtio.vring.internal;

/**
 * VIRTIO_F_IN_ORDER on the device side: devices may finish requests in any order, but the driver must
 * see buffers used in the order they were made available. This remembers the pop order and releases
 * each completion only once every chain popped before it is complete. Shared by both ring formats;
 * allocation-free after construction.
 */
final class InOrderCompletions {
    /** Where released completions go: the ring writes its used element. */
    @FunctionalInterface
    interface Sink {
        void used(int id, int length);
    }

    private final int capacity;
    private final int[] popOrder;
    private final int[] length;
    private final boolean[] done;
    private final Sink sink;
    private int popIndex;
    private int releaseIndex;
    private int outstanding;
    /** Completions recorded but held back behind an earlier chain. */
    private int waiting;

    InOrderCompletions(int capacity, Sink sink) {
        this.capacity = capacity;
        this.popOrder = new int[capacity];
        this.length = new int[capacity];
        this.done = new boolean[capacity];
        this.sink = sink;
    }

    /** Chain {@code id} was popped: it is next in line after every chain popped before it. */
    void popped(int id) {
        popOrder[popIndex] = id;
        popIndex = popIndex + 1 == capacity ? 0 : popIndex + 1;
        outstanding++;
    }

    /** Whether {@code id} is complete but held back behind an earlier chain. */
    boolean isWaiting(int id) {
        return done[id];
    }

    /**
     * Takes {@code id} off the line if it is at the front and nothing is held back: a device that
     * completes in pop order (a receive queue) then pays neither the bookkeeping of {@link #complete}
     * nor the call through the sink. The caller writes the used element itself.
     *
     * @return false if {@code id} must go through {@link #complete} instead
     */
    boolean releaseIfFirst(int id) {
        if (waiting != 0 || outstanding == 0 || popOrder[releaseIndex] != id) {
            return false;
        }
        releaseIndex = releaseIndex + 1 == capacity ? 0 : releaseIndex + 1;
        outstanding--;
        return true;
    }

    /** Records that {@code id} is complete, and releases every completion now at the front of the line. */
    void complete(int id, int writtenLength) {
        length[id] = writtenLength;
        done[id] = true;
        waiting++;
        while (outstanding > 0) {
            int next = popOrder[releaseIndex];
            if (!done[next]) {
                return;
            }
            done[next] = false;
            waiting--;
            releaseIndex = releaseIndex + 1 == capacity ? 0 : releaseIndex + 1;
            outstanding--;
            sink.used(next, length[next]);
        }
    }
}
