package org.jvirtio.device.net.backend.l2;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.jvirtio.device.net.backend.Transmitter;

/**
 * Switches one transmit queue's frames. Remembers which ports received frames in the current batch
 * and flushes each of them once at the end of it, so a receiver's used index is published (and its
 * driver interrupted) once per batch rather than per frame. Used by one thread, so that memory needs
 * no lock; the switch's MAC table is the only shared state it touches, and no lock is held while it
 * calls a receiver.
 */
final class SwitchTransmitter implements Transmitter {
    private final L2Switch owner;
    private final SwitchPort self;
    private SwitchPort[] touched = new SwitchPort[4];
    private int touchedCount;

    SwitchTransmitter(L2Switch owner, SwitchPort self) {
        this.owner = owner;
        this.self = self;
    }

    @Override
    public void transmit(ByteBuffer frame) {
        if (self.isClosed() || frame.remaining() < 14) {
            return;
        }
        self.countTx();
        int at = frame.position();
        long destination = mac(frame, at);
        long source = mac(frame, at + 6);
        boolean groupDestination = (frame.get(at) & 1) != 0;
        // a group address is no station's address: never learn it as a source
        SwitchPort to = (frame.get(at + 6) & 1) == 0
                ? owner.route(source, self, groupDestination ? -1 : destination)
                : null;
        if (to == self) {
            return; // its own address: a real switch filters it too
        }
        if (to != null && !to.isClosed()) {
            deliver(to, frame);
            return;
        }
        for (SwitchPort port : owner.portArray()) {
            if (port != self) {
                deliver(port, frame);
            }
        }
    }

    private void deliver(SwitchPort port, ByteBuffer frame) {
        port.countDelivered(port.sink().receive(frame));
        for (int i = 0; i < touchedCount; i++) {
            if (touched[i] == port) {
                return;
            }
        }
        if (touchedCount == touched.length) {
            touched = Arrays.copyOf(touched, touchedCount * 2);
        }
        touched[touchedCount++] = port;
    }

    @Override
    public void flush() {
        for (int i = 0; i < touchedCount; i++) {
            touched[i].sink().flush();
            touched[i] = null;
        }
        touchedCount = 0;
    }

    /** The 48-bit address at {@code at}, most significant byte first. */
    private static long mac(ByteBuffer frame, int at) {
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = mac << 8 | (frame.get(at + i) & 0xFF);
        }
        return mac;
    }
}
