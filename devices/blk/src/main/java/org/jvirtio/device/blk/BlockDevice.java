package org.jvirtio.device.blk;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.DiskLimits;
import org.jvirtio.device.blk.request.RequestError;
import org.jvirtio.device.blk.request.RequestParser;
import org.jvirtio.device.blk.worker.QueueWorker;
import org.jvirtio.device.blk.worker.RequestExecutor;
import org.jvirtio.device.blk.worker.WriteCache;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A virtio-blk device (virtio 1.2 section 5.2) over a {@link BlockBackend}: configuration space,
 * feature bits, and one {@link QueueWorker} per request queue. Kicks are served on the transport's
 * thread in {@link #queueNotified}; queues share nothing but the backend and the cache mode, so a
 * multi-queue device runs its queues in parallel without a device-wide lock.
 *
 * <p>As a DS component, each factory configuration of {@link #PID} makes one device over the backend
 * service its {@code backend.target} filter selects.
 */
@Component(service = VirtioDevice.class, configurationPolicy = ConfigurationPolicy.REQUIRE, configurationPid = BlockDevice.PID)
@Designate(ocd = BlockDevice.Config.class, factory = true)
public final class BlockDevice extends AbstractVirtioDevice {
    public static final String PID = "org.jvirtio.blk.device";

    @ObjectClassDefinition(name = "jvirtio virtio-blk device", description = "A virtio-blk device over a block backend")
    public @interface Config {
        /** Filter selecting the backend service, e.g. {@code (service.pid=...)}. */
        String backend_target() default "(objectClass=org.jvirtio.device.blk.backend.BlockBackend)";

        int queues() default 1;

        int queueSize() default 256;

        /** The GET_ID string (up to 20 ASCII characters). */
        String serial() default "jvirtio";

        /** Read-only even if the backend is writable. */
        boolean readOnly() default false;

        boolean packed() default true;

        boolean discard() default true;

        boolean writeZeroes() default true;
    }

    private static final QueueWorker[] NO_WORKERS = new QueueWorker[0];

    private final BlockBackend backend;
    private final BlockDeviceOptions options;
    private final long capacitySectors;
    private final boolean readOnly;
    private final byte[] config;
    private final byte[] id;
    private final QueueMetrics[] metrics;
    private final WriteCache cache = new WriteCache(true);
    private volatile QueueWorker[] workers = NO_WORKERS;

    @Activate
    public BlockDevice(@Reference(name = "backend") BlockBackend backend, Config config) {
        this(backend, BlockDeviceOptions.builder().queues(config.queues()).queueSize(config.queueSize())
                .serial(config.serial()).readOnly(config.readOnly()).packed(config.packed())
                .discard(config.discard()).writeZeroes(config.writeZeroes()).build());
    }

    public BlockDevice(BlockBackend backend, BlockDeviceOptions options) {
        super(VirtioDeviceId.BLOCK, queueSizes(options), offered(backend, options));
        this.backend = backend;
        this.options = options;
        this.capacitySectors = backend.size() >>> BlockProtocol.SECTOR_SHIFT;
        this.readOnly = options.readOnly() || backend.isReadOnly();
        this.config = BlockConfigSpace.encode(offeredFeatures(), capacitySectors, backend.blockSize(), options);
        this.id = options.id();
        this.metrics = new QueueMetrics[options.queues()];
        for (int i = 0; i < metrics.length; i++) {
            metrics[i] = new QueueMetrics();
        }
    }

    private static int[] queueSizes(BlockDeviceOptions options) {
        int[] sizes = new int[options.queues()];
        Arrays.fill(sizes, options.queueSize());
        return sizes;
    }

    /** Every feature the device offers for {@code backend} with {@code options}. */
    static long offered(BlockBackend backend, BlockDeviceOptions o) {
        boolean ro = o.readOnly() || backend.isReadOnly();
        long f = VirtioFeature.bit(VirtioFeature.VERSION_1);
        f |= o.indirect() ? VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) : 0;
        f |= o.eventIdx() ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0;
        f |= o.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        f |= o.sizeMax() != 0 ? 1L << BlockFeatures.SIZE_MAX : 0;
        f |= o.segMax() != 0 ? 1L << BlockFeatures.SEG_MAX : 0;
        f |= ro ? 1L << BlockFeatures.RO : 0;
        f |= o.blkSize() ? 1L << BlockFeatures.BLK_SIZE : 0;
        f |= o.flush() ? 1L << BlockFeatures.FLUSH : 0;
        f |= o.topology() ? 1L << BlockFeatures.TOPOLOGY : 0;
        // the writeback switch means nothing without a FLUSH command to make writeback data stable
        f |= o.configWce() && o.flush() ? 1L << BlockFeatures.CONFIG_WCE : 0;
        f |= o.queues() > 1 ? 1L << BlockFeatures.MQ : 0;
        // discard and write-zeroes modify the disk: a read-only device offers neither
        f |= o.discard() && !ro ? 1L << BlockFeatures.DISCARD : 0;
        f |= o.writeZeroes() && !ro ? 1L << BlockFeatures.WRITE_ZEROES : 0;
        return f;
    }

    public BlockBackend backend() {
        return backend;
    }

    /** 512-byte sectors the driver sees. */
    public long capacitySectors() {
        return capacitySectors;
    }

    /** The counters of queue {@code index}; they live as long as the device, across resets. */
    public QueueMetrics metrics(int index) {
        return metrics[index];
    }

    /**
     * Every {@link BlockCounter} and every request error ({@code error.NAME}) summed over the queues,
     * names in lower case: what the shell and JMX show.
     */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (BlockCounter c : BlockCounter.values()) {
            counters.put(c.name().toLowerCase(Locale.ROOT), count(c));
        }
        for (RequestError e : RequestError.values()) {
            long sum = 0;
            for (QueueMetrics m : metrics) {
                sum += m.errors(e);
            }
            counters.put("error." + e.name().toLowerCase(Locale.ROOT), sum);
        }
        return counters;
    }

    /** {@code counter} summed over all queues (a reader's view: the queues keep counting meanwhile). */
    public long count(BlockCounter counter) {
        long sum = 0;
        for (QueueMetrics m : metrics) {
            sum += m.get(counter);
        }
        return sum;
    }

    /** Requests of all queues that failed for any reason. */
    public long totalErrors() {
        long sum = 0;
        for (QueueMetrics m : metrics) {
            sum += m.totalErrors();
        }
        return sum;
    }

    /** Whether writes are flushed before they complete (no FLUSH negotiated, or writeback set to 0). */
    public boolean isWriteThrough() {
        return cache.writeThrough();
    }

    @Override
    protected byte[] configSpace() {
        return config;
    }

    /** Only the writeback byte is writable, and only with CONFIG_WCE; everything else is ignored. */
    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        int at = BlockConfigSpace.WRITEBACK;
        if (!VirtioFeature.has(offeredFeatures(), BlockFeatures.CONFIG_WCE) || offset > at || offset + length <= at
                || length <= 0) {
            return;
        }
        synchronized (config) {
            config[at] = (byte) (src[srcOffset + at - offset] != 0 ? 1 : 0);
            updateCacheMode(negotiatedFeatures());
        }
    }

    /** Writeback only when the driver can flush and has not chosen write-through. */
    private void updateCacheMode(long features) {
        boolean canFlush = VirtioFeature.has(features, BlockFeatures.FLUSH);
        cache.setWriteThrough(!canFlush || config[BlockConfigSpace.WRITEBACK] == 0);
    }

    @Override
    protected void onActivate(long features, DeviceActivation activation) {
        int queues = VirtioFeature.has(features, BlockFeatures.MQ) ? options.queues() : 1;
        if (activation.queue(0) == null) {
            throw new DeviceActivationException("virtio-blk needs request queue 0");
        }
        synchronized (config) {
            if (!VirtioFeature.has(features, BlockFeatures.FLUSH)) {
                // spec 5.2.5: CONFIG_WCE without FLUSH starts in write-through
                config[BlockConfigSpace.WRITEBACK] = 0;
            }
            updateCacheMode(features);
        }
        DiskLimits limits = new DiskLimits(capacitySectors, readOnly,
                VirtioFeature.has(features, BlockFeatures.FLUSH),
                VirtioFeature.has(features, BlockFeatures.DISCARD),
                VirtioFeature.has(features, BlockFeatures.WRITE_ZEROES),
                Integer.toUnsignedLong(options.maxDiscardSectors()), options.maxDiscardSegments(),
                Integer.toUnsignedLong(options.maxWriteZeroesSectors()), options.maxWriteZeroesSegments());
        QueueWorker[] fresh = new QueueWorker[queues];
        for (int i = 0; i < queues; i++) {
            DeviceQueue queue = activation.queue(i);
            if (queue != null) {
                RequestExecutor executor = new RequestExecutor(backend, cache, metrics[i], id, options.bufferSize());
                fresh[i] = new QueueWorker(i, queue, new RequestParser(limits), executor, activation.notifier(),
                        metrics[i]);
            }
        }
        workers = fresh;
    }

    @Override
    public void queueNotified(int index) {
        QueueWorker[] w = workers;
        if (index >= 0 && index < w.length && w[index] != null) {
            w[index].kick();
        }
    }

    /** Queues share only the backend and the write cache mode, both safe for concurrent use. */
    @Override
    public boolean servesQueuesConcurrently() {
        return true;
    }

    @Override
    protected void onReset() {
        QueueWorker[] old = workers;
        workers = NO_WORKERS;
        for (QueueWorker w : old) {
            if (w != null) {
                w.stop();
            }
        }
        synchronized (config) {
            config[BlockConfigSpace.WRITEBACK] = BlockConfigSpace.initialWriteback(offeredFeatures());
            cache.setWriteThrough(true);
        }
    }

    /** The component goes away (configuration deleted, backend gone): stop serving, as on a reset. */
    @Deactivate
    void deactivate() {
        reset();
    }

    @Override
    public String toString() {
        return "BlockDevice[" + capacitySectors + " sectors, " + options.queues() + " queue(s), " + backend + "]";
    }
}
