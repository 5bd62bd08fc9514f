package org.jvirtio.transport.vhostuser;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;

/**
 * A loopback test device: copies each chain's readable bytes into its writable ones. With
 * {@link #hold} set it pops chains and keeps them without completing (requests in flight); with
 * {@link #holdPop} it keeps only the pops (numbered from 0 per device) the predicate picks, so the
 * others complete out of order.
 * Configuration space: 16 bytes, bytes 8-15 writable.
 */
public final class EchoDevice extends AbstractVirtioDevice {
    static final long FEATURES = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED,
            VirtioFeature.RING_EVENT_IDX, VirtioFeature.RING_INDIRECT_DESC);

    public final AtomicInteger activations = new AtomicInteger();
    public final AtomicInteger resets = new AtomicInteger();
    public final AtomicInteger served = new AtomicInteger();
    /** Calls of {@code queueNotified} before the device started or after its reset: a transport's fault. */
    public final AtomicInteger notifiedWhileStopped = new AtomicInteger();
    /**
     * While set, {@code onActivate} waits for the latch before it starts, as a device whose backend is
     * slow to open; it releases {@link #atActivation} on getting there.
     */
    volatile java.util.concurrent.CountDownLatch activationGate;
    final java.util.concurrent.Semaphore atActivation = new java.util.concurrent.Semaphore(0);
    public volatile boolean hold;
    /**
     * While set, the device stops before each completion until the latch opens, as one busy with a
     * request (on the ring's thread, holding its serve lock); it releases {@link #atGate} on getting there.
     */
    volatile java.util.concurrent.CountDownLatch completionGate;
    final java.util.concurrent.Semaphore atGate = new java.util.concurrent.Semaphore(0);
    volatile java.util.function.IntPredicate holdPop = pop -> false;
    private int pops;
    final List<Integer> held = new ArrayList<>();
    /** head, ring slots, bytes written of each held chain, for {@link #completeHeld}. */
    private final List<int[]> heldCompletions = new ArrayList<>();
    private final byte[] config = new byte[16];
    private DeviceActivation activation;
    private DescriptorChain[] chains;

    private final boolean concurrent;

    public EchoDevice(int queues) {
        this(queues, false);
    }

    /** With {@code concurrent} the device says it serves its queues concurrently (one serve lock each). */
    public EchoDevice(int queues, boolean concurrent) {
        super(0x7f, sizes(queues), FEATURES);
        this.concurrent = concurrent;
        for (int i = 0; i < 8; i++) {
            config[i] = (byte) (0xA0 + i);
        }
    }

    private static int[] sizes(int queues) {
        int[] s = new int[queues];
        java.util.Arrays.fill(s, 1024);
        return s;
    }

    @Override
    public boolean servesQueuesConcurrently() {
        return concurrent;
    }

    @Override
    protected synchronized byte[] configSpace() {
        return config.clone();
    }

    @Override
    public synchronized void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        for (int i = 0; i < length; i++) {
            int at = offset + i;
            if (at >= 8 && at < 16) {
                config[at] = src[srcOffset + i];
            }
        }
    }

    @Override
    protected void onActivate(long features, DeviceActivation activation) {
        java.util.concurrent.CountDownLatch gate = activationGate;
        if (gate != null) {
            atActivation.release();
            awaitUninterruptibly(gate);
        }
        this.activation = activation;
        chains = new DescriptorChain[queueCount()];
        for (int i = 0; i < chains.length; i++) {
            chains[i] = activation.queue(i).newChain();
        }
        activations.incrementAndGet();
    }

    @Override
    protected void onReset() {
        synchronized (held) {
            held.clear();
            heldCompletions.clear();
        }
        resets.incrementAndGet();
    }

    /** Queue {@code index} of the running activation. */
    DeviceQueue queue(int index) {
        return activation.queue(index);
    }

    /**
     * Completes the held chains from the calling thread, as a device finishing requests on a thread of
     * its own does (holding each queue's serve lock, as the API asks of such threads).
     */
    public void completeHeld(int index) {
        DeviceQueue queue = activation.queue(index);
        synchronized (queue.serveLock()) {
            synchronized (held) {
                for (int[] c : heldCompletions) {
                    queue.addUsed(c[0], c[1], c[2]);
                    served.incrementAndGet();
                }
                held.clear();
                heldCompletions.clear();
            }
            if (queue.publishUsed()) {
                activation.notifier().notifyUsed(index);
            }
        }
    }

    public int heldCount() {
        synchronized (held) {
            return held.size();
        }
    }

    @Override
    public void queueNotified(int index) {
        if (!isActive()) {
            notifiedWhileStopped.incrementAndGet();
            return;
        }
        DeviceQueue queue = activation.queue(index);
        DescriptorChain chain = chains[index];
        do {
            queue.disableNotifications();
            while (queue.pop(chain)) {
                if (hold || holdPop.test(pops++)) {
                    int written = echo(chain); // done, only the completion waits (see completeHeld)
                    synchronized (held) {
                        held.add(chain.head());
                        heldCompletions.add(new int[] {chain.head(), chain.ringSlots(), written});
                    }
                    continue;
                }
                java.util.concurrent.CountDownLatch gate = completionGate;
                if (gate != null) {
                    atGate.release();
                    awaitUninterruptibly(gate);
                }
                queue.addUsed(chain, echo(chain));
                served.incrementAndGet();
            }
        } while (queue.enableNotifications());
        if (queue.publishUsed()) {
            activation.notifier().notifyUsed(index);
        }
    }

    private static void awaitUninterruptibly(java.util.concurrent.CountDownLatch gate) {
        boolean interrupted = false;
        while (true) {
            try {
                gate.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static int echo(DescriptorChain chain) {
        byte[] data = new byte[(int) chain.readableBytes()];
        int at = 0;
        for (int i = 0; i < chain.readableCount(); i++) {
            chain.memory().read(chain.address(i), data, at, chain.length(i));
            at += chain.length(i);
        }
        int written = 0;
        for (int i = chain.readableCount(); i < chain.count() && written < data.length; i++) {
            int n = Math.min(chain.length(i), data.length - written);
            chain.memory().write(chain.address(i), data, written, n);
            written += n;
        }
        return written;
    }
}
