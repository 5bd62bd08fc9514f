package org.jvirtio.vring.internal;

/**
 * Split rings: the heads a transport resubmitted after a back-end restart, waiting to be popped again
 * (see {@link org.jvirtio.vring.DeviceVring#resubmitSplit}). A first-in first-out line of distinct
 * heads; each head is below the queue size, so at most {@code size} wait and the line never overflows.
 * Only the head index is kept: the chain is walked from the descriptor table when it is popped.
 */
final class ResubmittedHeads {
    private final int[] line;
    private final boolean[] queued;
    private int first;
    private int waiting;

    ResubmittedHeads(int size) {
        line = new int[size];
        queued = new boolean[size];
    }

    /** Queues {@code head} (already checked to be below the size); false if it is already queued. */
    boolean add(int head) {
        if (queued[head]) {
            return false;
        }
        queued[head] = true;
        line[(first + waiting) % line.length] = head;
        waiting++;
        return true;
    }

    boolean isEmpty() {
        return waiting == 0;
    }

    /** The oldest waiting head (the line must not be empty). */
    int first() {
        return line[first];
    }

    void removeFirst() {
        queued[line[first]] = false;
        first = (first + 1) % line.length;
        waiting--;
    }
}
