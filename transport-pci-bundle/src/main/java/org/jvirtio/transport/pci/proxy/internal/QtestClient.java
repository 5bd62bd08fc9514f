package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/**
 * A client of QEMU's qtest socket ({@code -qtest unix:PATH,server=on,wait=off}): one text command per
 * line, answered by one line starting with {@code OK} or {@code FAIL}. Lines starting with {@code IRQ}
 * are notifications (only after {@code irq_intercept_*}) and are skipped.
 *
 * <p>QEMU answers from its main loop, which can be busy, for instance waiting on this very proxy. A
 * reply that does not come within the timeout is counted and owed: the next exchange first skips the
 * late line, so the stream stays in step. Commands are serialized; the socket accepts one client, so
 * everything for one QEMU goes through one instance. {@link #writel} and {@link #setIrqIn} build their
 * line in a reused buffer.
 */
public final class QtestClient implements AutoCloseable {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int LINE_MAX = 512;

    /** Passed explicitly: a call with no descriptors would otherwise allocate an empty varargs array. */
    private static final NativeFd[] NO_FDS = {};

    private final UnixSocket socket;
    private final ByteBuffer out = ByteBuffer.allocateDirect(LINE_MAX);
    private final ByteBuffer in = ByteBuffer.allocateDirect(4096);
    private final byte[] line = new byte[LINE_MAX];
    private final ArrayList<NativeFd> noFds = new ArrayList<>(0);
    private int lineLength;
    private int owed;
    private long timeouts;
    private long failures;

    private QtestClient(UnixSocket socket) {
        this.socket = socket;
        in.flip();
    }

    /**
     * Connects to QEMU's qtest socket.
     *
     * @param replyTimeout how long one reply may take before it is counted late and skipped
     */
    public static QtestClient connect(Path path, Duration replyTimeout) throws IOException {
        return over(UnixSocket.connect(path), replyTimeout);
    }

    /** A client over a connected socket, which it now owns. */
    static QtestClient over(UnixSocket socket, Duration replyTimeout) throws IOException {
        try {
            socket.setReceiveTimeout(replyTimeout);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return new QtestClient(socket);
    }

    /** Sends any command line (without newline) and returns QEMU's answer line, e.g. {@code "OK 0x1234"}. */
    public synchronized String command(String command) throws IOException {
        byte[] bytes = command.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length + 1 > LINE_MAX || command.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not one qtest line: " + command);
        }
        out.clear();
        out.put(bytes);
        if (!exchange()) {
            throw new SocketTimeoutException("no answer from qtest to: " + command);
        }
        return new String(line, 0, lineLength, StandardCharsets.US_ASCII);
    }

    /** {@code readl ADDRESS}: a 32-bit read of guest-physical memory, through QEMU's memory map. */
    public long readl(long address) throws IOException {
        String answer = command("readl 0x" + Long.toHexString(address));
        if (!answer.startsWith("OK ")) {
            throw new IOException("qtest readl 0x" + Long.toHexString(address) + ": " + answer);
        }
        return Long.decode(answer.substring(3).trim());
    }

    /**
     * {@code writel ADDRESS VALUE}: a 32-bit write through QEMU's memory map (an MSI when it hits the
     * APIC's window).
     *
     * @return whether QEMU answered OK in time
     */
    public synchronized boolean writel(long address, int value) throws IOException {
        out.clear();
        ascii("writel 0x");
        hex(address);
        ascii(" 0x");
        hex(Integer.toUnsignedLong(value));
        return exchange() && ok();
    }

    /** {@code set_irq_in PATH NAME LINE LEVEL}: drives input {@code line} of the named GPIO array of a device. */
    public synchronized boolean setIrqIn(String path, String name, int line, boolean level) throws IOException {
        out.clear();
        ascii("set_irq_in ");
        ascii(path);
        ascii(" ");
        ascii(name);
        ascii(" ");
        decimal(line);
        ascii(level ? " 1" : " 0");
        return exchange() && ok();
    }

    /** Changes the reply timeout (tests: a short one to provoke a late reply, then a long one). */
    synchronized void setTimeoutForTest(Duration replyTimeout) throws IOException {
        socket.setReceiveTimeout(replyTimeout);
    }

    /** Replies that came too late and were skipped. */
    public synchronized long timeouts() {
        return timeouts;
    }

    /** Commands QEMU answered with something other than OK. */
    public synchronized long failures() {
        return failures;
    }

    private boolean ok() {
        boolean ok = lineLength >= 2 && line[0] == 'O' && line[1] == 'K';
        if (!ok) {
            failures++;
        }
        return ok;
    }

    /** Sends the line in {@link #out} and reads its answer into {@link #line}; false if it timed out. */
    private boolean exchange() throws IOException {
        out.put((byte) '\n').flip();
        socket.send(out, NO_FDS);
        while (owed > 0) {
            if (!readLine()) {
                return false;
            }
            owed--;
        }
        if (!readLine()) {
            owed++;
            return false;
        }
        return true;
    }

    /** Reads the next line that is not an IRQ notification; false on timeout. */
    private boolean readLine() throws IOException {
        for (;;) {
            lineLength = 0;
            boolean complete = false;
            while (!complete) {
                if (!in.hasRemaining()) {
                    in.clear();
                    int n;
                    try {
                        n = socket.receive(in, noFds, 0);
                    } catch (SocketTimeoutException e) {
                        in.flip();
                        timeouts++;
                        return false;
                    }
                    in.flip();
                    if (n < 0) {
                        throw new IOException("qtest socket closed by QEMU");
                    }
                }
                byte b = in.get();
                if (b == '\n') {
                    complete = true;
                } else if (lineLength < line.length) {
                    line[lineLength++] = b;
                }
            }
            boolean notification = lineLength >= 3 && line[0] == 'I' && line[1] == 'R' && line[2] == 'Q';
            if (!notification) {
                return true;
            }
        }
    }

    private void ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            out.put((byte) s.charAt(i));
        }
    }

    private void hex(long value) {
        int digits = Math.max(1, (67 - Long.numberOfLeadingZeros(value)) / 4);
        for (int i = digits - 1; i >= 0; i--) {
            out.put(HEX[(int) (value >>> (4 * i)) & 0xf]);
        }
    }

    private void decimal(int value) {
        if (value >= 10) {
            decimal(value / 10);
        }
        out.put((byte) ('0' + value % 10));
    }

    @Override
    public void close() {
        socket.close();
    }
}
