package org.jvirtio.device.balloon;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct virtio_balloon_config} (virtio 1.2 section 5.5.4) and the free page hint state behind
 * its command id. All little-endian, served whole (16 bytes) whatever was negotiated:
 *
 * <pre>
 *  0 le32 num_pages              the target, set by the host           read-only to the driver
 *  4 le32 actual                 the balloon's size, set by the driver writable
 *  8 le32 free_page_hint_cmd_id  (FREE_PAGE_HINT) set by the host      read-only to the driver
 * 12 le32 poison_val             (PAGE_POISON) set by the driver        writable with PAGE_POISON
 * </pre>
 *
 * <p>Free page hints (section 5.5.6.7): the host starts a run with a new command id (status
 * REQUESTED); the driver echoes it on free_page_vq (START) and lends free page blocks until it sends a
 * stop; the device then answers DONE (command id 1), and the driver takes its blocks back. Outside a
 * run the command id reads STOP (0).
 *
 * <p>Every change holds this object's lock; fields that queue servers read on their own (poison_val,
 * the hint status) are volatile so they need not take it.
 */
public final class BalloonConfigSpace {
    public static final int NUM_PAGES = 0;
    public static final int ACTUAL = 4;
    public static final int FREE_PAGE_HINT_CMD_ID = 8;
    public static final int POISON_VAL = 12;
    public static final int SIZE = 16;

    /** free_page_hint_cmd_id outside a run. */
    public static final int CMD_ID_STOP = 0;
    /** free_page_hint_cmd_id once the device has no more use for the lent blocks. */
    public static final int CMD_ID_DONE = 1;
    /** The first command id of a run (QEMU's choice too: far from the two reserved values). */
    static final long CMD_ID_MIN = 0x8000_0000L;

    /** Where a free page hint run is. */
    public enum HintStatus { STOP, REQUESTED, START, DONE }

    /** What a command the driver sent on free_page_vq did. */
    public enum HintCommand {
        /** The driver started lending blocks for the current run. */
        STARTED,
        /** The driver stopped; the device answered DONE (a configuration interrupt is due). */
        DONE,
        /** An id of no run in progress, or a stop outside a run: ignored. */
        STALE
    }

    private int numPages;
    private int actual;
    private volatile int poisonVal;
    private volatile HintStatus hintStatus = HintStatus.STOP;
    private long cmdId;
    private long nextCmdId = CMD_ID_MIN;

    BalloonConfigSpace(long targetPages) {
        numPages = (int) targetPages;
    }

    /** The 16 bytes as the driver reads them now (a fresh array). */
    synchronized byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(NUM_PAGES, numPages);
        b.putInt(ACTUAL, actual);
        b.putInt(FREE_PAGE_HINT_CMD_ID, switch (hintStatus) {
            case STOP -> CMD_ID_STOP;
            case DONE -> CMD_ID_DONE;
            case REQUESTED, START -> (int) cmdId;
        });
        b.putInt(POISON_VAL, poisonVal);
        return b.array();
    }

    /**
     * Applies a driver's write: only the bytes of actual, and of poison_val when {@code poisonWritable},
     * change; the rest of the write is ignored.
     */
    synchronized void driverWrite(int offset, byte[] src, int srcOffset, int length, boolean poisonWritable) {
        byte[] image = encode();
        for (int i = 0; i < length; i++) {
            long at = (long) offset + i;
            boolean writable = (at >= ACTUAL && at < ACTUAL + 4)
                    || (poisonWritable && at >= POISON_VAL && at < POISON_VAL + 4);
            if (writable) {
                image[(int) at] = src[srcOffset + i];
            }
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        actual = b.getInt(ACTUAL);
        poisonVal = b.getInt(POISON_VAL);
    }

    synchronized long numPages() {
        return Integer.toUnsignedLong(numPages);
    }

    synchronized void setNumPages(long pages) {
        numPages = (int) pages;
    }

    synchronized long actual() {
        return Integer.toUnsignedLong(actual);
    }

    /** The driver's poison value (0: it does not poison free pages, or it did not say). */
    public int poisonVal() {
        return poisonVal;
    }

    /** Whether a hint run is in progress: hinted blocks count. */
    public boolean hinting() {
        return hintStatus == HintStatus.START;
    }

    /** Starts a hint run: a fresh command id (wrapping within the upper half of the 32-bit space). */
    synchronized long requestHints() {
        cmdId = nextCmdId;
        nextCmdId = nextCmdId == 0xFFFF_FFFFL ? CMD_ID_MIN : nextCmdId + 1;
        hintStatus = HintStatus.REQUESTED;
        return cmdId;
    }

    /** The driver sent command {@code id} (its echo of a run's id, or a stop) on free_page_vq. */
    public synchronized HintCommand driverHintCommand(long id) {
        if (hintStatus == HintStatus.REQUESTED && id == cmdId) {
            hintStatus = HintStatus.START;
            return HintCommand.STARTED;
        }
        if (hintStatus == HintStatus.START) {
            // the only command a driver sends during a run is its stop: the device keeps nothing of the
            // blocks (it releases none, see FreePageHintQueue), so the driver may take them back at once
            hintStatus = HintStatus.DONE;
            return HintCommand.DONE;
        }
        return HintCommand.STALE;
    }

    /** The driver state goes with a reset; the host's target stays. */
    synchronized void reset() {
        actual = 0;
        poisonVal = 0;
        hintStatus = HintStatus.STOP;
    }
}
