package org.jvirtio.vring.internal;

/** The EVENT_IDX rule shared by both sides of a split ring (virtio 1.2 section 2.7.7.2, vring_need_event). */
final class EventIndex {
    private EventIndex() {
    }

    /**
     * Whether moving an index from {@code oldIndex} to {@code newIndex} crosses {@code eventIndex}, the
     * point at which the peer asked to be notified. All three are 16-bit ring counters that wrap.
     */
    static boolean needsEvent(int eventIndex, int newIndex, int oldIndex) {
        return ((newIndex - eventIndex - 1) & 0xFFFF) < ((newIndex - oldIndex) & 0xFFFF);
    }
}
