package org.jvirtio.device.console.backend.memory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.ConsoleInput;
import org.jvirtio.device.console.backend.ConsolePort;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A port in memory, for tests and the shell: the guest's output collects in a buffer
 * ({@link #output()}), and {@link #send} queues input that goes to the guest as it posts buffers
 * ({@link #pending()} says how much still waits). Input is offered on the caller's thread (a send, or
 * the device's {@code inputRoom}); one thread at a time offers, and the lock that guards the waiting
 * bytes is never held while offering, so a device lock held around {@code inputRoom} cannot deadlock
 * against a {@link #send}.
 */
@Component(service = ConsoleBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = MemoryBackend.PID)
@Designate(ocd = MemoryBackend.Config.class, factory = true)
public final class MemoryBackend implements ConsoleBackend {
    public static final String PID = "org.jvirtio.console.backend.memory";

    @ObjectClassDefinition(name = "jvirtio console backend: memory", description = "Guest output kept in memory; input from the shell or tests")
    public @interface Config {
        /** The port of its device this backend serves. */
        int port() default 0;

        /** Whether the guest sees someone attached (PORT_OPEN 1) from the start. */
        boolean connected() default true;
    }

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Object inputLock = new Object();
    /** Bytes waiting for the guest, between 0 and its position (write mode). */
    private ByteBuffer waiting = ByteBuffer.allocate(4096);
    /** Offers wanted; whoever raises it from 0 offers until it drops back (no offer is lost, one at a time). */
    private final AtomicInteger offersWanted = new AtomicInteger();
    /** Set at attach and cleared at close under this object's lock; read without it by whoever offers. */
    private volatile ConsoleInput input;
    /** Changed by tests on their thread, read at attach. */
    private volatile boolean connected;

    @Activate
    public MemoryBackend(Config config) {
        this(config.connected());
    }

    public MemoryBackend(boolean connected) {
        this.connected = connected;
    }

    public MemoryBackend() {
        this(true);
    }

    @Override
    public synchronized ConsolePort attach(ConsoleInput in) {
        if (input != null) {
            throw new IllegalStateException("the memory console backend serves a port already");
        }
        input = in;
        in.hostConnected(connected);
        return new Port(in);
    }

    /** Everything the guest wrote so far. */
    public byte[] output() {
        synchronized (output) {
            return output.toByteArray();
        }
    }

    public String outputText() {
        return new String(output(), StandardCharsets.UTF_8);
    }

    /** Queues {@code bytes} for the guest and offers what is waiting. */
    public void send(byte[] bytes) {
        synchronized (inputLock) {
            if (waiting.remaining() < bytes.length) {
                ByteBuffer larger = ByteBuffer.allocate(Math.max(waiting.capacity() * 2, waiting.position() + bytes.length));
                waiting.flip();
                larger.put(waiting);
                waiting = larger;
            }
            waiting.put(bytes);
        }
        offerWaiting();
    }

    public void send(String text) {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes sent and not yet taken by the guest. */
    public int pending() {
        synchronized (inputLock) {
            return waiting.position();
        }
    }

    /** Tells the guest someone attached or left. */
    public void setConnected(boolean now) {
        connected = now;
        ConsoleInput in = input;
        if (in != null) {
            in.hostConnected(now);
        }
    }

    private void offerWaiting() {
        if (offersWanted.getAndIncrement() != 0) {
            return; // the thread offering now goes round again
        }
        int missed = 1;
        do {
            offerOnce();
            missed = offersWanted.addAndGet(-missed);
        } while (missed != 0);
    }

    private void offerOnce() {
        ConsoleInput in = input;
        if (in == null) {
            return;
        }
        ByteBuffer view;
        synchronized (inputLock) {
            // only this thread removes bytes, and send only appends: the view stays valid after the lock
            view = ByteBuffer.wrap(waiting.array(), 0, waiting.position());
        }
        int taken = in.offer(view);
        if (taken > 0) {
            synchronized (inputLock) {
                ByteBuffer current = waiting;
                current.flip().position(taken);
                current.compact();
            }
        }
    }

    private final class Port implements ConsolePort {
        private final ConsoleInput in;

        Port(ConsoleInput in) {
            this.in = in;
        }

        @Override
        public void write(ByteBuffer bytes) {
            synchronized (output) {
                while (bytes.hasRemaining()) {
                    output.write(bytes.get());
                }
            }
        }

        @Override
        public void inputRoom() {
            offerWaiting();
        }

        @Override
        public void close() {
            synchronized (MemoryBackend.this) {
                if (input == in) {
                    input = null;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "MemoryBackend[" + pending() + " bytes waiting]";
    }
}
