package org.jvirtio.device.balloon;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.balloon.control.BalloonControl;
import org.jvirtio.device.balloon.control.BalloonStatistics;
import org.jvirtio.device.balloon.queue.FreePageHintQueue;
import org.jvirtio.device.balloon.queue.PfnQueue;
import org.jvirtio.device.balloon.queue.ReportingQueue;
import org.jvirtio.device.balloon.queue.StatsQueue;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A virtio-balloon device (virtio 1.2 section 5.5). The host sets a target ({@link #setTargetPages});
 * the driver inflates the balloon towards it by sending page frame numbers on inflateq, whose host
 * memory the device releases ({@link GuestMemory#discard}: MADV_REMOVE on memfd guest memory), and
 * deflates it on deflateq. With STATS_VQ the guest's memory statistics arrive every
 * {@code statsPeriod}; with PAGE_REPORTING the guest reports free pages, which are released too; with
 * FREE_PAGE_HINT the host can ask for free page hints (counted only, see {@link FreePageHintQueue}).
 * Which queue index each queue has depends on the negotiated features ({@link QueueLayout}).
 *
 * <p>Threads: every queue is served on the transport's thread in {@link #queueNotified}; queues share
 * only the configuration space (behind its lock) and the memory, so they may run in parallel. The
 * statistics timer runs on a thread of the device's own, created at activation when there is a
 * statistics queue. {@link BalloonControl} methods may be called from any thread.
 *
 * <p>As a DS component, each factory configuration of {@link #PID} makes one device; a change of
 * {@code targetPages} or {@code statsPeriodSeconds} applies at once, to a running guest too.
 */
@Component(service = { VirtioDevice.class, BalloonControl.class }, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = BalloonDevice.PID)
@Designate(ocd = BalloonDevice.Config.class, factory = true)
public final class BalloonDevice extends AbstractVirtioDevice implements BalloonControl {
    public static final String PID = "org.jvirtio.balloon.device";
    private static final Logger LOG = System.getLogger("org.jvirtio.device.balloon");

    @ObjectClassDefinition(name = "jvirtio virtio-balloon device", description = "A virtio-balloon device")
    public @interface Config {
        /** The target in 4 KiB pages (num_pages); changes apply to the running guest. */
        long targetPages() default 0;

        /** Seconds between statistics samples; 0: only on request. Changes apply from the next sample. */
        int statsPeriodSeconds() default 10;

        /** Entries per queue, a power of two from 32 to 32768. */
        int queueSize() default 128;

        boolean statsVq() default true;

        boolean deflateOnOom() default true;

        boolean freePageHint() default true;

        boolean pageReporting() default true;

        boolean pagePoison() default true;

        boolean packed() default true;
    }

    /** Queue roles, the index of each one's counters. */
    private static final int INFLATE = 0;
    private static final int DEFLATE = 1;
    private static final int STATS = 2;
    private static final int FREE_PAGE = 3;
    private static final int REPORTING = 4;
    private static final int CONTROL = 5;
    private static final QueueServer[] NO_SERVERS = new QueueServer[0];

    private final BalloonOptions options;
    private final BalloonConfigSpace config;
    private final BalloonMetrics[] metrics = {
        new BalloonMetrics("virtio-balloon inflateq"), new BalloonMetrics("virtio-balloon deflateq"),
        new BalloonMetrics("virtio-balloon statsq"), new BalloonMetrics("virtio-balloon free_page_vq"),
        new BalloonMetrics("virtio-balloon reporting_vq"), new BalloonMetrics("virtio-balloon host")
    };
    private volatile long statsPeriodMillis;
    private volatile QueueServer[] servers = NO_SERVERS;
    private volatile StatsQueue stats;
    private volatile int statsIndex = QueueLayout.ABSENT;
    private volatile ScheduledExecutorService timer;
    /** The running driver's memory and interrupts; null while the device is not active. Guarded by config. */
    private GuestMemory memory;
    private DriverNotifier notifier;
    private long configuredTarget;

    @Activate
    public BalloonDevice(Config config) {
        this(options(config));
        this.configuredTarget = config.targetPages();
    }

    public BalloonDevice(BalloonOptions options) {
        super(VirtioDeviceId.BALLOON, queueSizes(options), offered(options));
        this.options = options;
        this.config = new BalloonConfigSpace(options.targetPages());
        this.statsPeriodMillis = options.statsPeriodMillis();
    }

    static BalloonOptions options(Config c) {
        return new BalloonOptions(c.queueSize(), c.statsVq(), c.deflateOnOom(), c.freePageHint(), c.pageReporting(),
                c.pagePoison(), c.packed(), TimeUnit.SECONDS.toMillis(c.statsPeriodSeconds()), c.targetPages());
    }

    private static int[] queueSizes(BalloonOptions o) {
        int[] sizes = new int[QueueLayout.of(offered(o)).count()];
        Arrays.fill(sizes, o.queueSize());
        return sizes;
    }

    /** Every feature the device offers with {@code o}. */
    static long offered(BalloonOptions o) {
        long f = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX,
                VirtioFeature.RING_INDIRECT_DESC);
        f |= o.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        f |= o.statsVq() ? 1L << BalloonFeatures.STATS_VQ : 0;
        f |= o.deflateOnOom() ? 1L << BalloonFeatures.DEFLATE_ON_OOM : 0;
        f |= o.freePageHint() ? 1L << BalloonFeatures.FREE_PAGE_HINT : 0;
        f |= o.pagePoison() ? 1L << BalloonFeatures.PAGE_POISON : 0;
        f |= o.pageReporting() ? 1L << BalloonFeatures.PAGE_REPORTING : 0;
        return f;
    }

    /** The component's configuration changed: the target and the statistics period apply live. */
    @Modified
    void modified(Config c) {
        statsPeriodMillis = TimeUnit.SECONDS.toMillis(Math.max(0, c.statsPeriodSeconds()));
        if (c.targetPages() != configuredTarget) {
            configuredTarget = c.targetPages();
            setTargetPages(c.targetPages());
        }
        BalloonOptions wanted = options(c).withTargetPages(options.targetPages())
                .withStatsPeriodMillis(options.statsPeriodMillis());
        if (!wanted.equals(options)) {
            LOG.log(Level.WARNING, "virtio-balloon: queue size and features apply only to a new device; "
                    + "delete and recreate the configuration to change them");
        }
    }

    // ---- BalloonControl ----

    @Override
    public long setTargetPages(long pages) {
        if (pages < 0 || pages > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("target must fit 32 bits: " + pages);
        }
        DriverNotifier interrupt;
        long target;
        synchronized (config) {
            target = fitToMemory(pages);
            config.setNumPages(target);
            metrics[CONTROL].increment(BalloonCounter.TARGET_CHANGES);
            interrupt = notifier;
            if (interrupt != null) {
                metrics[CONTROL].increment(BalloonCounter.CONFIG_INTERRUPTS);
            }
        }
        if (interrupt != null) {
            interrupt.notifyConfigChanged();
        }
        return target;
    }

    /** {@code pages}, or the guest's memory in pages if that is less (counted, logged); holds config. */
    private long fitToMemory(long pages) {
        GuestMemory m = memory;
        long memoryPages = m == null ? Long.MAX_VALUE : m.size() / GuestMemory.DISCARD_PAGE;
        if (pages > memoryPages) {
            metrics[CONTROL].error(BalloonError.TARGET_ABOVE_MEMORY, pages);
            return memoryPages;
        }
        return pages;
    }

    @Override
    public long targetPages() {
        return config.numPages();
    }

    @Override
    public long actualPages() {
        return config.actual();
    }

    @Override
    public BalloonStatistics statistics() {
        StatsQueue s = stats;
        return s == null ? BalloonStatistics.NONE : s.latest();
    }

    @Override
    public boolean requestStatistics() {
        StatsQueue s = stats;
        return s != null && s.requestNext();
    }

    @Override
    public long requestFreePageHints() {
        DriverNotifier interrupt;
        long id;
        synchronized (config) {
            interrupt = notifier;
            if (interrupt == null || !VirtioFeature.has(negotiatedFeatures(), BalloonFeatures.FREE_PAGE_HINT)) {
                return 0;
            }
            id = config.requestHints();
            metrics[CONTROL].increment(BalloonCounter.CONFIG_INTERRUPTS);
        }
        interrupt.notifyConfigChanged();
        return id;
    }

    /** {@code counter} summed over all queues. */
    public long count(BalloonCounter counter) {
        long sum = 0;
        for (BalloonMetrics m : metrics) {
            sum += m.get(counter);
        }
        return sum;
    }

    /** How often {@code error} happened, all queues together. */
    public long errors(BalloonError error) {
        long sum = 0;
        for (BalloonMetrics m : metrics) {
            sum += m.errors(error);
        }
        return sum;
    }

    /**
     * Every {@link BalloonCounter}, every error ({@code error.NAME}), the target and actual size in pages,
     * and the guest's latest statistics ({@code stat.NAME}, only those it reported): what the shell
     * and JMX show.
     */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (BalloonCounter c : BalloonCounter.values()) {
            counters.put(c.name().toLowerCase(Locale.ROOT), count(c));
        }
        for (BalloonError e : BalloonError.values()) {
            counters.put("error." + e.name().toLowerCase(Locale.ROOT), errors(e));
        }
        counters.put("target_pages", targetPages());
        counters.put("actual_pages", actualPages());
        BalloonStatistics s = statistics();
        counters.put("stats.samples", s.sequence());
        s.asMap().forEach((tag, value) -> counters.put("stat." + tag, value));
        return counters;
    }

    // ---- VirtioDevice ----

    @Override
    protected byte[] configSpace() {
        return config.encode();
    }

    /** actual is writable, and poison_val with PAGE_POISON; the rest is ignored. */
    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        if (offset < 0 || length <= 0) {
            return;
        }
        // Linux writes poison_val while it probes, before DRIVER_OK: the offer is what counts then
        boolean poison = VirtioFeature.has(isActive() ? negotiatedFeatures() : offeredFeatures(),
                BalloonFeatures.PAGE_POISON);
        synchronized (config) {
            config.driverWrite(offset, src, srcOffset, length, poison);
            GuestMemory m = memory;
            if (m != null && config.actual() > m.size() / GuestMemory.DISCARD_PAGE) {
                metrics[CONTROL].error(BalloonError.ACTUAL_ABOVE_MEMORY, config.actual());
            }
        }
    }

    @Override
    protected void onActivate(long features, DeviceActivation activation) {
        QueueLayout layout = QueueLayout.of(features);
        DeviceQueue inflate = activation.queue(layout.inflate());
        DeviceQueue deflate = activation.queue(layout.deflate());
        if (inflate == null || deflate == null) {
            throw new DeviceActivationException("virtio-balloon needs inflateq and deflateq");
        }
        DriverNotifier interrupts = activation.notifier();
        QueueServer[] fresh = new QueueServer[layout.count()];
        fresh[layout.inflate()] = new PfnQueue(layout.inflate(), inflate, interrupts, metrics[INFLATE], true);
        fresh[layout.deflate()] = new PfnQueue(layout.deflate(), deflate, interrupts, metrics[DEFLATE], false);
        DeviceQueue q = queue(activation, layout.freePage());
        if (q != null) {
            fresh[layout.freePage()] = new FreePageHintQueue(layout.freePage(), q, interrupts, metrics[FREE_PAGE], config);
        }
        q = queue(activation, layout.reporting());
        if (q != null) {
            fresh[layout.reporting()] = new ReportingQueue(layout.reporting(), q, interrupts, metrics[REPORTING], config);
        }
        q = queue(activation, layout.stats());
        if (q != null) {
            stats = new StatsQueue(layout.stats(), q, interrupts, metrics[STATS]);
            statsIndex = layout.stats();
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "jvirtio-balloon-stats");
                t.setDaemon(true);
                return t;
            });
        }
        servers = fresh;
        synchronized (config) {
            memory = activation.memory();
            notifier = interrupts;
            long target = config.numPages();
            long fitted = fitToMemory(target);
            if (fitted != target) {
                config.setNumPages(fitted);
            }
        }
        // Linux primes statsq with its first sample and kicks while it probes, before DRIVER_OK: a
        // transport may have dropped that kick, so look at the queue once now
        StatsQueue s = stats;
        if (s != null && s.kick()) {
            scheduleStatsRequest();
        }
    }

    private static DeviceQueue queue(DeviceActivation activation, int index) {
        return index == QueueLayout.ABSENT ? null : activation.queue(index);
    }

    @Override
    public void queueNotified(int index) {
        if (index == statsIndex) {
            StatsQueue s = stats;
            if (s != null && s.kick()) {
                scheduleStatsRequest();
            }
            return;
        }
        QueueServer[] s = servers;
        if (index >= 0 && index < s.length && s[index] != null) {
            s[index].kick();
        }
    }

    /** A sample arrived: ask for the next one after the period (if there is one). */
    private void scheduleStatsRequest() {
        long period = statsPeriodMillis;
        ScheduledExecutorService t = timer;
        if (period <= 0 || t == null) {
            return;
        }
        try {
            t.schedule(this::requestStatistics, period, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException resetMeanwhile) {
            // the device was reset while the sample came in: nothing more to ask for
        }
    }

    /** Queues share only the configuration space (behind its lock) and the memory. */
    @Override
    public boolean servesQueuesConcurrently() {
        return true;
    }

    @Override
    protected void onReset() {
        QueueServer[] old = servers;
        servers = NO_SERVERS;
        for (QueueServer s : old) {
            if (s != null) {
                s.stop();
            }
        }
        StatsQueue s = stats;
        stats = null;
        statsIndex = QueueLayout.ABSENT;
        if (s != null) {
            s.stop();
        }
        ScheduledExecutorService t = timer;
        timer = null;
        if (t != null) {
            t.shutdownNow();
        }
        synchronized (config) {
            memory = null;
            notifier = null;
            config.reset();
        }
    }

    /** The component goes away (configuration deleted): stop serving, as on a reset. */
    @Deactivate
    void deactivate() {
        reset();
    }

    @Override
    public String toString() {
        return "BalloonDevice[target " + targetPages() + " pages, actual " + actualPages() + "]";
    }
}
