package org.jvirtio.nativeio;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.FdGate;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.MessageBuffer;
import org.jvirtio.nativeio.internal.Scratch;
import org.jvirtio.nativeio.internal.UnixAddress;

/**
 * A connected Unix stream socket that carries descriptors along with bytes ({@code SCM_RIGHTS}): the
 * vhost-user channel, over which guest memory (memfds) and kick/call eventfds travel.
 *
 * <p>Descriptors belong to the byte they were sent with: {@link #send} attaches them to its first byte,
 * and a {@link #receive} that reads that byte gets them, as owned {@link NativeFd}s.
 *
 * <p>Thread safety: one thread may send while another receives. Concurrent sends (or receives) are
 * serialized, but messages longer than one system call should come from one thread so they do not
 * interleave. {@link #close()} from another thread is safe: a blocked receive ends with a
 * {@link SocketException}, and the descriptor is released when the last such call has returned.
 */
public final class UnixSocket implements AutoCloseable {

    private static final NativeFd[] NO_FDS = {};

    private final FdGate gate;
    private final MessageBuffer sending = new MessageBuffer();
    private final MessageBuffer receiving = new MessageBuffer();

    private UnixSocket(NativeFd fd) {
        this.gate = new FdGate(fd, () -> {
            fd.close();
            sending.free();
            receiving.free();
        });
    }

    /**
     * Connects to the Unix socket at {@code path} (close-on-exec).
     *
     * @throws IllegalArgumentException if the path does not fit in {@code sun_path} (107 bytes)
     * @throws NativeException          e.g. {@code ENOENT}, {@code ECONNREFUSED}
     */
    public static UnixSocket connect(Path path) throws NativeException {
        byte[] address = UnixAddress.of(path);
        NativeFd fd = newSocket();
        if (LibC.connect(fd.value(), address, address.length) < 0) {
            NativeException failure = Errno.failure("connect", path.toString());
            fd.close();
            throw failure;
        }
        return new UnixSocket(fd);
    }

