package org.jvirtio.transport.pci.proxy.internal;

/**
 * The mpqemu commands QEMU 7.2's {@code x-pci-proxy-dev} sends (hw/remote/mpqemu-link.h), each with
 * the payload size and descriptor count a well-formed one carries, and whether the sender waits for a
 * {@link #RET}. Answering a command that takes no reply would leave a stray RET in the stream, which
 * QEMU would then read as the answer to its next question.
 */
public enum Command {
    /** Guest RAM: one region per descriptor, described by {@link SysmemLayout}. No reply. */
    SYNC_SYSMEM(0, SysmemLayout.SIZE, 1, SysmemLayout.MAX_REGIONS, false),
    /** The answer to a question; a peer never sends one to us. */
    RET(1, 8, 0, 0, false),
    PCI_CFGWRITE(2, ConfigLayout.SIZE, 0, 0, true),
    PCI_CFGREAD(3, ConfigLayout.SIZE, 0, 0, true),
    BAR_WRITE(4, BarLayout.SIZE, 0, 0, true),
    BAR_READ(5, BarLayout.SIZE, 0, 0, true),
    /** INTx eventfd and its resample eventfd, for KVM's irqfd. No reply. */
    SET_IRQFD(6, 0, 2, 2, false),
    DEVICE_RESET(7, 0, 0, 0, true);

    private static final Command[] BY_CODE = values();

    private final int code;
    private final int payloadSize;
    private final int minFds;
    private final int maxFds;
    private final boolean replies;

    Command(int code, int payloadSize, int minFds, int maxFds, boolean replies) {
        this.code = code;
        this.payloadSize = payloadSize;
        this.minFds = minFds;
        this.maxFds = maxFds;
        this.replies = replies;
    }

    /** The command with wire code {@code code}, or null if there is none. */
    public static Command of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    public int code() {
        return code;
    }

    public int payloadSize() {
        return payloadSize;
    }

    /** Whether the sender waits for a RET. */
    public boolean replies() {
        return replies;
    }

    /** Why a message of this command with {@code size} payload bytes and {@code fds} descriptors is malformed, or null. */
    public String check(long size, int fds) {
        if (this == RET) {
            return "RET from the peer, which asked nothing of it";
        }
        if (size != payloadSize) {
            return this + ": payload of " + size + " bytes, expected " + payloadSize;
        }
        if (fds < minFds || fds > maxFds) {
            return this + ": " + fds + " file descriptors, expected "
                    + (minFds == maxFds ? String.valueOf(minFds) : minFds + " to " + maxFds);
        }
        return null;
    }
}
