package org.jvirtio.transport.mmio.component;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.transport.mmio.proxy.VirtioMmioSlot;
import org.jvirtio.transport.pci.proxy.PciFunctionFactory;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.QemuSlots;

/**
 * One PCI slot of one QEMU whose BAR holds the register windows of the {@link MmioTransport}s naming
 * it, as one member of that QEMU's group ({@link QemuSlots}): the slot holds the guest back until it
 * is attached, and is attached once its windows are 0 to n-1 without a gap and each has its device
 * (the SSDT written by {@code --mmio-ssdt} declares n windows; the container checked them).
 *
 * <p>A slot is one PCI function: it is built once with the devices its windows have then. A window
 * whose device or configuration goes after that takes the function down for every window of the
 * slot (the guest sees all-ones; QEMU keeps the proxy device until it is unplugged), as a PCI device
 * that leaves does.
 *
 * <p>Threads: windows join, leave and offer devices on DS threads; the group calls
 * {@link #wantsAttach()}, {@link #factory()}, {@link #attached} and {@link #failed} on its own. All
 * state is guarded by this object; the group's {@link #settled()} asks under the group's lock, and
 * this object never calls the group while holding its own lock, so the two locks never nest the
 * other way round.
 */
final class SharedSlot implements QemuSlots.Slot {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio");

    private final String id;
    private final int slot;
    private final TreeMap<Integer, MmioTransport.Window> windows = new TreeMap<>();
    private QemuSlots.Membership membership;
    private VirtioMmioSlot built;
    private List<MmioTransport.Window> builtWindows = List.of();
    private ProxiedFunction proxied;
    private String failure;
    private boolean settled;

    SharedSlot(int slot) {
        this.slot = slot;
        this.id = "jvirtio-mmio-slot" + slot; // QEMU's id of the proxy device: not a jvirtio device's
    }

    void membership(QemuSlots.Membership m) {
        this.membership = m;
    }

    QemuSlots.Membership membership() {
        return membership;
    }

    /** @return null, or why {@code w} cannot take its window (another device's) */
    synchronized String add(MmioTransport.Window w) {
        MmioTransport.Window other = windows.putIfAbsent(w.index(), w);
        if (other != null) {
            return "window " + w.index() + " of slot " + slot + " is already device " + other.id() + "'s";
        }
        if (settled) {
            LOG.log(Level.WARNING, "{0}: window {1} of slot {2} came after the slot was attached; the guest will"
                    + " not see it until QEMU restarts", w.id(), w.index(), slot);
        }
        return null;
    }

    /** Removes {@code w}; @return whether the slot has no window left. */
    synchronized boolean remove(MmioTransport.Window w) {
        windows.remove(w.index(), w);
        if (builtWindows.contains(w)) {
            closeFunction(w.id() + " left");
        }
        return windows.isEmpty();
    }

    /** The device of {@code w} went: the function built over it stops answering. */
    synchronized void withdrawn(MmioTransport.Window w) {
        if (builtWindows.contains(w)) {
            closeFunction("device " + w.id() + " left");
        }
    }

    private void closeFunction(String why) {
        if (proxied != null) {
            LOG.log(Level.INFO, "mmio slot {0}: {1}; the slot''s function is closed for all its windows", slot, why);
            proxied.close();
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int slot() {
        return slot;
    }

    /** Windows 0 to n-1, each with its device, and not attached yet. */
    @Override
    public synchronized boolean wantsAttach() {
        if (settled || windows.isEmpty()) {
            return false;
        }
        int expected = 0;
        for (Map.Entry<Integer, MmioTransport.Window> e : windows.entrySet()) {
            if (e.getKey() != expected++ || e.getValue().device() == null) {
                return false;
            }
        }
        return true;
    }

    /** The first window missing below the highest one, or -1 if the windows are 0 to n-1. */
    synchronized int gap() {
        int expected = 0;
        for (int index : windows.keySet()) {
            if (index != expected) {
                return expected;
            }
            expected++;
        }
        return -1;
    }

    @Override
    public synchronized PciFunctionFactory factory() {
        VirtioMmioSlot.Builder b = VirtioMmioSlot.builder();
        List<MmioTransport.Window> in = new ArrayList<>(windows.values());
        for (MmioTransport.Window w : in) {
            b.window(w.id(), w.device());
        }
        VirtioMmioSlot s = b.build();
        built = s;
        builtWindows = List.copyOf(in);
        for (int i = 0; i < in.size(); i++) {
            in.get(i).servedBy(s, i);
        }
        return s;
    }

    @Override
    public synchronized void attached(ProxiedFunction function) {
        proxied = function;
        settled = true;
        LOG.log(Level.INFO, "mmio slot {0}: windows {1} attached", slot,
                builtWindows.stream().map(w -> w.index() + "=" + w.id()).toList());
        if (builtWindows.stream().anyMatch(w -> !windows.containsValue(w) || w.device() == null)) {
            closeFunction("a window left while device_add ran");
        }
    }

    @Override
    public synchronized void failed(String why) {
        failure = why;
        settled = true;
    }

    @Override
    public synchronized boolean settled() {
        return settled;
    }

    @Override
    public synchronized boolean attachedOk() {
        return settled && failure == null;
    }

    /** For a window's state: {@code failed}, {@code waiting}, {@code disconnected} or null (attached and connected). */
    synchronized String state(MmioTransport.Window w) {
        if (failure != null) {
            return "failed";
        }
        if (proxied == null) {
            return "waiting";
        }
        if (!builtWindows.contains(w)) {
            return "not-in-slot"; // came after the slot was attached
        }
        return proxied.isConnected() ? null : "disconnected";
    }

    /** The function's counters ({@code bar.*} in a window's served device), empty before it is built. */
    synchronized Map<String, Long> slotCounters() {
        return proxied == null || built == null ? Map.of() : built.counters();
    }

    synchronized Map<String, Long> proxyCounters() {
        return proxied == null ? Map.of() : proxied.counters();
    }
}
