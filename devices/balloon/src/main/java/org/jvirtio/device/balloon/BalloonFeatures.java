package org.jvirtio.device.balloon;

/** virtio-balloon feature bits (virtio 1.2 section 5.5.3), as bit numbers. */
public final class BalloonFeatures {
    /** The driver must tell the host before it uses deflated pages (not offered: nothing waits on it here). */
    public static final int MUST_TELL_HOST = 0;
    /** A statistics queue: the driver reports memory statistics when the device hands its buffer back. */
    public static final int STATS_VQ = 1;
    /** The driver may deflate the balloon when the guest runs out of memory. */
    public static final int DEFLATE_ON_OOM = 2;
    /** A free page queue and free_page_hint_cmd_id: the driver lends blocks of free pages on request. */
    public static final int FREE_PAGE_HINT = 3;
    /** poison_val: the value the driver expects in pages it freed (free pages are not released if it is not 0). */
    public static final int PAGE_POISON = 4;
    /** A reporting queue: the driver reports free pages, which the device releases. */
    public static final int PAGE_REPORTING = 5;

    private BalloonFeatures() {
    }
}
