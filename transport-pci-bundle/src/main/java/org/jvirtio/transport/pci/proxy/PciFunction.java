package org.jvirtio.transport.pci.proxy;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One PCI function as a VMM's proxy sees it: a 256-byte configuration space (type 0 header, BAR
 * registers with sizing, capability list) and memory BARs. The proxy calls it from one thread at a time.
 * Everything here comes from the VMM on behalf of an untrusted guest, but the proxy has already checked
 * what it can: {@code offset + size} lies inside the configuration space or the BAR, and {@code size} is
 * 1, 2 or 4 (8 too for BARs). The function still decides what each access means: unknown registers read
 * as zero, writes to read-only bits are ignored.
 */
@ConsumerType
public interface PciFunction {

    /** Bytes of configuration space the proxy forwards. */
    int CONFIG_SPACE_SIZE = 256;

    /** Reads {@code size} bytes of configuration space at {@code offset}, little-endian. */
    int readConfig(int offset, int size);

    /** Writes the low {@code size} bytes of {@code value} to configuration space at {@code offset}. */
    void writeConfig(int offset, int size, int value);

    /**
     * Size in bytes of 32-bit memory BAR {@code index} (0 to 5): a power of two of at least 16, or 0
     * if the function has no such BAR. Fixed for the life of the function. The proxy learns where the
     * guest placed the BAR from the BAR register in configuration space.
     */
    int barSize(int index);

    /** Reads {@code size} bytes at {@code offset} inside BAR {@code index}, little-endian. */
    long readBar(int index, int offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset} inside BAR {@code index}. */
    void writeBar(int index, int offset, int size, long value);

    /** The VMM reset the function (its DEVICE_RESET message, or a system reset). */
    void reset();

    /**
     * Whether the function may still access guest memory although it was reset: a device that did not
     * return from serving a queue in time goes on with the memory it had until it returns. A proxy keeps
     * guest memory mapped meanwhile (an access to memory unmapped under it would bring the process
     * down); asked on the proxy's thread after {@link #reset()}.
     *
     * @since 1.2
     */
    default boolean guestMemoryInUse() {
        return false;
    }
}
