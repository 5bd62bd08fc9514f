package org.jvirtio.api.queue;

import org.jvirtio.api.memory.GuestMemory;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One available buffer, already walked and validated: its descriptors in order, device-readable ones
 * first (indexes {@code 0 .. readableCount()-1}), then device-writable ones. Every
 * {@code address(i), length(i)} lies inside {@link #memory()}.
 *
 * <p>A chain is a reusable view (flyweight) filled by {@link DeviceQueue#pop}; it stays valid until
 * it is passed to {@code pop} again. To complete a request later, keep {@link #head()} and
 * {@link #ringSlots()}; the view itself may be reused.
 */
@ProviderType
public interface DescriptorChain {

    /** The id the device reports in the used ring: the split head index or the packed buffer id. */
    int head();

    /** Ring descriptors the chain occupied (packed rings advance by this when it is used). */
    int ringSlots();

    /** Descriptors in the chain, indirect ones expanded. */
    int count();

    /** Device-readable descriptors; they come first. */
    int readableCount();

    /** Device-writable descriptors; they follow the readable ones. */
    default int writableCount() {
        return count() - readableCount();
    }

    /** Guest-physical address of descriptor {@code i}. */
    long address(int i);

    /** Length in bytes of descriptor {@code i}. */
    int length(int i);

    /** Whether descriptor {@code i} is device-writable. */
    default boolean isWritable(int i) {
        return i >= readableCount();
    }

    /** Total bytes the device may read. */
    long readableBytes();

    /** Total bytes the device may write. */
    long writableBytes();

    /** The memory snapshot the chain was validated against. */
    GuestMemory memory();
}
