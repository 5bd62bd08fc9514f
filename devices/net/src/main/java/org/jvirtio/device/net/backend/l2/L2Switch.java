package org.jvirtio.device.net.backend.l2;

import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;

/**
 * An in-JVM learning Ethernet switch: every attached device is a port. A frame teaches the switch that
 * its source address is behind the sending port; a unicast frame to a learned, live address goes to
 * that port only, anything else (unknown unicast, broadcast, multicast) floods to every other port.
 * Learned addresses age out after the ageing time without traffic from them.
 *
 * <p>Frames are switched on the sending port's transmit thread, straight into the destination
 * devices' receive queues: no queue, no thread, no copy but the one into the receiver's buffers. The
 * port list is copy-on-write, so a frame reads it without a lock; attach and detach are rare.
 *
 * <p>Offloads: none ({@link NetBackend#offloads()} is empty). A flooded frame reaches ports whose
 * drivers negotiated different offloads, from one buffer that none of them may change, so frames cross
 * the switch finished: the sending device completes partial checksums, and no device on a switch
 * offers GUEST_CSUM or TSO.
 */
public final class L2Switch implements NetBackend {
    private static final SwitchPort[] NO_PORTS = new SwitchPort[0];

    private final String name;
    private final LongSupplier nanoClock;
    private final MacTable table;
    private volatile SwitchPort[] ports = NO_PORTS;
    private int attached;

    /**
     * @param nanoClock   the time for ageing, in nanoseconds (System::nanoTime, or a test's clock)
     * @param ageingNanos how long a learned address lives without traffic from it
     * @param tableSize   addresses the switch can learn: a power of two
     */
    public L2Switch(String name, LongSupplier nanoClock, long ageingNanos, int tableSize) {
        this.name = name;
        this.nanoClock = nanoClock;
        this.table = new MacTable(tableSize, ageingNanos);
    }

    public String name() {
        return name;
    }

    @Override
    public synchronized SwitchPort attach(FrameSink sink, byte[] mac) {
        SwitchPort port = new SwitchPort(this, sink, name + "/" + attached++);
        SwitchPort[] now = Arrays.copyOf(ports, ports.length + 1);
        now[now.length - 1] = port;
        ports = now;
        return port;
    }

    synchronized void detach(SwitchPort port) {
        SwitchPort[] now = ports;
        for (int i = 0; i < now.length; i++) {
            if (now[i] == port) {
                SwitchPort[] less = new SwitchPort[now.length - 1];
                System.arraycopy(now, 0, less, 0, i);
                System.arraycopy(now, i + 1, less, i, now.length - i - 1);
                ports = less;
                break;
            }
        }
        table.forget(port);
    }

    /** The ports attached now. */
    public List<SwitchPort> ports() {
        return List.of(ports);
    }

    /** Addresses learned and not aged out. */
    public int learnedAddresses() {
        return table.size(nanoClock.getAsLong());
    }

    SwitchPort[] portArray() {
        return ports;
    }

    /** Learns the source, and returns the port of a unicast destination, or null to flood. */
    SwitchPort route(long source, SwitchPort from, long destination) {
        return table.learnAndFind(source, from, destination, nanoClock.getAsLong());
    }

    @Override
    public String toString() {
        return "L2Switch[" + name + ", " + ports.length + " port(s)]";
    }
}
