package org.jvirtio.device.net;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetOffload;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.queue.ControlTarget;
import org.jvirtio.device.net.queue.CtrlQueue;
import org.jvirtio.device.net.queue.RxQueue;
import org.jvirtio.device.net.queue.TxOffloads;
import org.jvirtio.device.net.queue.TxQueue;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A virtio-net device (virtio 1.2 section 5.1) over a {@link NetBackend}. Queue {@code 2k} is the
 * receiveq of pair {@code k}, {@code 2k+1} its transmitq, and the control queue comes last (queue 2
 * when MQ is not negotiated, {@code 2 * max_virtqueue_pairs} when it is).
 *
 * <p>The device attaches to its backend when the driver starts it and detaches on reset. Transmit and
 * control queues are served on the transport's thread in {@link #queueNotified}; receive queues are
 * filled on whichever thread the backend delivers on, each behind its own lock ({@link RxQueue}).
 * Queues share nothing else, so the transport may serve them all at once.
 *
 * <p>Offloads: checksum and segmentation offloads in either direction (GUEST_CSUM, GUEST_TSO4/6,
 * GUEST_ECN, HOST_TSO4/6, HOST_ECN, CTRL_GUEST_OFFLOADS) are offered only where the backend carries them
 * ({@link NetBackend#offloads()}); then headers cross to the backend as the driver wrote them, after
 * {@link TxOffloads} checked them. Received frames pass the driver's filter ({@link RxFilter}) when it
 * negotiated CTRL_RX.
 */
@Component(service = VirtioDevice.class, configurationPolicy = ConfigurationPolicy.REQUIRE, configurationPid = NetDevice.PID)
@Designate(ocd = NetDevice.Config.class, factory = true)
public final class NetDevice extends AbstractVirtioDevice {
    public static final String PID = "org.jvirtio.net.device";

    @ObjectClassDefinition(name = "jvirtio virtio-net device", description = "A virtio-net device over a net backend")
    public @interface Config {
        /** Filter selecting the backend service, e.g. {@code (service.pid=...)}. */
        String backend_target() default "(objectClass=org.jvirtio.device.net.backend.NetBackend)";

        /** Receive/transmit queue pairs; more than one offers MQ. */
        int queues() default 1;

        int queueSize() default 256;

        String mac() default "52:54:00:12:34:56";

        int mtu() default 1500;

        boolean ctrl() default true;

        boolean csum() default true;

        boolean mergeable() default true;

        boolean packed() default true;
    }

    private final NetBackend backend;
    private final NetDeviceOptions options;
    private final QueueMetrics[] metrics;
    private volatile byte[] config;
    /** Guards read-modify-write of {@link #config}; readers just read the volatile field. */
    private final Object configLock = new Object();
    private volatile boolean linkUp = true;
    private volatile Running running;

    /** What one activation runs; replaced as a whole, so a reset never sees half of it. */
    private record Running(NetPort port, ReceivePath receive, RxQueue[] rx, TxQueue[] tx, CtrlQueue ctrl,
            int ctrlIndex, DriverNotifier notifier, boolean announces) {
    }

    /** The GUEST_* feature bits GUEST_OFFLOADS_SET can switch. */
    private static final long GUEST_OFFLOAD_BITS = VirtioFeature.of(NetFeatures.GUEST_CSUM, NetFeatures.GUEST_TSO4,
            NetFeatures.GUEST_TSO6, NetFeatures.GUEST_ECN);

    @Activate
    public NetDevice(@Reference(name = "backend") NetBackend backend, Config config) {
        this(backend, NetDeviceOptions.builder().queuePairs(config.queues()).queueSize(config.queueSize())
                .mac(config.mac()).mtu(config.mtu()).ctrl(config.ctrl()).csum(config.csum())
                .mergeable(config.mergeable()).packed(config.packed()).build());
    }

    public NetDevice(NetBackend backend, NetDeviceOptions options) {
        super(VirtioDeviceId.NET, queueSizes(options), offered(options, backend.offloads()));
        this.backend = backend;
        this.options = options;
        this.config = NetConfigSpace.encode(options.mac(), options, true);
        this.metrics = new QueueMetrics[queueCount()];
        for (int i = 0; i < metrics.length; i++) {
            metrics[i] = new QueueMetrics();
        }
    }

    private static int[] queueSizes(NetDeviceOptions o) {
        int[] sizes = new int[2 * o.queuePairs() + (o.ctrl() ? 1 : 0)];
        Arrays.fill(sizes, o.queueSize());
        return sizes;
    }

    /**
     * Every feature the device offers with {@code o} over a backend that carries {@code offloads}.
     * Receive offloads and segmentation only where the backend carries them; CSUM always (with
     * {@code o.csum()}), because the device completes checksums itself for a backend without offloads.
     */
    static long offered(NetDeviceOptions o, Set<NetOffload> offloads) {
        long f = VirtioFeature.bit(VirtioFeature.VERSION_1);
        f |= o.indirect() ? VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) : 0;
        f |= o.eventIdx() ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0;
        f |= o.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        f |= VirtioFeature.of(NetFeatures.MAC, NetFeatures.STATUS, NetFeatures.MTU);
        f |= o.csum() ? 1L << NetFeatures.CSUM : 0;
        if (o.csum() && offloads.contains(NetOffload.CSUM)) {
            f |= VirtioFeature.of(NetFeatures.GUEST_CSUM);
            f |= o.ctrl() ? 1L << NetFeatures.CTRL_GUEST_OFFLOADS : 0;
            f |= offloads.contains(NetOffload.TSO4) ? VirtioFeature.of(NetFeatures.HOST_TSO4, NetFeatures.GUEST_TSO4) : 0;
            f |= offloads.contains(NetOffload.TSO6) ? VirtioFeature.of(NetFeatures.HOST_TSO6, NetFeatures.GUEST_TSO6) : 0;
            boolean tso = offloads.contains(NetOffload.TSO4) || offloads.contains(NetOffload.TSO6);
            f |= tso && offloads.contains(NetOffload.TSO_ECN) ? VirtioFeature.of(NetFeatures.HOST_ECN, NetFeatures.GUEST_ECN) : 0;
        }
        f |= o.mergeable() ? 1L << NetFeatures.MRG_RXBUF : 0;
        f |= o.ctrl() ? VirtioFeature.of(NetFeatures.CTRL_VQ, NetFeatures.CTRL_RX, NetFeatures.CTRL_MAC_ADDR,
                NetFeatures.GUEST_ANNOUNCE) : 0;
        // every queue uses its chains in the order it took them (receive: held chains in ring order)
        f |= o.inOrder() ? VirtioFeature.bit(VirtioFeature.IN_ORDER) : 0;
        // MQ needs the control queue for VQ_PAIRS_SET (NetDeviceOptions insists on it)
        f |= o.queuePairs() > 1 ? 1L << NetFeatures.MQ : 0;
        return f;
    }

    public NetBackend backend() {
        return backend;
    }

    /** The counters of queue {@code index}; they live as long as the device, across resets. */
    public QueueMetrics metrics(int index) {
        return metrics[index];
    }

    /** Every {@link NetCounter} summed over the queues, names in lower case: what the shell and JMX show. */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (NetCounter c : NetCounter.values()) {
            counters.put(c.name().toLowerCase(Locale.ROOT), count(c));
        }
        return counters;
    }

    /** {@code counter} summed over all queues. */
    public long count(NetCounter counter) {
        long sum = 0;
        for (QueueMetrics m : metrics) {
            sum += m.get(counter);
        }
        return sum;
    }

    /** The address in configuration space now. */
    public byte[] mac() {
        return Arrays.copyOfRange(config, NetConfigSpace.MAC, NetConfigSpace.MAC + 6);
    }

    @Override
    protected byte[] configSpace() {
        return config;
    }

    @Override
    protected void onActivate(long features, DeviceActivation activation) {
        // MQ without CTRL_VQ is what a vhost-user front end negotiates: QEMU keeps the control queue (and
        // VQ_PAIRS_SET) to itself and starts the pairs' rings as the driver asks; every pair is served
        boolean mq = VirtioFeature.has(features, NetFeatures.MQ);
        int pairs = mq ? options.queuePairs() : 1;
        int maxFrame = NetHeader.maxFrame(VirtioFeature.has(features, NetFeatures.MTU) ? options.mtu()
                : Math.max(options.mtu(), 1500));
        ReceiveOffloads receiveOffloads = ReceiveOffloads.fromFeatures(features);
        // the receive queues take segments as long as the driver negotiated them; GUEST_OFFLOADS_SET only
        // switches what the backend produces
        int maxReceived = receiveOffloads.segments() ? Math.max(maxFrame, NetHeader.MAX_GSO_FRAME) : maxFrame;
        DriverNotifier notifier = activation.notifier();
        RxQueue[] rx = new RxQueue[pairs];
        for (int k = 0; k < pairs; k++) {
            rx[k] = new RxQueue(2 * k, require(activation, 2 * k), notifier, metrics[2 * k],
                    VirtioFeature.has(features, NetFeatures.MRG_RXBUF), options.queueSize(), maxReceived);
        }
        CtrlQueue ctrl = null;
        int ctrlIndex = -1;
        if (VirtioFeature.has(features, NetFeatures.CTRL_VQ)) {
            ctrlIndex = 2 * pairs;
            ctrl = new CtrlQueue(ctrlIndex, require(activation, ctrlIndex), notifier, metrics[ctrlIndex],
                    new Control(), VirtioFeature.has(features, NetFeatures.CTRL_RX),
                    VirtioFeature.has(features, NetFeatures.CTRL_MAC_ADDR),
                    VirtioFeature.has(features, NetFeatures.GUEST_ANNOUNCE), mq ? options.queuePairs() : 0,
                    VirtioFeature.has(features, NetFeatures.CTRL_GUEST_OFFLOADS) ? features & GUEST_OFFLOAD_BITS : 0);
        }
        DeviceQueue[] txRings = new DeviceQueue[pairs];
        for (int k = 0; k < pairs; k++) {
            txRings[k] = require(activation, 2 * k + 1);
        }
        // every queue is there: only now attach, so a failed activation leaves no port behind
        RxFilter filter = VirtioFeature.has(features, NetFeatures.CTRL_RX) ? RxFilter.initial(mac()) : RxFilter.ALL;
        ReceivePath receive = new ReceivePath(rx, filter, receiveOffloads);
        NetPort port = backend.attach(receive, mac());
        TxQueue[] tx = new TxQueue[pairs];
        try {
            port.enableReceiveOffloads(receiveOffloads.asSet());
            TxOffloads txOffloads = new TxOffloads(VirtioFeature.has(features, NetFeatures.CSUM),
                    VirtioFeature.has(features, NetFeatures.HOST_TSO4), VirtioFeature.has(features, NetFeatures.HOST_TSO6),
                    VirtioFeature.has(features, NetFeatures.HOST_ECN), backend.offloads().contains(NetOffload.CSUM));
            for (int k = 0; k < pairs; k++) {
                tx[k] = new TxQueue(2 * k + 1, txRings[k], notifier, metrics[2 * k + 1], port.newTransmitter(), maxFrame,
                        txOffloads);
            }
        } catch (RuntimeException e) {
            port.close(); // the activation fails: leave no port (and no TAP reader) behind
            receive.stop();
            throw e;
        }
        running = new Running(port, receive, rx, tx, ctrl, ctrlIndex, notifier,
                VirtioFeature.has(features, NetFeatures.GUEST_ANNOUNCE) && ctrl != null);
    }

    private static DeviceQueue require(DeviceActivation activation, int index) {
        DeviceQueue q = activation.queue(index);
        if (q == null) {
            throw new DeviceActivationException("virtio-net needs queue " + index);
        }
        return q;
    }

    @Override
    public void queueNotified(int index) {
        Running r = running;
        if (r == null || index < 0) {
            return;
        }
        if (index == r.ctrlIndex) {
            r.ctrl.kick();
        } else if (index < 2 * r.rx.length) {
            if ((index & 1) == 0) {
                r.rx[index >> 1].kick();
            } else {
                r.tx[index >> 1].kick();
            }
        }
    }

    /** Queues share nothing mutable: each receive queue has its own lock, the others one thread each. */
    @Override
    public boolean servesQueuesConcurrently() {
        return true;
    }

    @Override
    protected void onReset() {
        Running r = running;
        running = null;
        if (r != null) {
            // detach first so the backend stops delivering, then close the receive queues for good
            r.port.close();
            r.receive.stop();
            for (TxQueue t : r.tx) {
                t.stop();
            }
            if (r.ctrl != null) {
                r.ctrl.stop();
            }
        }
        // the driver's MAC_ADDR_SET and a pending ANNOUNCE last until reset; the link state is the device's
        synchronized (configLock) {
            config = NetConfigSpace.encode(options.mac(), options, linkUp);
        }
    }

    /** The component goes away (configuration deleted, backend gone): stop serving, as on a reset. */
    @Deactivate
    void deactivate() {
        reset();
    }

    /**
     * Sets the link state the driver reads in {@code status} (STATUS) and, if a driver runs the device,
     * tells it the configuration changed. The device reports it; frames still flow as the backend
     * delivers them.
     */
    public void setLinkUp(boolean up) {
        linkUp = up;
        changeConfig(c -> {
            int status = (c[NetConfigSpace.STATUS] & 0xFF) & ~NetConfigSpace.LINK_UP;
            c[NetConfigSpace.STATUS] = (byte) (status | (up ? NetConfigSpace.LINK_UP : 0));
        });
        notifyConfigChanged();
    }

    public boolean isLinkUp() {
        return linkUp;
    }

    /**
     * Asks the driver to announce itself (a gratuitous ARP, as after a migration): sets ANNOUNCE in
     * {@code status} and tells the driver, which acks on the control queue.
     *
     * @return false if the running driver did not negotiate GUEST_ANNOUNCE (or none runs): nothing asked
     */
    public boolean announce() {
        Running r = running;
        if (r == null || !r.announces()) {
            return false;
        }
        changeConfig(c -> c[NetConfigSpace.STATUS] |= NetConfigSpace.ANNOUNCE);
        notifyConfigChanged();
        return true;
    }

    private void notifyConfigChanged() {
        Running r = running;
        if (r != null) {
            r.notifier().notifyConfigChanged();
        }
    }

    /**
     * Changes a copy of the configuration space and publishes it whole: readers see the old or the new
     * array, never half of a change; changes from the control queue and from management do not lose
     * each other's bytes.
     */
    private void changeConfig(Consumer<byte[]> change) {
        synchronized (configLock) {
            byte[] next = config.clone();
            change.accept(next);
            config = next;
        }
    }

    /** Control commands, applied on the control queue's thread. */
    private final class Control implements ControlTarget {
        @Override
        public void announced() {
            changeConfig(c -> c[NetConfigSpace.STATUS] &= ~NetConfigSpace.ANNOUNCE);
        }

        @Override
        public void setMac(byte[] mac) {
            changeConfig(next -> System.arraycopy(mac, 0, next, NetConfigSpace.MAC, 6));
            Running r = running;
            if (r != null) {
                r.receive.setFilter(r.receive.filter().withMac(mac));
            }
        }

        @Override
        public void setQueuePairs(int pairs) {
            Running r = running;
            if (r != null) {
                r.receive.setActivePairs(pairs);
            }
        }

        @Override
        public void setRxMode(boolean promiscuous, boolean allMulticast) {
            Running r = running;
            if (r != null) {
                r.receive.setFilter(r.receive.filter().withModes(promiscuous, allMulticast));
            }
        }

        @Override
        public void setMacTable(long[] unicast, long[] multicast) {
            Running r = running;
            if (r != null) {
                r.receive.setFilter(r.receive.filter().withTables(unicast, multicast));
            }
        }

        @Override
        public void setGuestOffloads(long offloads) {
            Running r = running;
            if (r != null) {
                ReceiveOffloads next = ReceiveOffloads.fromFeatures(offloads);
                // while the backend switches, the path passes the old and the new offloads; then only the
                // new, so a frame still under way with an offload turned off is dropped and counted, never
                // handed to a driver that no longer takes it
                r.receive.setOffloads(r.receive.offloads().or(next));
                r.port.enableReceiveOffloads(next.asSet());
                r.receive.setOffloads(next);
            }
        }
    }

    @Override
    public String toString() {
        return "NetDevice[" + options.queuePairs() + " pair(s), mtu " + options.mtu() + ", " + backend + "]";
    }
}
