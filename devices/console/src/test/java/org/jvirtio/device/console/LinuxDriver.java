package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.console.queue.ControlMessage;

/**
 * The guest side as Linux's drivers/char/virtio_console.c behaves, replayed on the rig's rings: probe
 * fills the control receiveq and sends DEVICE_READY; PORT_ADD makes it fill the port's receiveq and
 * answer PORT_READY; CONSOLE_PORT makes the port an hvc console, which it opens itself (PORT_OPEN 1);
 * messages about ports it does not know are ignored; a consumed buffer is posted again.
 */
final class LinuxDriver {
    record Message(int id, int event, int value, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    static final int CONTROL_BUFFERS = 8;
    static final int CONTROL_BUFFER_SIZE = 256;

    final ConsoleRig rig;
    final boolean multiport;
    final int maxNrPorts;
    final int rxBuffers;
    final int rxBufferSize;
    /** Every control message the device sent, in order. */
    final List<Message> received = new ArrayList<>();
    /** Messages about a port the driver did not know: dropped, as Linux does. */
    final List<Message> ignored = new ArrayList<>();
    final Set<Integer> ports = new LinkedHashSet<>();
    final Map<Integer, String> names = new HashMap<>();
    final Map<Integer, Boolean> hostConnected = new HashMap<>();
    final Set<Integer> guestConnected = new LinkedHashSet<>();
    int consolePort = -1;
    int cols;
    int rows;

    LinuxDriver(ConsoleRig rig, int rxBuffers, int rxBufferSize) {
        this.rig = rig;
        this.multiport = VirtioFeature.has(rig.features, ConsoleFeatures.MULTIPORT);
        byte[] max = new byte[4];
        rig.device.readConfig(4, max, 0, 4);
        this.maxNrPorts = multiport ? max[0] & 0xFF | (max[1] & 0xFF) << 8 : 1;
        this.rxBuffers = rxBuffers;
        this.rxBufferSize = rxBufferSize;
    }

    LinuxDriver(ConsoleRig rig) {
        this(rig, 4, 64);
    }

    /** virtcons_probe, then the control work that follows until the device has nothing more to say. */
    LinuxDriver probe() {
        if (multiport) {
            for (int i = 0; i < CONTROL_BUFFERS; i++) {
                rig.post(2, CONTROL_BUFFER_SIZE);
            }
            send(ControlMessage.NO_PORT, ControlMessage.DEVICE_READY, 1);
            processControl();
        } else {
            addPort(0);
            consolePort = 0;
            guestConnected.add(0);
        }
        return this;
    }

    /** Handles every control message the device has used, re-posting each buffer. */
    void processControl() {
        byte[] m;
        while ((m = rig.pollUsed(2)) != null) {
            assertThat(m.length).as("a control message has its header").isGreaterThanOrEqualTo(ControlMessage.HEADER);
            Message message = new Message(ControlMessage.id(m), ControlMessage.event(m), ControlMessage.value(m),
                    java.util.Arrays.copyOfRange(m, ControlMessage.HEADER, m.length));
            received.add(message);
            handle(message);
            rig.repost(2);
        }
    }

    private void handle(Message m) {
        int id = m.id();
        if (!ports.contains(id) && m.event() != ControlMessage.PORT_ADD) {
            ignored.add(m);
            return;
        }
        switch (m.event()) {
            case ControlMessage.PORT_ADD -> {
                if (ports.contains(id)) {
                    send(id, ControlMessage.PORT_READY, 1);
                } else if (Integer.compareUnsigned(id, maxNrPorts) < 0) {
                    addPort(id);
                } else {
                    ignored.add(m);
                }
            }
            case ControlMessage.PORT_REMOVE -> {
                ports.remove(id);
                guestConnected.remove(id);
            }
            case ControlMessage.CONSOLE_PORT -> {
                if (m.value() != 0 && consolePort != id) {
                    consolePort = id;
                    guestConnected.add(id);
                    send(id, ControlMessage.PORT_OPEN, 1);
                }
            }
            case ControlMessage.RESIZE -> {
                if (consolePort == id) {
                    cols = m.payload()[0] & 0xFF | (m.payload()[1] & 0xFF) << 8;
                    rows = m.payload()[2] & 0xFF | (m.payload()[3] & 0xFF) << 8;
                }
            }
            case ControlMessage.PORT_OPEN -> hostConnected.put(id, m.value() != 0);
            case ControlMessage.PORT_NAME -> names.putIfAbsent(id, m.text());
            default -> ignored.add(m);
        }
    }

    /** add_port: fill the receiveq, then PORT_READY (without MULTIPORT no message goes out). */
    private void addPort(int id) {
        for (int i = 0; i < rxBuffers; i++) {
            rig.post(ConsoleRig.rxQueue(id), rxBufferSize);
        }
        ports.add(id);
        if (multiport) {
            send(id, ControlMessage.PORT_READY, 1);
        }
    }

    /** __send_control_msg: one 8-byte message on the control transmitq, waited for. */
    void send(int id, int event, int value) {
        byte[] m = ControlMessage.encode(id, event, value, new byte[0]);
        assertThat(rig.submit(3, new ScatterGatherList(1).addReadable(rig.memory.store(m), m.length))).isZero();
    }

    /** A program opens /dev/vport{dev}p{port}. */
    void open(int port) {
        guestConnected.add(port);
        send(port, ControlMessage.PORT_OPEN, 1);
    }

    /** It closes it again. */
    void close(int port) {
        guestConnected.remove(port);
        send(port, ControlMessage.PORT_OPEN, 0);
    }

    /** The guest writes {@code text} on the port (hvc put_chars or a write to the vport). */
    void write(int port, String text) {
        assertThat(rig.transmit(ConsoleRig.txQueue(port), text.getBytes(StandardCharsets.UTF_8))).isZero();
    }

    /** Everything the device put in the port's receive buffers so far, each buffer posted again. */
    byte[] read(int port) {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        byte[] b;
        while ((b = rig.pollUsed(ConsoleRig.rxQueue(port))) != null) {
            in.writeBytes(b);
            rig.repost(ConsoleRig.rxQueue(port));
        }
        return in.toByteArray();
    }

    String readText(int port) {
        return new String(read(port), StandardCharsets.UTF_8);
    }

    /** The events the device sent about {@code port}, in order. */
    List<Integer> eventsFor(int port) {
        List<Integer> events = new ArrayList<>();
        for (Message m : received) {
            if (m.id() == port) {
                events.add(m.event());
            }
        }
        return events;
    }
}
