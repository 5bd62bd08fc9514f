package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;

/** Drives chains through a front-end queue in batches and checks each echo. */
public final class Traffic {
    public static final int BUFFER = 96;

    private final VhostUserFrontend frontend;
    private final int queueIndex;
    private final int slots;
    private final long in;
    private final long out;
    private int serial;

    public Traffic(VhostUserFrontend frontend, int queueIndex) {
        this.frontend = frontend;
        this.queueIndex = queueIndex;
        this.slots = frontend.queue(queueIndex).size() / 2;
        this.in = frontend.allocate((long) slots * BUFFER, 64);
        this.out = frontend.allocate((long) slots * BUFFER, 64);
    }

    /** Adds {@code count} chains (readable + writable) without waiting; returns the first serial. */
    public int add(int count) {
        DriverQueue q = frontend.queue(queueIndex);
        ScatterGatherList sg = new ScatterGatherList(2);
        int first = serial;
        for (int k = 0; k < count; k++) {
            int slot = k;
            byte[] data = pattern(serial++);
            frontend.memory().write(in + (long) slot * BUFFER, data, 0, data.length);
            frontend.memory().write(out + (long) slot * BUFFER, new byte[BUFFER], 0, BUFFER);
            sg.clear().addReadable(in + (long) slot * BUFFER, BUFFER).addWritable(out + (long) slot * BUFFER, BUFFER);
            assertThat(q.add(sg, slot, false)).isTrue();
        }
        return first;
    }

    /** Publishes and kicks if the ring asks for it. */
    public void kick() throws IOException {
        if (frontend.queue(queueIndex).kick()) {
            frontend.kick(queueIndex);
        }
    }

    /** Waits for {@code count} used chains and checks each against the pattern starting at {@code first}. */
    public void awaitEchoes(int count, int first) throws IOException {
        DriverQueue q = frontend.queue(queueIndex);
        int got = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (got < count) {
            int token = q.pollUsed();
            if (token == DriverQueue.NO_TOKEN) {
                assertThat(q.error()).isEqualTo(QueueError.NONE);
                assertThat(System.nanoTime()).as("echo %d of %d in time", got, count).isLessThan(deadline);
                if (!q.enableInterrupts()) {
                    frontend.awaitCall(queueIndex, 50);
                }
                continue;
            }
            assertThat(q.lastUsedLength()).isEqualTo(BUFFER);
            byte[] echoed = new byte[BUFFER];
            frontend.memory().read(out + (long) token * BUFFER, echoed, 0, BUFFER);
            assertThat(echoed).isEqualTo(pattern(first + token));
            got++;
        }
    }

    /** Moves {@code total} chains in batches of half the ring. */
    public void run(int total) throws IOException {
        int left = total;
        while (left > 0) {
            int batch = Math.min(slots, left);
            int first = add(batch);
            kick();
            awaitEchoes(batch, first);
            left -= batch;
        }
    }

    static byte[] pattern(int serial) {
        byte[] b = new byte[BUFFER];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (serial * 31 + i);
        }
        return b;
    }
}
