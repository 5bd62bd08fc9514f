package org.jvirtio.transport.mmio.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.transport.mmio.VirtioMmioTransport;
import org.jvirtio.transport.mmio.acpi.MmioSsdt;
import org.jvirtio.transport.mmio.proxy.internal.MmioBarFunction;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciFunctionFactory;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * virtio-mmio devices served through one PCI slot of a VMM's proxy: give it to a
 * {@link org.jvirtio.transport.pci.proxy.ProxySlot} as the factory, and the function it builds holds one
 * virtio-mmio register window per device in its BAR0 (window i at BAR0 + i * 0x200), the layout
 * {@link MmioSsdt#builder()}{@code .slot(slot, windowCount())} declares to the guest. The function is no
 * device a PCI driver binds (class 0xff0000, vendor 0x564a); its INTx pin, shared by the windows, is the
 * interrupt the SSDT gives each of them.
 *
 * <pre>
 * VirtioMmioSlot mmio = VirtioMmioSlot.builder().window("blk0", blk).window("net0", net).build();
 * Files.write(ssdt, MmioSsdt.builder().slot(4, mmio.windowCount()).build());
 * // qemu ... -acpitable file=ssdt -S -qmp unix:QMP,server=on,wait=off -qtest unix:QTEST,server=on,wait=off
 * QemuProxyHost.start(qmp, qtest, List.of(new ProxySlot("mmio0", 4, mmio)), timeout);
 * </pre>
 *
 * A device serves one function at a time: build a slot once per VMM connection.
 */
public final class VirtioMmioSlot implements PciFunctionFactory {
    private final List<VirtioDevice> devices;
    private final List<String> names;
    private final String name;
    /**
     * The function built last. Volatile: the proxy's thread builds it, the application reads counters
     * from its own thread, which must see the fully constructed function, not a half-published one.
     */
    private volatile MmioBarFunction function;

    private VirtioMmioSlot(Builder b) {
        this.devices = List.copyOf(b.devices);
        this.names = List.copyOf(b.names);
        this.name = String.join("+", names);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds the function over the proxy's guest memory; called by the proxy once per attach. */
    @Override
    public PciFunction create(GuestMemory memory, PciInterrupts interrupts) {
        MmioBarFunction f = new MmioBarFunction(name, devices, names, memory, interrupts);
        function = f;
        return f;
    }

    /** How many windows (devices) the BAR holds: what the SSDT declares for the slot. */
    public int windowCount() {
        return devices.size();
    }

    /** BAR0's size in bytes: the windows rounded up to a power of two, at least 4 KiB. */
    public int barSize() {
        return MmioBarFunction.barSizeFor(devices.size());
    }

    /**
     * Window {@code index}'s register model in the function built last (its status, features and
     * counters).
     *
     * @throws IllegalStateException before the proxy built the function
     */
    public VirtioMmioTransport transport(int index) {
        return built().transport(index);
    }

    /**
     * Counters of the function built last: outsideWindows, crossesWindows, noSuchBar, configReadOnly,
     * configOutOfRange (BAR and configuration accesses ignored), remaps, remapsDeferred (memory map
     * changes the rings followed, and those where a ring kept its old views), resets, intxRaises.
     */
    public Map<String, Long> counters() {
        return built().counters();
    }

    private MmioBarFunction built() {
        MmioBarFunction f = function;
        if (f == null) {
            throw new IllegalStateException("no function built yet for " + name);
        }
        return f;
    }

    @Override
    public String toString() {
        return "VirtioMmioSlot[" + name + "]";
    }

    public static final class Builder {
        private final List<VirtioDevice> devices = new ArrayList<>();
        private final List<String> names = new ArrayList<>();

        private Builder() {
        }

        /** Adds the next window: {@code device}, named {@code name} in logs. */
        public Builder window(String name, VirtioDevice device) {
            names.add(Objects.requireNonNull(name, "name"));
            devices.add(Objects.requireNonNull(device, "device"));
            return this;
        }

        /** @throws IllegalArgumentException with no window, or more than 64 */
        public VirtioMmioSlot build() {
            if (devices.isEmpty() || devices.size() > MmioBarFunction.MAX_WINDOWS) {
                throw new IllegalArgumentException(devices.size() + " windows, expected 1 to "
                        + MmioBarFunction.MAX_WINDOWS);
            }
            return new VirtioMmioSlot(this);
        }
    }
}
