package org.jvirtio.device.console.backend.socket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.ConsoleInput;
import org.jvirtio.device.console.backend.ConsolePort;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A listening UNIX or TCP socket a user attaches to (e.g. {@code socat - UNIX-CONNECT:PATH}), one client
 * at a time: a second client is refused (closed at once, counted) while one is attached. The guest sees
 * the port's host side open while a client is attached (PORT_OPEN).
 *
 * <p>Guest output goes to the client through a buffer of {@code bufferSize} bytes, never blocking the
 * guest: while nobody is attached, or while the client reads slower than the guest writes, output
 * collects there (and reaches the next client that attaches); what does not fit is dropped and
 * counted ({@link #droppedBytes()}).
 *
 * <p>Client input goes to the guest with back-pressure: the backend reads a chunk, offers it, and reads
 * no more from the socket until the guest has taken all of it; what the guest has no buffer for waits
 * (the client's writes then block in its socket buffer), and goes on when the device says the guest has
 * room. Nothing is lost and nothing is sent twice. Bytes a leaving client sent still reach the guest.
 *
 * <p>One thread per backend runs a selector over the listening socket and the client: accepts, reads,
 * offers and flushes output the device could not write at once. The device's thread writes output
 * directly when the socket takes it.
 */
@Component(service = ConsoleBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = SocketBackend.PID)
@Designate(ocd = SocketBackend.Config.class, factory = true)
public final class SocketBackend implements ConsoleBackend, AutoCloseable {
    public static final String PID = "org.jvirtio.console.backend.socket";
    private static final Logger LOG = System.getLogger("org.jvirtio.device.console.socket");
    /** Client input read at once: a terminal's keystrokes or a paste, a page at a time. */
    static final int READ_CHUNK = 4096;

    @ObjectClassDefinition(name = "jvirtio console backend: socket", description = "A UNIX or TCP socket one client at a time attaches to")
    public @interface Config {
        /** A UNIX socket path (an existing file there is replaced); empty: TCP on {@link #host()}:{@link #tcpPort()}. */
        String path() default "";

        /** TCP: the address to listen on. */
        String host() default "127.0.0.1";

        /** TCP: the port to listen on (0: any free port). */
        int tcpPort() default 0;

        /** Guest output kept while nobody is attached or the client lags; beyond it output is dropped. */
        int bufferSize() default 65536;

        /** The port of its device this backend serves. */
        int port() default 0;
    }

    private final ServerSocketChannel server;
    private final Path unixPath;
    private final Selector selector;
    private final Thread thread;
    private final Object outLock = new Object();
    /** Guest output not yet written to a client (write mode); guarded by outLock. */
    private final ByteBuffer outgoing;
    /** Client input read and not yet taken by the guest (read mode); selector thread only. */
    private final ByteBuffer incoming = ByteBuffer.allocateDirect(READ_CHUNK).flip();
    private final AtomicBoolean roomSignalled = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong clients = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Changed under outLock by the selector thread; read by the device's thread under outLock. */
    private SocketChannel client;
    /** Written under outLock; volatile because the device's thread also reads it outside (to decide on a wake-up). */
    private volatile SelectionKey clientKey;
    /** A write from the device's thread failed: the selector thread drops the client. */
    private volatile boolean clientBroken;
    /** Set at attach and cleared at close by the device's thread, read by the selector thread at each offer. */
    private volatile ConsoleInput input;
    /** Set by close on another thread; the selector thread checks it after each wake-up. */
    private volatile boolean closed;

    @Activate
    public SocketBackend(Config config) {
        this(config.path().isEmpty() ? new InetSocketAddress(config.host(), config.tcpPort())
                : UnixDomainSocketAddress.of(config.path()), config.bufferSize());
    }

    /** Listens on {@code address} (a {@link UnixDomainSocketAddress} or an {@link InetSocketAddress}). */
    public SocketBackend(SocketAddress address, int bufferSize) {
        if (bufferSize < 1) {
            throw new IllegalArgumentException("bufferSize must be positive: " + bufferSize);
        }
        outgoing = ByteBuffer.allocateDirect(bufferSize);
        try {
            if (address instanceof UnixDomainSocketAddress unix) {
                unixPath = unix.getPath();
                Files.deleteIfExists(unixPath); // a socket left by an earlier run
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            } else {
                unixPath = null;
                server = ServerSocketChannel.open();
            }
            server.bind(address);
            server.configureBlocking(false);
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            throw new UncheckedIOException("console socket " + address + " cannot listen", e);
        }
        thread = new Thread(this::run, "console-socket " + address());
        thread.setDaemon(true);
        thread.start();
    }

    /** Where clients connect. */
    public SocketAddress address() {
        try {
            return server.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized ConsolePort attach(ConsoleInput in) {
        if (input != null) {
            throw new IllegalStateException("the console socket " + address() + " serves a port already");
        }
        input = in;
        boolean attached;
        synchronized (outLock) {
            attached = client != null;
        }
        in.hostConnected(attached);
        signalRoom();
        return new Port(in);
    }

    /** Guest output dropped because the buffer was full. */
    public long droppedBytes() {
        return dropped.get();
    }

    /** Guest output written to clients. */
    public long sentBytes() {
        return sent.get();
    }

    /** Client input the guest took. */
    public long receivedBytes() {
        return received.get();
    }

    /** Clients accepted so far. */
    public long clients() {
        return clients.get();
    }

    /** Clients refused because another was attached. */
    public long refusedClients() {
        return refused.get();
    }

    /** Guest output waiting for a client. */
    public int bufferedBytes() {
        synchronized (outLock) {
            return outgoing.position();
        }
    }

    /** Whether a client is attached now. */
    public boolean isClientAttached() {
        synchronized (outLock) {
            return client != null;
        }
    }

    private void signalRoom() {
        roomSignalled.set(true);
        selector.wakeup();
    }

    private void run() {
        try {
            while (!closed) {
                selector.select();
                if (clientBroken) {
                    dropClient();
                }
                if (roomSignalled.getAndSet(false)) {
                    offerIncoming();
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        if (key.isReadable()) {
                            read();
                        }
                        if (key.isValid() && key.isWritable()) {
                            flushFromSelector();
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(Level.ERROR, "console socket " + thread.getName() + " stopped", e);
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel c = server.accept();
        if (c == null) {
            return;
        }
        boolean busy;
        synchronized (outLock) {
            busy = client != null;
        }
        if (busy) {
            refused.incrementAndGet();
            c.close();
            return;
        }
        c.configureBlocking(false);
        clients.incrementAndGet();
        synchronized (outLock) {
            client = c;
            clientKey = c.register(selector, incoming.hasRemaining() ? 0 : SelectionKey.OP_READ);
            clientBroken = false;
            writeOutgoing(); // what the guest wrote while nobody was attached
        }
        ConsoleInput in = input;
        if (in != null) {
            in.hostConnected(true);
        }
    }

    private void read() {
        if (incoming.hasRemaining()) {
            return; // the guest has not taken the last chunk: read nothing more (back-pressure)
        }
        int n;
        incoming.clear();
        try {
            n = client.read(incoming);
        } catch (IOException e) {
            n = -1;
        }
        incoming.flip();
        if (n < 0) {
            dropClient();
            return;
        }
        offerIncoming();
    }

    /** Offers the chunk in hand; reads again only once the guest took all of it. */
    private void offerIncoming() {
        ConsoleInput in = input;
        if (incoming.hasRemaining() && in != null) {
            received.addAndGet(in.offer(incoming));
        }
        SelectionKey key = clientKey;
        if (key != null && key.isValid()) {
            int ops = key.interestOps();
            key.interestOps(incoming.hasRemaining() ? ops & ~SelectionKey.OP_READ : ops | SelectionKey.OP_READ);
        }
    }

    private void flushFromSelector() {
        synchronized (outLock) {
            writeOutgoing();
        }
    }

    /**
     * Writes what the socket takes now, without blocking; asks the selector to finish when it does not
     * take everything. Under outLock.
     */
    private void writeOutgoing() {
        SocketChannel c = client;
        if (c == null || clientBroken) {
            return;
        }
        outgoing.flip();
        try {
            sent.addAndGet(c.write(outgoing));
        } catch (IOException e) {
            clientBroken = true; // the selector thread lets it go; the output waits for the next client
            selector.wakeup();
        } finally {
            outgoing.compact();
        }
        SelectionKey key = clientKey;
        if (key != null && key.isValid()) {
            int ops = key.interestOps();
            key.interestOps(outgoing.position() > 0 && !clientBroken ? ops | SelectionKey.OP_WRITE
                    : ops & ~SelectionKey.OP_WRITE);
        }
    }

    private void dropClient() {
        SocketChannel c;
        synchronized (outLock) {
            c = client;
            client = null;
            if (clientKey != null) {
                clientKey.cancel();
                clientKey = null;
            }
            clientBroken = false;
        }
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException ignored) {
            // gone either way
        }
        ConsoleInput in = input;
        if (in != null) {
            in.hostConnected(false);
        }
    }

    private final class Port implements ConsolePort {
        private final ConsoleInput in;

        Port(ConsoleInput in) {
            this.in = in;
        }

        @Override
        public void write(ByteBuffer output) {
            synchronized (outLock) {
                int room = outgoing.remaining();
                int n = output.remaining();
                if (n > room) {
                    // the newest bytes go: what is buffered keeps its order and nothing is torn inside it
                    dropped.addAndGet(n - room);
                    int limit = output.limit();
                    output.limit(output.position() + room);
                    outgoing.put(output);
                    output.limit(limit).position(limit);
                } else {
                    outgoing.put(output);
                }
                writeOutgoing();
            }
            if (clientKeyWantsWrite()) {
                selector.wakeup();
            }
        }

        @Override
        public void inputRoom() {
            signalRoom();
        }

        @Override
        public void close() {
            synchronized (SocketBackend.this) {
                if (input == in) {
                    input = null;
                }
            }
        }
    }

    private boolean clientKeyWantsWrite() {
        SelectionKey key = clientKey;
        return key != null && key.isValid() && (key.interestOps() & SelectionKey.OP_WRITE) != 0;
    }

    @Deactivate
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            synchronized (outLock) {
                if (client != null) {
                    client.close();
                    client = null;
                }
            }
            selector.close();
            server.close();
            if (unixPath != null) {
                Files.deleteIfExists(unixPath);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing console socket " + thread.getName(), e);
        }
    }

    @Override
    public String toString() {
        return "SocketBackend[" + thread.getName() + "]";
    }
}
