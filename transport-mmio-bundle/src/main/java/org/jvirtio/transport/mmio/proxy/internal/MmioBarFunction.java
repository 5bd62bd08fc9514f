package org.jvirtio.transport.mmio.proxy.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.transport.mmio.MmioRegister;
import org.jvirtio.transport.mmio.VirtioMmioTransport;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * A PCI function whose BAR0 holds virtio-mmio register windows, one {@link VirtioMmioTransport} each:
 * an access at BAR0 offset {@code i * 0x200 + r} is window i's register {@code r}. The function itself
 * is no device a PCI driver knows ({@link SlotConfigSpace}); the guest finds the windows through the
 * SSDT, whose _CRS reads this function's BAR0 and Interrupt Line. The pin is the OR of the windows'
 * lines ({@link SharedInterruptLine}).
 *
 * <p><b>Untrusted peer.</b> The proxy has bounded every access to the configuration space or the BAR;
 * what is left is counted and answered with 0: a BAR access past the last window (the BAR is rounded
 * up to a power of two), one that crosses from one window into the next, one to a BAR other than 0.
 * Configuration writes that touch no writable bit are counted too.
 *
 * <p><b>Guest memory.</b> The proxy replaces the map of {@code memory} on SYNC_SYSMEM (on the thread
 * that also calls here) and keeps the mappings it no longer uses until {@link #reset}, so a ring view
 * into an old mapping stays valid. To follow a region that moved, the first BAR access after a change
 * has every window rebuild its rings over the new map ({@link VirtioMmioTransport#remapRings}).
 */
public final class MmioBarFunction implements PciFunction {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio.proxy");
    /** At most this many windows share one BAR: one bit each in the shared line. */
    public static final int MAX_WINDOWS = 64;
    /** The smallest BAR: one page, so the guest never maps another function's registers with ours. */
    public static final int MIN_BAR = 4096;

    /** What the function counts, in {@link #counters()} order. */
    enum Counter {
        /** BAR accesses past the last window. */
        OUTSIDE_WINDOWS,
        /** BAR accesses that start in one window and end in the next. */
        CROSSES_WINDOWS,
        /** Accesses to a BAR the function does not have. */
        NO_SUCH_BAR,
        /** Configuration writes with no writable bit in their range. */
        CONFIG_READ_ONLY,
        /** Configuration accesses out of range (the proxy should have refused them). */
        CONFIG_OUT_OF_RANGE,
        /** Memory map changes the rings followed. */
        REMAPS,
        /** Remaps where a ring had to keep old views (chains in flight). */
        REMAPS_DEFERRED,
        /** Function resets. */
        RESETS
    }

    private final String name;
    private final GuestMemory memory;
    private final SlotConfigSpace config;
    private final SharedInterruptLine line;
    private final VirtioMmioTransport[] windows;
    private final int barSize;
    private final AtomicLongArray counts = new AtomicLongArray(Counter.values().length);
    /** The map the rings were last resolved against; proxy thread only. */
    private GuestMemory seenMap;

    /**
     * @param name    the slot in logs
     * @param devices the devices, window 0 first (1 to {@link #MAX_WINDOWS})
     * @param names   each window's name in logs
     */
    public MmioBarFunction(String name, List<VirtioDevice> devices, List<String> names, GuestMemory memory,
            PciInterrupts interrupts) {
        if (devices.isEmpty() || devices.size() > MAX_WINDOWS || names.size() != devices.size()) {
            throw new IllegalArgumentException(devices.size() + " windows, expected 1 to " + MAX_WINDOWS
                    + " with one name each");
        }
        this.name = name;
        this.memory = memory;
        this.barSize = barSizeFor(devices.size());
        this.config = new SlotConfigSpace(barSize);
        this.line = new SharedInterruptLine(interrupts);
        this.windows = new VirtioMmioTransport[devices.size()];
        for (int i = 0; i < windows.length; i++) {
            windows[i] = new VirtioMmioTransport(devices.get(i), memory, line.window(i), names.get(i));
        }
        this.seenMap = memory.snapshot();
    }

    /** BAR0's size for {@code windows} windows: their bytes rounded up to a power of two, at least 4 KiB. */
    public static int barSizeFor(int windows) {
        int bytes = windows * MmioRegister.WINDOW_SIZE;
        return Math.max(MIN_BAR, Integer.highestOneBit(bytes - 1) << 1);
    }

    @Override
    public int readConfig(int offset, int size) {
        if (!SlotConfigSpace.validAccess(offset, size)) {
            fault(Counter.CONFIG_OUT_OF_RANGE, "config read of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return 0;
        }
        return config.read(offset, size, line.isAsserted());
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
        if (!SlotConfigSpace.validAccess(offset, size)) {
            fault(Counter.CONFIG_OUT_OF_RANGE, "config write of " + size + " bytes at 0x" + Integer.toHexString(offset));
            return;
        }
        if (!config.write(offset, size, value)) {
            counts.incrementAndGet(Counter.CONFIG_READ_ONLY.ordinal()); // firmware probes do this; not logged
        }
    }

    @Override
    public int barSize(int index) {
        return index == 0 ? barSize : 0;
    }

    @Override
    public long readBar(int index, int offset, int size) {
        VirtioMmioTransport window = window(index, offset, size);
        return window == null ? 0 : window.read(offset % MmioRegister.WINDOW_SIZE, size);
    }

    @Override
    public void writeBar(int index, int offset, int size, long value) {
        VirtioMmioTransport window = window(index, offset, size);
        if (window != null) {
            window.write(offset % MmioRegister.WINDOW_SIZE, size, value);
        }
    }

    /** The window an access falls in, after the map check; null (counted) if none holds all of it. */
    private VirtioMmioTransport window(int index, int offset, int size) {
        if (index != 0) {
            fault(Counter.NO_SUCH_BAR, "access to BAR " + index);
            return null;
        }
        int w = offset / MmioRegister.WINDOW_SIZE;
        if (offset < 0 || w >= windows.length) {
            fault(Counter.OUTSIDE_WINDOWS, "access at BAR0 offset 0x" + Integer.toHexString(offset)
                    + ", past the last window");
            return null;
        }
        if (offset % MmioRegister.WINDOW_SIZE + size > MmioRegister.WINDOW_SIZE) {
            fault(Counter.CROSSES_WINDOWS, size + "-byte access at BAR0 offset 0x" + Integer.toHexString(offset)
                    + " crosses into the next window");
            return null;
        }
        followMemoryMap();
        return windows[w];
    }

    /**
     * SYNC_SYSMEM is handled on this thread between accesses: if the map changed since the rings were
     * resolved, each window moves its rings over the new one before the access runs.
     */
    private void followMemoryMap() {
        GuestMemory now = memory.snapshot();
        if (now == seenMap) {
            return;
        }
        seenMap = now;
        counts.incrementAndGet(Counter.REMAPS.ordinal());
        for (VirtioMmioTransport w : windows) {
            if (!w.remapRings()) {
                // the old mapping stays mapped until reset: the ring keeps working there
                counts.incrementAndGet(Counter.REMAPS_DEFERRED.ordinal());
            }
        }
    }

    /** Resets every window (ends their queue threads, lowers their lines) and the configuration space. */
    @Override
    public void reset() {
        counts.incrementAndGet(Counter.RESETS.ordinal());
        for (VirtioMmioTransport w : windows) {
            w.write(MmioRegister.STATUS, 4, 0);
        }
        config.reset();
        seenMap = memory.snapshot();
    }

    /** True while a window's device that did not return from serving a queue in time may use guest memory. */
    @Override
    public boolean guestMemoryInUse() {
        for (VirtioMmioTransport w : windows) {
            if (w.guestMemoryInUse()) {
                return true;
            }
        }
        return false;
    }

    /** Window {@code index}'s register model. */
    public VirtioMmioTransport transport(int index) {
        return windows[index];
    }

    public int windowCount() {
        return windows.length;
    }

    /** Whether the INTx pin is raised now. */
    public boolean interruptAsserted() {
        return line.isAsserted();
    }

    /** The function's counters by camel-case name, with {@code intxRaises}. */
    public Map<String, Long> counters() {
        Map<String, Long> map = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            map.put(camel(c.name()), counts.get(c.ordinal()));
        }
        map.put("intxRaises", line.raises());
        return map;
    }

    private void fault(Counter counter, String what) {
        long n = counts.incrementAndGet(counter.ordinal());
        LOG.log(n <= 8 ? Level.WARNING : Level.DEBUG, () -> name + ": " + what + " ignored (" + n + " so far)");
    }

    private static String camel(String constant) {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char c : constant.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? c : Character.toLowerCase(c));
                upper = false;
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "MmioBarFunction[" + name + ", " + windows.length + " windows, BAR0 " + barSize + " bytes]";
    }
}
