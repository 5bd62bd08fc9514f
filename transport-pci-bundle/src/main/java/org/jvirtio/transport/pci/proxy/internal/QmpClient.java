package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/**
 * A client of QEMU's QMP monitor socket ({@code -qmp unix:PATH,server=on,wait=off}): reads the
 * greeting, leaves capabilities negotiation, then runs one command at a time and returns its
 * {@code "return"} value; an {@code "error"} answer throws {@link QmpException}. Asynchronous events
 * in between are skipped. Descriptors for {@code getfd} travel with the command's bytes
 * ({@code SCM_RIGHTS}).
 */
public final class QmpClient implements AutoCloseable {
    private static final int LINE_MAX = 1 << 20;

    private final UnixSocket socket;
    private final ByteBuffer in = ByteBuffer.allocate(65536);
    private final List<NativeFd> noFds = new ArrayList<>(0);

    private QmpClient(UnixSocket socket) {
        this.socket = socket;
        in.flip();
    }

    /**
     * Connects, reads the greeting and sends {@code qmp_capabilities}.
     *
     * @param timeout how long one answer may take (device_add waits for the proxied function's
     *                configuration space to answer)
     */
    public static QmpClient connect(Path path, Duration timeout) throws IOException {
        UnixSocket socket = UnixSocket.connect(path);
        QmpClient qmp = new QmpClient(socket);
        try {
            socket.setReceiveTimeout(timeout);
            Object greeting = Json.parse(qmp.readLine());
            if (!(greeting instanceof Map<?, ?> g) || !g.containsKey("QMP")) {
                throw new QmpException("not a QMP greeting: " + greeting);
            }
            qmp.execute("qmp_capabilities", Map.of());
            return qmp;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Runs {@code command} with {@code arguments}, sending {@code fds} along, and returns its result. */
    public synchronized Object execute(String command, Map<String, ?> arguments, NativeFd... fds) throws IOException {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("execute", command);
        if (!arguments.isEmpty()) {
            request.put("arguments", arguments);
        }
        socket.send(ByteBuffer.wrap((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8)), fds);
        for (;;) {
            Object answer;
            try {
                answer = Json.parse(readLine());
            } catch (IllegalArgumentException e) {
                throw new QmpException("unreadable answer to " + command + ": " + e.getMessage());
            }
            if (!(answer instanceof Map<?, ?> map)) {
                throw new QmpException("answer to " + command + " is not an object: " + answer);
            }
            if (map.containsKey("return")) {
                return map.get("return");
            }
            if (map.get("error") instanceof Map<?, ?> error) {
                throw new QmpException(command + ": " + error.get("class") + ": " + error.get("desc"));
            }
            // an event: not the answer
        }
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        for (;;) {
            while (in.hasRemaining()) {
                char c = (char) (in.get() & 0xff);
                if (c == '\n') {
                    return line.toString();
                }
                if (line.length() >= LINE_MAX) {
                    throw new QmpException("QMP line longer than " + LINE_MAX + " bytes");
                }
                line.append(c);
            }
            in.clear();
            int n;
            try {
                n = socket.receive(in, noFds, 0);
            } catch (SocketTimeoutException e) {
                in.limit(0);
                throw new SocketTimeoutException("no answer from QMP in time");
            }
            in.flip();
            if (n < 0) {
                throw new QmpException("QMP socket closed by QEMU");
            }
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
