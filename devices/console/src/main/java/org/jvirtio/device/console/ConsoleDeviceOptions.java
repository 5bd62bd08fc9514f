package org.jvirtio.device.console;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a virtio-console device presents itself: its ports and their names, which one is the console,
 * the console's size and the optional features. Immutable; build with {@link #builder()}.
 */
public final class ConsoleDeviceOptions {
    /** The most ports a Linux guest accepts (its VIRTCONS_MAX_PORTS). */
    public static final int MAX_PORTS = 0x8000;
    /** The most queues a transport can describe (virtio-pci's num_queues is 16 bits). */
    static final int MAX_QUEUES = 0xFFFF;
    /** The longest port name, in UTF-8 bytes (a guest reads it from one page-sized control buffer). */
    public static final int MAX_NAME_BYTES = 255;

    private final List<String> names;
    private final int maxPorts;
    private final int consolePort;
    private final boolean size;
    private final int cols;
    private final int rows;
    private final boolean multiport;
    private final boolean emergWrite;
    private final int queueSize;
    private final boolean packed;
    private final boolean eventIdx;
    private final boolean indirect;

    private ConsoleDeviceOptions(Builder b) {
        int ports = b.names.size();
        if (ports < 1 || ports > MAX_PORTS) {
            throw new IllegalArgumentException("ports must be 1 to 32768: " + ports);
        }
        int max = b.maxPorts == 0 ? ports : b.maxPorts;
        if (max < ports || max > MAX_PORTS) {
            throw new IllegalArgumentException("maxPorts must be 0 (as many as ports) or " + ports + " to 32768: "
                    + b.maxPorts);
        }
        if (2L * (max + 1) > MAX_QUEUES) {
            throw new IllegalArgumentException("maxPorts " + max + " needs " + 2L * (max + 1)
                    + " queues; transports count queues in 16 bits (at most 32766 ports)");
        }
        if (!b.multiport && max > 1) {
            throw new IllegalArgumentException("more than one port needs MULTIPORT");
        }
        if (b.consolePort < -1 || b.consolePort >= ports) {
            throw new IllegalArgumentException("consolePort must be -1 (none) or a port below " + ports + ": "
                    + b.consolePort);
        }
        if (!b.multiport && b.consolePort != 0) {
            throw new IllegalArgumentException("without MULTIPORT port 0 is always the console");
        }
        if (b.cols < 0 || b.cols > 0xFFFF || b.rows < 0 || b.rows > 0xFFFF) {
            throw new IllegalArgumentException("cols and rows must be 0 to 65535: " + b.cols + "x" + b.rows);
        }
        if (b.queueSize < 2 || b.queueSize > 32768 || Integer.bitCount(b.queueSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two, 2 to 32768: " + b.queueSize);
        }
        for (String name : b.names) {
            if (name.indexOf('\0') >= 0 || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("a port name has at most 255 UTF-8 bytes and no NUL: " + name);
            }
        }
        names = List.copyOf(b.names);
        maxPorts = max;
        consolePort = b.consolePort;
        size = b.size;
        cols = b.cols;
        rows = b.rows;
        multiport = b.multiport;
        emergWrite = b.emergWrite;
        queueSize = b.queueSize;
        packed = b.packed;
        eventIdx = b.eventIdx;
        indirect = b.indirect;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Ports the device has (each with a backend), numbered from 0. */
    public int ports() { return names.size(); }
    /** Port {@code port}'s name, empty if it has none. */
    public String name(int port) { return names.get(port); }
    public List<String> names() { return names; }
    /** max_nr_ports: at least {@link #ports()}; the queues of the ports beyond exist but carry nothing. */
    public int maxPorts() { return maxPorts; }
    /** The port the guest makes its console (hvc), or -1. */
    public int consolePort() { return consolePort; }
    public boolean size() { return size; }
    public int cols() { return cols; }
    public int rows() { return rows; }
    public boolean multiport() { return multiport; }
    public boolean emergWrite() { return emergWrite; }
    public int queueSize() { return queueSize; }
    public boolean packed() { return packed; }
    public boolean eventIdx() { return eventIdx; }
    public boolean indirect() { return indirect; }

    /** Fluent, mutable; {@link #build()} checks. */
    public static final class Builder {
        private List<String> names = new ArrayList<>(List.of(""));
        private int maxPorts;
        private int consolePort;
        private boolean size = true;
        private int cols = 80;
        private int rows = 24;
        private boolean multiport = true;
        private boolean emergWrite = true;
        private int queueSize = 128;
        private boolean packed = true;
        private boolean eventIdx = true;
        private boolean indirect = true;

        private Builder() {
        }

        /** One port per name ("" for an unnamed port); port 0 first. One unnamed port by default. */
        public Builder names(String... v) { names = new ArrayList<>(Arrays.asList(v)); return this; }
        public Builder names(List<String> v) { names = new ArrayList<>(v); return this; }
        /** max_nr_ports; 0 (the default) means as many as there are ports. */
        public Builder maxPorts(int v) { maxPorts = v; return this; }
        /** The console (hvc) port, -1 for none; port 0 by default. */
        public Builder consolePort(int v) { consolePort = v; return this; }
        /** SIZE: the console's cols and rows in configuration space. */
        public Builder size(boolean v) { size = v; return this; }
        public Builder cols(int v) { cols = v; return this; }
        public Builder rows(int v) { rows = v; return this; }
        public Builder multiport(boolean v) { multiport = v; return this; }
        public Builder emergWrite(boolean v) { emergWrite = v; return this; }
        public Builder queueSize(int v) { queueSize = v; return this; }
        public Builder packed(boolean v) { packed = v; return this; }
        public Builder eventIdx(boolean v) { eventIdx = v; return this; }
        public Builder indirect(boolean v) { indirect = v; return this; }

        public ConsoleDeviceOptions build() {
            return new ConsoleDeviceOptions(this);
        }
    }
}
