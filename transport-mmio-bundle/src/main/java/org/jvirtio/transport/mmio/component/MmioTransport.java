package org.jvirtio.transport.mmio.component;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.management.ServedDevice;
import org.jvirtio.transport.mmio.VirtioMmioTransport;
import org.jvirtio.transport.mmio.proxy.VirtioMmioSlot;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One device as a virtio-mmio register window in the BAR of a proxied PCI slot of a QEMU, as a DS
 * component: each factory configuration of {@link #PID} serves the device service
 * {@code device.target} selects at window {@code window} of {@code slot} of the QEMU whose QMP socket
 * is {@code qmp}. The windows naming one slot share it ({@link SharedSlot}); the guest finds them
 * through the ACPI table {@code --mmio-ssdt} wrote ({@code -acpitable}), and its virtio_mmio driver
 * binds each.
 *
 * <p>Failures (window taken, QMP socket missing, slot refused) are logged with this device's id and
 * leave the other devices as they were.
 */
@Component(configurationPid = MmioTransport.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = ServedDevice.class, immediate = true)
@Designate(ocd = MmioTransport.Config.class, factory = true)
public final class MmioTransport implements ServedDevice {
    public static final String PID = "org.jvirtio.mmio.transport";
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio");

    @ObjectClassDefinition(name = "jvirtio virtio-mmio transport",
            description = "One device as a virtio-mmio window in the BAR of a QEMU slot served through x-pci-proxy-dev")
    public @interface Config {
        @AttributeDefinition(description = "QEMU's QMP socket (QEMU started with -S -qmp unix:PATH,server=on,wait=off)")
        String qmp();

        @AttributeDefinition(description = "QEMU's qtest socket, for interrupts without KVM; empty: irqfd (KVM)")
        String qtest() default "";

        @AttributeDefinition(description = "PCI slot on bus 0 whose BAR holds the windows, 1 to 31")
        int slot();

        @AttributeDefinition(description = "This device's window in the slot's BAR, 0 to 63 (the SSDT's order)")
        int window() default 0;

        @AttributeDefinition(description = "Milliseconds to wait for more devices of this QEMU before attaching or resuming")
        long settleMillis() default 500;

        @AttributeDefinition(description = "Seconds one QMP or qtest answer may take")
        int timeoutSeconds() default 60;

        @AttributeDefinition(description = "Filter selecting the device service, e.g. (jvirtio.id=blk0)")
        String device_target() default "(objectClass=org.jvirtio.api.device.VirtioDevice)";
    }

    private final MmioSlots slots;
    private final String id;
    private final String address;
    private final long settleMillis;
    private final Window window;
    private final SharedSlot slot;

    @Activate
    public MmioTransport(@Reference MmioSlots slots, Config config, Map<String, Object> properties) {
        this.slots = slots;
        Object name = properties.get(ServedDevice.ID);
        this.id = name != null ? name.toString() : "mmio" + config.slot() + "." + config.window();
        this.address = config.qmp() + " slot " + config.slot() + " window " + config.window();
        this.settleMillis = Math.max(0, config.settleMillis());
        Window w = null;
        SharedSlot s = null;
        try {
            if (config.slot() < 1 || config.slot() > 31 || config.window() < 0 || config.window() > 63) {
                throw new IllegalArgumentException("slot " + config.slot() + " window " + config.window()
                        + ": expected slot 1 to 31, window 0 to 63");
            }
            w = new Window(id, config.window());
            s = slots.join(w, Path.of(config.qmp()), config.qtest().isEmpty() ? null : Path.of(config.qtest()),
                    config.slot(), settleMillis, Duration.ofSeconds(Math.max(1, config.timeoutSeconds())));
        } catch (IllegalArgumentException e) {
            LOG.log(Level.ERROR, "{0}: not attached: {1}", id, e.getMessage());
            w = null;
        }
        this.window = w;
        this.slot = s;
    }

    @Deactivate
    void deactivate() {
        if (window != null) {
            slots.leave(slot, window);
        }
    }

    @Reference(name = "device", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDevice(VirtioDevice device) {
        if (window != null && window.offer(device)) {
            slots.ready(slot, settleMillis);
        }
    }

    void unbindDevice(VirtioDevice device) {
        if (window != null && window.withdraw(device)) {
            slot.withdrawn(window);
        }
    }

    // ------------------------------------------------------------------ ServedDevice

    @Override
    public String id() {
        return id;
    }

    @Override
    public int deviceType() {
        VirtioDevice d = window == null ? null : window.device();
        return d == null ? 0 : d.deviceId();
    }

    @Override
    public String transport() {
        return "mmio";
    }

    @Override
    public String address() {
        return address;
    }

    /**
     * {@code refused} (bad configuration or window taken), {@code waiting} (the slot is not attached
     * yet), {@code failed} (QEMU refused the slot), {@code not-in-slot} (the window came after the slot
     * was attached), {@code disconnected}, {@code device-absent}, {@code attached} (before the driver),
     * {@code connected} (the driver is setting up), {@code running}, {@code needs-reset}.
     */
    @Override
    public String state() {
        if (window == null) {
            return "refused";
        }
        String s = slot.state(window);
        if (s != null) {
            return s;
        }
        if (window.device() == null) {
            return "device-absent";
        }
        VirtioMmioTransport t = window.transport();
        int status = t == null ? 0 : t.status();
        if ((status & DeviceStatus.DEVICE_NEEDS_RESET) != 0) {
            return "needs-reset";
        }
        if ((status & DeviceStatus.DRIVER_OK) != 0) {
            return "running";
        }
        return status == 0 ? "attached" : "connected";
    }

    @Override
    public long negotiatedFeatures() {
        VirtioMmioTransport t = window == null ? null : window.transport();
        return t == null ? 0 : t.negotiatedFeatures();
    }

    @Override
    public int queueCount() {
        VirtioDevice d = window == null ? null : window.device();
        return d == null ? 0 : d.queueCount();
    }

    /**
     * Queue {@code index}'s counters as the window's register model keeps them, since the slot's
     * function was built (a reset by the driver does not clear them); zeros while the window has no
     * register model or for a queue the device does not have.
     */
    @Override
    public QueueStatistics queueStatistics(int index) {
        VirtioMmioTransport t = window == null ? null : window.transport();
        return t == null ? QueueStatistics.NONE : t.queueStatistics(index);
    }

    /**
     * The device's counters, then the window's register model's ({@code mmio.*}), the slot's BAR
     * function's ({@code bar.*}, shared by the slot's windows) and the proxy channel's ({@code proxy.*}).
     */
    @Override
    public Map<String, Long> deviceCounters() {
        if (window == null) {
            return Map.of();
        }
        Map<String, Long> out = new LinkedHashMap<>();
        VirtioDevice d = window.device();
        if (d != null) {
            out.putAll(d.counters());
        }
        VirtioMmioTransport t = window.transport();
        if (t != null) {
            t.counters().forEach((k, v) -> out.put("mmio." + k, v));
        }
        slot.slotCounters().forEach((k, v) -> out.put("bar." + k, v));
        slot.proxyCounters().forEach((k, v) -> out.put("proxy." + k, v));
        return out;
    }

    /** A virtio-mmio device is reset by its driver; the host cannot end a connection the way vhost-user does. */
    @Override
    public void reset() {
        LOG.log(Level.WARNING, "{0}: a virtio-mmio device is reset by the guest''s driver; nothing done", id);
    }

    /**
     * This transport's window of its slot. Written by DS threads and the slot's group thread, read by
     * management threads: volatile fields, each read once per use.
     */
    static final class Window {
        private final String id;
        private final int index;
        private volatile VirtioDevice device;
        private volatile VirtioMmioSlot servedBy;
        private volatile int servedIndex;

        Window(String id, int index) {
            this.id = id;
            this.index = index;
        }

        String id() {
            return id;
        }

        int index() {
            return index;
        }

        VirtioDevice device() {
            return device;
        }

        /** @return whether this is the window's first device (the slot may now be complete) */
        synchronized boolean offer(VirtioDevice next) {
            if (servedBy != null) {
                if (next != device) {
                    LOG.log(Level.WARNING, "{0}: device {1} arrived after the slot was attached; QEMU keeps the old"
                            + " function in its slot until it restarts", id, next);
                }
                return false;
            }
            boolean first = device == null;
            device = next;
            return first;
        }

        /** @return whether {@code leaving} was this window's device */
        synchronized boolean withdraw(VirtioDevice leaving) {
            if (device != leaving) {
                return false;
            }
            device = null;
            return true;
        }

        /** The slot was built with this window at {@code i} of {@code s}. */
        void servedBy(VirtioMmioSlot s, int i) {
            servedIndex = i;
            servedBy = s; // after the index: a reader that sees the slot sees its index
        }

        /** The window's register model, null before the proxy built the slot's function. */
        VirtioMmioTransport transport() {
            VirtioMmioSlot s = servedBy;
            if (s == null) {
                return null;
            }
            try {
                return s.transport(servedIndex);
            } catch (IllegalStateException e) {
                return null; // the factory was asked, the function not built yet
            }
        }
    }
}
