package org.jvirtio.api.memory;

/** A guest-supplied address range that is not (wholly) mapped, or that overflows. */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long address;
    private final long length;

    public GuestMemoryException(String reason, long address, long length) {
        super(reason + ": [0x" + Long.toHexString(address) + ", +" + length + ")");
        this.address = address;
        this.length = length;
    }

    public long address() {
        return address;
    }

    public long length() {
        return length;
    }
}
