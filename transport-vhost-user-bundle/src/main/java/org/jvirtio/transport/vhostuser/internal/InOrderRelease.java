package org.jvirtio.transport.vhostuser.internal;

/**
 * With VIRTIO_F_IN_ORDER the ring holds a completion back until every chain popped before it is
 * complete too; only then does its used element exist. The in-flight record must follow the ring,
 * not the device: a completion the driver cannot see yet is still in flight, and a back end dying
 * then must resubmit it. This keeps the pop order and lets completions reach the tracker in that
 * order, at publish time. One per plugged ring, used by the thread serving it; no allocation after
 * construction.
 */
final class InOrderRelease {
    private final int[] popped;
    private final boolean[] completed;
    private int first;
    private int count;

    InOrderRelease(int size) {
        this.popped = new int[size];
        this.completed = new boolean[size];
    }

    /** The device popped the chain with this head (split) or buffer id (packed). */
    void popped(int head) {
        if (count == popped.length) {
            return; // more held than the ring has entries: the ring itself refuses that
        }
        popped[(first + count) % popped.length] = head;
        count++;
    }

    void completed(int head) {
        if (head >= 0 && head < completed.length) {
            completed[head] = true;
        }
    }

    /** Hands the tracker every completion the ring has released: the complete prefix of the pop order. */
    void release(InflightTracker tracker) {
        while (count > 0 && completed[popped[first]]) {
            int head = popped[first];
            completed[head] = false;
            first = (first + 1) % popped.length;
            count--;
            tracker.used(head);
        }
    }
}