    /** Two connected sockets ({@code socketpair}), e.g. a device and its test driver. */
    public static UnixSocket[] pair() throws NativeException {
        int[] fds = new int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) < 0) {
            throw Errno.failure("socketpair", "AF_UNIX, SOCK_STREAM");
        }
        return new UnixSocket[] {new UnixSocket(NativeFd.adopt(fds[0])), new UnixSocket(NativeFd.adopt(fds[1]))};
    }

    /**
     * Wraps a connected stream socket received from elsewhere (vhost-user's backend request channel),
     * taking ownership of {@code fd}.
     */
    public static UnixSocket adopt(NativeFd fd) {
        return new UnixSocket(fd);
    }

    static NativeFd newSocket() throws NativeException {
        int raw = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (raw < 0) {
            throw Errno.failure("socket", "AF_UNIX, SOCK_STREAM");
        }
        return NativeFd.adopt(raw);
    }

    /**
     * Sends all remaining bytes of {@code data} (its position advances to the limit) with {@code fds}
     * attached to the first byte. The descriptors stay owned by the caller: the peer gets its own copies.
     *
     * @return bytes sent
     * @throws IllegalArgumentException if fds are given without data (a stream socket would drop them)
     *                                  or more than 253 (the kernel's {@code SCM_MAX_FD})
     * @throws NativeException          e.g. {@code EPIPE} when the peer has gone
     */
    public int send(ByteBuffer data, NativeFd... fds) throws IOException {
        if (fds.length > 0 && !data.hasRemaining()) {
            throw new IllegalArgumentException("file descriptors need at least one byte of data to travel with");
        }
        if (fds.length > MessageBuffer.MAX_FDS) {
            throw new IllegalArgumentException(fds.length + " file descriptors, at most " + MessageBuffer.MAX_FDS);
        }
        int fd = gate.enter();
        try {
            int total = 0;
            NativeFd[] attach = fds;
            while (data.hasRemaining()) {
                total += sending.send(fd, data, attach);
                attach = NO_FDS; // the kernel took them with the first byte
            }
            return total;
        } catch (NativeException e) {
            throw closedOr(e);
        } finally {
            gate.exit();
        }
    }

    /**
     * Receives up to {@code dst.remaining()} bytes (at least one, blocking until some arrive) and the
     * descriptors that came with them, appended to {@code receivedFds} as owned, close-on-exec
     * {@link NativeFd}s. Returns after one system call: fewer bytes than asked is normal.
     *
     * @param maxFds how many descriptors the caller accepts; if the peer sent more, the control
     *               message is truncated: the ones that arrived are closed, the extra ones were dropped
     *               by the kernel, and an IOException saying "truncated" is thrown; the stream is then
     *               out of step and should be closed
     * @return bytes received, or -1 at end of stream (the peer closed or shut down)
     * @throws java.net.SocketTimeoutException if a {@link #setReceiveTimeout receive timeout} expired
     * @throws SocketException                 if {@link #close()} was called meanwhile
     */
    public int receive(ByteBuffer dst, List<NativeFd> receivedFds, int maxFds) throws IOException {
        if (maxFds < 0) {
            throw new IllegalArgumentException("negative maxFds: " + maxFds);
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        int fd = gate.enter();
        try {
            int n = receiving.receive(fd, dst, receivedFds, maxFds);
            if (n < 0 && gate.isClosing()) {
                // Our own close() shut the socket down to wake us: not the peer's end of stream.
                throw new SocketException("socket closed");
            }
            return n;
        } catch (NativeException e) {
            throw closedOr(e);
        } finally {
            gate.exit();
        }
    }

    /**
     * Receives until {@code dst} is full, collecting descriptors from every part (at most
     * {@code maxFds} in all). On failure the descriptors this call received are closed and removed
     * again, so the caller never has to clean up after an exception.
     *
     * @throws EOFException if the stream ends first
     */
    public void receiveFully(ByteBuffer dst, List<NativeFd> receivedFds, int maxFds) throws IOException {
        int first = receivedFds.size();
        boolean done = false;
        try {
            while (dst.hasRemaining()) {
                int allowed = maxFds - (receivedFds.size() - first);
                if (receive(dst, receivedFds, allowed) < 0) {
                    throw new EOFException("end of stream with " + dst.remaining() + " bytes still expected");
                }
            }
            done = true;
        } finally {
            if (!done) {
                MessageBuffer.closeFrom(receivedFds, first);
            }
        }
    }

    /**
     * Shuts both directions down: the peer reads end of stream, a thread blocked in {@link #receive}
     * here returns -1. The descriptor stays open until {@link #close()}.
     */
    public void shutdown() throws NativeException {
        int fd = gate.enter();
        try {
            if (LibC.shutdown(fd, LibC.SHUT_RDWR) < 0) {
                throw Errno.failure("shutdown", "fd=" + fd + ", SHUT_RDWR");
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Bounds how long {@link #receive} blocks ({@code SO_RCVTIMEO}); on expiry it throws
     * {@link java.net.SocketTimeoutException}. {@link Duration#ZERO} waits without limit again.
     */
    public void setReceiveTimeout(Duration timeout) throws NativeException {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout: " + timeout);
        }
        long seconds = timeout.getSeconds();
        long micros = (timeout.getNano() + 999) / 1000; // round up: 1 ns must not mean "forever"
        if (micros == 1_000_000) {
            seconds++;
            micros = 0;
        }
        int fd = gate.enter();
        try {
            Scratch timeval = Scratch.get();
            timeval.setLong(0, seconds);
            timeval.setLong(8, micros);
            if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, timeval.address(), 16) < 0) {
                throw Errno.failure("setsockopt", "fd=" + fd + ", SO_RCVTIMEO");
            }
        } finally {
            gate.exit();
        }
    }

    /** The process id of the peer when it connected ({@code SO_PEERCRED}), for logs and access checks. */
    public int peerPid() throws NativeException {
        int fd = gate.enter();
        try {
            Scratch ucred = Scratch.get(); // struct ucred { pid_t pid; uid_t uid; gid_t gid; } at 0, length at 16
            ucred.setInt(16, 12);
            if (LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERCRED, ucred.address(), ucred.address() + 16) < 0) {
                throw Errno.failure("getsockopt", "fd=" + fd + ", SO_PEERCRED");
            }
            return ucred.getInt(0);
        } finally {
            gate.exit();
        }
    }

    /**
     * The descriptor, still owned by this socket: for epoll. Do not close it, and do not read or write
     * it while {@link #receive}/{@link #send} may run.
     */
    public NativeFd fd() {
        return gate.fd();
    }

    /**
     * Closes once; later calls do nothing. If another thread is blocked in this socket, the socket is
     * first shut down ({@code SHUT_RDWR}) to wake it, and the descriptor is closed when it has left.
     */
    @Override
    public void close() {
        gate.close(fd -> LibC.shutdown(fd, LibC.SHUT_RDWR));
    }

    /** A failure caused by our own concurrent close() is reported as such, not as a random errno. */
    private IOException closedOr(NativeException e) {
        if (gate.isClosing()) {
            SocketException closed = new SocketException("socket closed");
            closed.initCause(e);
            return closed;
        }
        return e;
    }

    @Override
    public String toString() {
        return "UnixSocket[" + gate.fd() + "]";
    }
}
