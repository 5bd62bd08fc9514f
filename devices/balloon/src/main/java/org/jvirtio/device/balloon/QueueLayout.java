package org.jvirtio.device.balloon;

import org.jvirtio.api.VirtioFeature;

/**
 * Which virtqueue index each balloon queue has (virtio 1.2 section 5.5.2). inflateq and deflateq are
 * always 0 and 1; statsq, free_page_vq and reporting_vq exist only with their feature, and each takes
 * the next index: without STATS_VQ, free_page_vq is queue 2. Linux numbers its queues this way (it skips
 * the queues of features not negotiated), so the layout follows the negotiated features; the device
 * offers as many queues as its offered features could need.
 */
public final class QueueLayout {
    /** No such queue with these features. */
    public static final int ABSENT = -1;

    private final int stats;
    private final int freePage;
    private final int reporting;
    private final int count;

    private QueueLayout(long features) {
        int next = 2;
        stats = VirtioFeature.has(features, BalloonFeatures.STATS_VQ) ? next++ : ABSENT;
        freePage = VirtioFeature.has(features, BalloonFeatures.FREE_PAGE_HINT) ? next++ : ABSENT;
        reporting = VirtioFeature.has(features, BalloonFeatures.PAGE_REPORTING) ? next++ : ABSENT;
        count = next;
    }

    /** The queues of a device with {@code features} (offered or negotiated). */
    public static QueueLayout of(long features) {
        return new QueueLayout(features);
    }

    public int inflate() {
        return 0;
    }

    public int deflate() {
        return 1;
    }

    /** statsq, or {@link #ABSENT}. */
    public int stats() {
        return stats;
    }

    /** free_page_vq, or {@link #ABSENT}. */
    public int freePage() {
        return freePage;
    }

    /** reporting_vq, or {@link #ABSENT}. */
    public int reporting() {
        return reporting;
    }

    /** Queues in all. */
    public int count() {
        return count;
    }
}
