package org.jvirtio.transport.pci.component;

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
import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.PciFunctionFactory;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.QemuSlots;
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
 * One jvirtio PCI function in a QEMU, as a DS component: each factory configuration of {@link #PID}
 * serves the device service {@code device.target} selects as a {@link VirtioPciFunction} at
 * {@code slot} of the QEMU whose QMP socket is {@code qmp}, through its multi-process proxy.
 *
 * <p>All configurations naming one QMP socket share one connection and resume the guest together
 * ({@link QemuGroup}): the QEMU is started paused ({@code -S}) and runs once each of them is attached.
 *
 * <p>The function is attached when the device arrives, not before (QEMU probes it during device_add).
 * A PCI function cannot be handed to another device under a running driver: when the device service
 * goes, the function's channel is closed (the guest sees an absent device: all-ones) and a device
 * that comes back is not attached again until the configuration is recreated against a restarted
 * QEMU, because QEMU keeps the old proxy device in the slot.
 *
 * <p>When the configuration goes, QEMU is asked to unplug the device ({@code device_del}; the guest
 * ejects it) and the function's channel is closed.
 *
 * <p>Failures (QMP socket missing, slot taken, QEMU gone) are logged with this device's id; they
 * leave the other devices, in this QEMU or another, as they were.
 */
@Component(configurationPid = PciTransport.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = ServedDevice.class, immediate = true)
@Designate(ocd = PciTransport.Config.class, factory = true)
public final class PciTransport implements ServedDevice {
    public static final String PID = "org.jvirtio.pci.transport";
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.pci");

    @ObjectClassDefinition(name = "jvirtio virtio-pci transport",
            description = "One device as a virtio-pci function of a QEMU, through x-pci-proxy-dev")
    public @interface Config {
        @AttributeDefinition(description = "QEMU's QMP socket (QEMU started with -S -qmp unix:PATH,server=on,wait=off)")
        String qmp();

        @AttributeDefinition(description = "QEMU's qtest socket, for interrupts without KVM; empty: irqfd (KVM)")
        String qtest() default "";

        @AttributeDefinition(description = "PCI slot on bus 0, 1 to 31")
        int slot();

        @AttributeDefinition(description = "Milliseconds to wait for more devices of this QEMU before resuming it")
        long settleMillis() default 500;

        @AttributeDefinition(description = "Seconds one QMP or qtest answer may take")
        int timeoutSeconds() default 60;

        @AttributeDefinition(description = "Filter selecting the device service, e.g. (jvirtio.id=con0)")
        String device_target() default "(objectClass=org.jvirtio.api.device.VirtioDevice)";
    }

    private final QemuAttachments attachments;
    private final String id;
    private final Member member;
    private final QemuGroup group;
    private final String address;

    @Activate
    public PciTransport(@Reference QemuAttachments attachments, Config config, Map<String, Object> properties) {
        this.attachments = attachments;
        Object name = properties.get(ServedDevice.ID);
        this.id = name != null ? name.toString() : "pci" + config.slot();
        Path qtest = config.qtest().isEmpty() ? null : Path.of(config.qtest());
        this.address = config.qmp() + " slot " + config.slot();
        Member m = null;
        QemuGroup g = null;
        try {
            m = new Member(id, config.slot());
            g = attachments.joinGroup(m, Path.of(config.qmp()), qtest, Math.max(0, config.settleMillis()),
                    Duration.ofSeconds(Math.max(1, config.timeoutSeconds())));
        } catch (IllegalArgumentException e) {
            LOG.log(Level.ERROR, "{0}: not attached: {1}", id, e.getMessage());
            m = null;
        }
        this.member = m;
        this.group = g;
    }

    @Deactivate
    void deactivate() {
        if (member != null) {
            attachments.leave(group, member); // asks QEMU to unplug it while the function still answers
            member.close();
        }
    }

    @Reference(name = "device", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDevice(VirtioDevice device) {
        if (member != null && member.offer(device)) {
            group.attach(member);
        }
    }

    void unbindDevice(VirtioDevice device) {
        if (member != null) {
            member.withdraw(device);
        }
    }

    // ------------------------------------------------------------------ ServedDevice

    @Override
    public String id() {
        return id;
    }

    @Override
    public int deviceType() {
        VirtioDevice d = member == null ? null : member.device;
        return d == null ? 0 : d.deviceId();
    }

    @Override
    public String transport() {
        return "pci";
    }

    @Override
    public String address() {
        return address;
    }

    /**
     * {@code refused} (bad configuration), {@code waiting} (no device yet, or QEMU not reached),
     * {@code failed} (QEMU refused the slot), {@code attached} (before the driver), {@code connected}
     * (the driver is setting up), {@code running}, {@code needs-reset}, {@code device-absent},
     * {@code disconnected} (QEMU closed the channel).
     */
    @Override
    public String state() {
        if (member == null) {
            return "refused";
        }
        return member.state();
    }

    @Override
    public long negotiatedFeatures() {
        VirtioPciFunction f = member == null ? null : member.function;
        return f == null ? 0 : f.negotiatedFeatures();
    }

    @Override
    public int queueCount() {
        VirtioDevice d = member == null ? null : member.device;
        return d == null ? 0 : d.queueCount();
    }

    /**
     * Queue {@code index}'s counters as the function's register model keeps them, since the function
     * was built (a reset by the driver does not clear them); zeros while no function is built or for a
     * queue the device does not have.
     */
    @Override
    public QueueStatistics queueStatistics(int index) {
        VirtioPciFunction f = member == null ? null : member.function;
        return f == null ? QueueStatistics.NONE : f.queueStatistics(index);
    }

    /** The device's counters, then the register model's ({@code pci.*}) and the proxy channel's ({@code proxy.*}). */
    @Override
    public Map<String, Long> deviceCounters() {
        if (member == null) {
            return Map.of();
        }
        Map<String, Long> out = new LinkedHashMap<>();
        VirtioDevice d = member.device;
        if (d != null) {
            out.putAll(d.counters());
        }
        VirtioPciFunction f = member.function;
        if (f != null) {
            f.counters().forEach((k, v) -> out.put("pci." + k, v));
        }
        ProxiedFunction p = member.proxied;
        if (p != null) {
            p.counters().forEach((k, v) -> out.put("proxy." + k, v));
        }
        return out;
    }

    /** A PCI function is reset by its driver; the host cannot end a connection the way vhost-user does. */
    @Override
    public void reset() {
        LOG.log(Level.WARNING, "{0}: a virtio-pci device is reset by the guest''s driver; nothing done", id);
    }

    /**
     * This transport's part of its {@link QemuGroup}. Its fields are written by the DS thread and the
     * group's thread and read by management threads: volatile, each read once per use, and no lock,
     * so the group may ask {@link #settled()} under its own lock while the DS thread leaves it.
     */
    static final class Member implements QemuSlots.Slot {
        private final String id;
        private final int slot;
        private volatile VirtioDevice device;
        private volatile VirtioPciFunction function;
        private volatile ProxiedFunction proxied;
        /** Attach was tried and refused (QEMU refused the slot, or the device could not be built). */
        private volatile String failure;
        /** Set once the function was attached or refused: this configuration does not hold the guest back. */
        private volatile boolean settled;
        private volatile boolean closed;

        Member(String id, int slot) {
            this.id = id;
            this.slot = slot;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public int slot() {
            return slot;
        }

        @Override
        public boolean settled() {
            return settled;
        }

        /** Attached (and not refused): what the guest resumes with. */
        @Override
        public boolean attachedOk() {
            return settled && failure == null;
        }

        /** @return whether the device should be attached now (the first device since this member joined) */
        synchronized boolean offer(VirtioDevice next) {
            if (settled || closed) {
                if (next != device) {
                    LOG.log(Level.WARNING, "{0}: device {1} arrived after the function was attached; QEMU keeps the"
                            + " old function in its slot until it restarts", id, next);
                }
                return false;
            }
            boolean first = device == null;
            device = next;
            return first;
        }

        synchronized void withdraw(VirtioDevice leaving) {
            if (device != leaving) {
                return;
            }
            ProxiedFunction p = proxied;
            if (p != null) {
                LOG.log(Level.INFO, "{0}: device left; its PCI function is closed", id);
                p.close();
            }
            device = null;
        }

        @Override
        public boolean wantsAttach() {
            return !closed && !settled && device != null;
        }

        @Override
        public PciFunctionFactory factory() {
            VirtioDevice d = device;
            return (memory, interrupts) -> {
                VirtioPciFunction f = new VirtioPciFunction(d, memory, interrupts, id);
                function = f;
                return f;
            };
        }

        @Override
        public void attached(ProxiedFunction function) {
            proxied = function;
            settled = true;
            if (closed) {
                function.close(); // the configuration went while device_add ran
            }
        }

        @Override
        public void failed(String why) {
            failure = why;
            settled = true;
        }

        void close() {
            closed = true;
            ProxiedFunction p = proxied;
            if (p != null) {
                p.close();
            }
        }

        String state() {
            if (failure != null) {
                return "failed";
            }
            ProxiedFunction p = proxied;
            if (p == null) {
                return "waiting";
            }
            if (!p.isConnected()) {
                return device == null ? "device-absent" : "disconnected";
            }
            VirtioPciFunction f = function;
            int status = f == null ? 0 : f.deviceStatus();
            if ((status & DeviceStatus.DEVICE_NEEDS_RESET) != 0) {
                return "needs-reset";
            }
            if (f != null && f.isRunning()) {
                return "running";
            }
            return status == 0 ? "attached" : "connected";
        }
    }
}
