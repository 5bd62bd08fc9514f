package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.List;

import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciFunctionFactory;

/**
 * Serves one PCI function over one mpqemu channel, on one thread: reads a message, checks it, does
 * what it asks, answers RET where the sender waits for one.
 *
 * <p>The peer is not trusted. A message that is whole but wrong (payload size, descriptor count,
 * unknown command) is refused: logged, counted, its descriptors closed, and, if it is a command whose
 * sender waits, answered with all-ones so that a confused but honest peer stays in step. Accesses
 * are checked by {@link CheckedAccess}. What breaks
 * the framing ends this connection only; the function is then reset and guest memory unmapped.
 */
public final class ProxyConnection implements Runnable, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.jvirtio.transport.pci.proxy");
    private static final long ALL_ONES = -1L;

    private final String name;
    private final MpqemuChannel channel;
    private final ProxyCounters counters = new ProxyCounters();
    private final MemorySync memory = new MemorySync(counters);
    private final ProxyInterrupts interrupts;
    private final InterruptDelivery fallback;
    private final PciFunction function;
    private final CheckedAccess access;
    private IrqfdDelivery irqfd;
    private volatile boolean ended;

    /**
     * Builds the function (with empty guest memory until the first SYNC_SYSMEM) over {@code socket},
     * which this connection now owns.
     *
     * @param name      for logs and thread names
     * @param delivery  where interrupts go until (and unless) SET_IRQFD gives an irqfd: qtest, or null
     *                  to use the irqfd only
     * @param source    this function's source id at {@code delivery} (see {@link QtestDelivery#register})
     */
    public ProxyConnection(String name, UnixSocket socket, PciFunctionFactory factory, InterruptDelivery delivery,
            int source) {
        this.name = name;
        this.channel = new MpqemuChannel(socket);
        this.fallback = delivery;
        this.interrupts = new ProxyInterrupts(source, delivery != null ? delivery : Undelivered.INSTANCE);
        this.function = factory.create(memory.memory(), interrupts);
        this.access = new CheckedAccess(function, interrupts, counters);
    }

    /** Serves until the peer closes the channel, the channel breaks, or {@link #close()}. */
    @Override
    public void run() {
        try {
            while (channel.next()) {
                counters.messages.incrementAndGet();
                try {
                    dispatch();
                } catch (RuntimeException e) {
                    functionFailed(e);
                } finally {
                    channel.closeFds();
                }
            }
            LOG.log(Level.INFO, name + ": peer closed the channel; " + counters);
        } catch (ChannelBroken e) {
            counters.broken.incrementAndGet();
            LOG.log(Level.WARNING, name + ": channel broken, connection closed: " + e.getMessage());
        } catch (SocketException e) {
            if (!ended) {
                LOG.log(Level.WARNING, name + ": channel failed: " + e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            counters.broken.incrementAndGet();
            LOG.log(Level.WARNING, name + ": connection closed after an error", e);
        } finally {
            ended = true;
            shutDown();
        }
    }

    private void dispatch() throws IOException {
        int code = channel.command();
        Command command = Command.of(code);
        List<NativeFd> fds = channel.fds();
        if (command == null) {
            refuse("unknown command " + code + " with " + channel.size() + " payload bytes and " + fds.size()
                    + " file descriptors");
            return;
        }
        String wrong = command.check(channel.size(), fds.size());
        if (wrong != null) {
            refuse(wrong);
            if (command.replies()) {
                channel.reply(ALL_ONES);
            }
            return;
        }
        ByteBuffer p = channel.payload();
        switch (command) {
            case SYNC_SYSMEM -> syncMemory(p, fds);
            case PCI_CFGREAD -> channel.reply(access.readConfig(p.getInt(ConfigLayout.ADDRESS),
                    p.getInt(ConfigLayout.LENGTH)));
            case PCI_CFGWRITE -> {
                access.writeConfig(p.getInt(ConfigLayout.ADDRESS), p.getInt(ConfigLayout.LENGTH),
                        p.getInt(ConfigLayout.VALUE));
                channel.reply(0);
            }
            case BAR_READ -> {
                long value = access.readBar(p.getLong(BarLayout.ADDRESS), p.getInt(BarLayout.ACCESS_SIZE),
                        p.get(BarLayout.MEMORY) != 0);
                interrupts.settleLowering();
                channel.reply(value);
            }
            case BAR_WRITE -> {
                access.writeBar(p.getLong(BarLayout.ADDRESS), p.getInt(BarLayout.ACCESS_SIZE),
                        p.get(BarLayout.MEMORY) != 0, p.getLong(BarLayout.VALUE));
                interrupts.settleLowering();
                channel.reply(0);
            }
            case SET_IRQFD -> setIrqfd(fds);
            case DEVICE_RESET -> {
                reset();
                channel.reply(0);
            }
            default -> throw new IllegalStateException("checked above: " + command);
        }
    }

    /**
     * The function threw (it should not: bad accesses are its to answer). QEMU still waits for an
     * answer: all-ones, as for an access nobody claims, and the channel goes on.
     */
    private void functionFailed(RuntimeException e) throws IOException {
        if (counters.functionErrors.getAndIncrement() == 0) {
            LOG.log(Level.ERROR, name + ": the function threw while serving command " + channel.command(), e);
        }
        Command command = Command.of(channel.command());
        if (command != null && command.replies()) {
            channel.reply(ALL_ONES);
        }
    }

    private void refuse(String reason) {
        counters.refused.incrementAndGet();
        LOG.log(Level.WARNING, name + ": message refused: " + reason);
    }

    private void syncMemory(ByteBuffer payload, List<NativeFd> fds) {
        counters.memorySyncs.incrementAndGet();
        String refused = memory.apply(payload, fds);
        if (refused != null) {
            counters.memorySyncsRefused.incrementAndGet();
            refuse("SYNC_SYSMEM: " + refused);
        }
    }

    private void setIrqfd(List<NativeFd> fds) {
        EventFd irq = EventFd.adopt(fds.get(0));
        fds.set(0, null);
        EventFd resample = EventFd.adopt(fds.get(1));
        fds.set(1, null);
        try {
            IrqfdDelivery next = new IrqfdDelivery(irq, resample, fallback, name);
            counters.irqfds.incrementAndGet();
            if (fallback == null) {
                // Without qtest, the irqfd is the INTx route (KVM); with qtest (TCG), the irqfd goes
                // nowhere, but it is kept so that it is closed with the connection.
                interrupts.deliverThrough(next);
            }
            IrqfdDelivery old = irqfd;
            irqfd = next;
            if (old != null) {
                old.close();
            }
        } catch (NativeException | RuntimeException e) {
            irq.close();
            resample.close();
            refuse("SET_IRQFD: " + e.getMessage());
        }
    }

    private void reset() {
        counters.resets.incrementAndGet();
        function.reset();
        access.configChanged();
        if (!function.guestMemoryInUse()) {
            memory.releaseRetired(); // else kept until a later reset finds the device let go
        }
    }

    private void shutDown() {
        try {
            function.reset();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, name + ": function reset at close failed", e);
        }
        interrupts.setIntx(false);
        interrupts.deliverThrough(Undelivered.INSTANCE);
        if (irqfd != null) {
            irqfd.close();
            irqfd = null;
        }
        if (function.guestMemoryInUse()) {
            // a device stuck in serving a queue would fault on its next access: the mappings are left
            LOG.log(Level.ERROR, "{0}: guest memory left mapped: a device of the function has not returned"
                    + " from serving a queue", name);
        } else {
            memory.close();
        }
        channel.close();
    }

    /** The function served. */
    public PciFunction function() {
        return function;
    }

    public ProxyCounters counters() {
        return counters;
    }

    /** Whether the connection has ended (peer closed, broken, or closed here). */
    public boolean ended() {
        return ended;
    }

    /** The INTx line the guest sees held high now, or -1. */
    public int drivenIntxLine() {
        return interrupts.drivenLine();
    }

    /** Files of guest memory mapped now (in the map, and retired). */
    public int mappedFiles() {
        return memory.liveFiles() + memory.retiredFiles();
    }

    /** The guest memory the function was given. */
    public org.jvirtio.api.memory.GuestMemory guestMemory() {
        return memory.memory();
    }

    /** Ends the connection: the serving thread wakes, resets the function and releases everything. */
    @Override
    public void close() {
        ended = true;
        channel.close();
    }

    /** Drops interrupts where there is no route (before SET_IRQFD without qtest, after close). */
    enum Undelivered implements InterruptDelivery {
        INSTANCE;

        @Override
        public long intx(int source, int line, boolean level) {
            return 0;
        }

        @Override
        public void msi(long address, int data) {
        }
    }
}
