package org.jvirtio.transport.pci;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.transport.core.QueueService;
import org.jvirtio.transport.pci.internal.PciRegisters;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciFunctionFactory;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * A virtio-pci modern function (virtio 1.2 section 4.1) serving one {@link VirtioDevice}: vendor 0x1af4,
 * device 0x1040 + device id, revision 1, the class code QEMU gives the device type, interrupt pin A;
 * one 32-bit memory BAR (BAR 0, 32 KiB) holding common configuration, ISR, device configuration,
 * notifications (a 4-byte doorbell per queue) and the MSI-X table and PBA (one vector per queue plus
 * one for configuration changes); the capability list names them all, plus the PCI_CFG access window.
 *
 * <p>Threads: the proxy calls the {@link PciFunction} methods from one thread. A notification never
 * runs the device on that thread: a kick worker per device (per queue if the device
 * {@linkplain VirtioDevice#servesQueuesConcurrently() serves queues concurrently}) does, started at
 * DRIVER_OK and stopped by a reset, which returns once the device has stopped, or after a bound (10 s)
 * if the device does not return from serving a queue: the device is then counted as
 * {@code device-stuck} and its status reads DEVICE_NEEDS_RESET, not 0, until it has. Interrupts go out
 * through {@link PciInterrupts} from those workers or the device's own threads.
 *
 * <p>Everything arriving here is untrusted: bad accesses are answered or ignored and counted in
 * {@link #counters()}, never thrown.
 */
public final class VirtioPciFunction implements PciFunction {
    private final PciRegisters registers;

    /**
     * @param device     the device to serve; this function owns its activation and reset from now on
     * @param memory     the guest's memory (swappable; the rings take a snapshot at DRIVER_OK)
     * @param interrupts how to interrupt the guest
     * @param name       the device's name in logs and thread names
     */
    public VirtioPciFunction(VirtioDevice device, GuestMemory memory, PciInterrupts interrupts, String name) {
        this(device, memory, interrupts, name, QueueService.DEFAULT_HOLD_BOUND);
    }

    /** For tests: a register write waits {@code holdBound} (not the default) for a device to let go of a queue. */
    VirtioPciFunction(VirtioDevice device, GuestMemory memory, PciInterrupts interrupts, String name, Duration holdBound) {
        this.registers = new PciRegisters(Objects.requireNonNull(device, "device"), Objects.requireNonNull(memory, "memory"),
                Objects.requireNonNull(interrupts, "interrupts"), Objects.requireNonNull(name, "name"), holdBound);
    }

    /** What a proxy needs to build the function for {@code device} once it knows memory and interrupts. */
    public static PciFunctionFactory factory(VirtioDevice device, String name) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(name, "name");
        return (memory, interrupts) -> new VirtioPciFunction(device, memory, interrupts, name);
    }

    @Override
    public int readConfig(int offset, int size) {
        return registers.readConfig(offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
        registers.writeConfig(offset, size, value);
    }

    @Override
    public int barSize(int index) {
        return index == 0 ? BAR_SIZE : 0;
    }

    /** Bytes of BAR 0. */
    public static final int BAR_SIZE = org.jvirtio.transport.pci.internal.BarLayout.SIZE;

    @Override
    public long readBar(int index, int offset, int size) {
        return registers.readBar(index, offset, size);
    }

    @Override
    public void writeBar(int index, int offset, int size, long value) {
        registers.writeBar(index, offset, size, value);
    }

    @Override
    public void reset() {
        registers.reset();
    }

    /** True while a device that did not return from serving a queue in time may still use guest memory. */
    @Override
    public boolean guestMemoryInUse() {
        return registers.lifecycle().guestMemoryInUse();
    }

    /** The device status as the driver reads it (DEVICE_NEEDS_RESET included). */
    public int deviceStatus() {
        return registers.lifecycle().status();
    }

    /**
     * The features the driver accepted, once it set FEATURES_OK; 0 before. For management reads from
     * any thread: the status is read first (volatile), and the register thread wrote the driver's
     * feature words before the FEATURES_OK that made it, so they are visible once the status is.
     */
    public long negotiatedFeatures() {
        if ((deviceStatus() & org.jvirtio.api.DeviceStatus.FEATURES_OK) == 0) {
            return 0;
        }
        return registers.lifecycle().features().accepted();
    }

    /** Whether the driver set DRIVER_OK and the device runs. */
    public boolean isRunning() {
        return registers.lifecycle().isActive();
    }

    /**
     * The transport's counters by name, for the shell and JMX: each refused or ignored driver access by
     * reason (see the README), and {@code msi-messages} sent. Read from any thread.
     */
    public Map<String, Long> counters() {
        Map<String, Long> out = new LinkedHashMap<>(registers.faults().snapshot());
        out.put("msi-messages", registers.interrupts().messages());
        return out;
    }

    /**
     * Queue {@code index}'s counters (chains, completions, bytes, kicks, interrupts, suppressed
     * notifications, errors) since this function was built: a device reset does not clear them. Zeros
     * ({@link QueueStatistics#NONE}) for a queue the device does not have. Read from any thread.
     *
     * @since 1.1
     */
    public QueueStatistics queueStatistics(int index) {
        return registers.lifecycle().statistics(index);
    }

    @Override
    public String toString() {
        return "VirtioPciFunction[" + registers.faults().name() + "]";
    }
}
