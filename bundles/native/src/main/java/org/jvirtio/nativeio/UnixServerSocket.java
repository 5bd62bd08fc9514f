package org.jvirtio.nativeio;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.FdGate;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.UnixAddress;

/**
 * A listening Unix stream socket at a filesystem path: the vhost-user back-end's end, where QEMU (or a
 * test front-end) connects.
 *
 * <p><b>Closing ends a blocked accept.</b> {@link #close()} from another thread first shuts the
 * listening socket down ({@code shutdown(SHUT_RDWR)}), on which Linux makes a blocked {@code accept}
 * return {@code EINVAL}; {@link #accept()} then throws a {@link SocketException}. The descriptor itself is
 * closed only after that accept has returned, so its number cannot be reused under it.
 *
 * <p>Thread safety: all methods may be called from any thread; several threads may accept at once.
 */
public final class UnixServerSocket implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("org.jvirtio.nativeio");
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final FdGate gate;
    private final Path path;
    /** Identity (device, inode) of the socket file bound here; close() unlinks only that file. */
    private final Object fileKey;

    private UnixServerSocket(NativeFd fd, Path path, Object fileKey) {
        this.gate = new FdGate(fd, fd::close);
        this.path = path;
        this.fileKey = fileKey;
    }

    /**
     * Binds and listens at {@code path} (close-on-exec). A socket file left there by a process that has
     * gone is removed first: only if it is a socket, and only if nobody accepts connections on it any
     * more (a live server makes this fail with {@code EADDRINUSE} rather than lose its path). Any other
     * kind of file is left alone and bind fails with {@code EADDRINUSE}.
     *
     * @throws IllegalArgumentException if the path does not fit in {@code sun_path} (107 bytes)
     */
    public static UnixServerSocket bind(Path path, int backlog) throws IOException {
        byte[] address = UnixAddress.of(path);
        removeStaleSocket(path);
        NativeFd fd = UnixSocket.newSocket();
        try {
            int raw = fd.value();
            if (LibC.bind(raw, address, address.length) < 0) {
                throw Errno.failure("bind", path.toString());
            }
            if (LibC.listen(raw, backlog) < 0) {
                NativeException failure = Errno.failure("listen", path + ", backlog=" + backlog);
                Files.deleteIfExists(path);
                throw failure;
            }
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return new UnixServerSocket(fd, path, key);
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static void removeStaleSocket(Path path) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if ((mode & S_IFMT) != S_IFSOCK) {
            return;
        }
        // A socket file outlives its server. Whether someone still listens shows only by connecting;
        // a live server sees one connection that ends at once, which beats losing its path to us.
        boolean live;
        try (UnixSocket probe = UnixSocket.connect(path)) {
            live = true;
        } catch (NativeException e) {
            if (e.errno() != Errno.ECONNREFUSED && e.errno() != Errno.ENOENT) {
                throw new NativeException("bind", path + ", probing the existing socket: " + e.getMessage(),
                        Errno.EADDRINUSE);
            }
            live = false;
        }
        if (live) {
            throw new NativeException("bind", path + ", a server is still accepting connections there",
                    Errno.EADDRINUSE);
        }
        Files.deleteIfExists(path);
    }

    /** The path this socket is bound to. */
    public Path path() {
        return path;
    }

    /**
     * Waits for a connection and returns it (close-on-exec).
     *
     * @throws SocketException       if {@link #close()} was called before or during the wait
     * @throws IllegalStateException if closed before this call
     */
    public UnixSocket accept() throws IOException {
        int fd = gate.enter();
        try {
            for (;;) {
                int client = LibC.accept4(fd, 0, 0, LibC.SOCK_CLOEXEC);
                if (client >= 0) {
                    NativeFd accepted = NativeFd.adopt(client);
                    if (gate.isClosing()) {
                        accepted.close();
                        throw new SocketException("server socket closed");
                    }
                    return UnixSocket.adopt(accepted);
                }
                int errno = Errno.last();
                if (gate.isClosing()) {
                    throw new SocketException("server socket closed");
                }
                // EINTR: a signal; ECONNABORTED: the client gave up while queued. Neither ends accepting.
                if (errno != Errno.EINTR && errno != Errno.ECONNABORTED) {
                    throw new NativeException("accept4", path.toString(), errno);
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Stops listening and removes the socket file, once; later calls do nothing. A blocked
     * {@link #accept()} is woken and throws. The file is removed only if it is still the one this socket
     * created, so a successor bound to the same path keeps its socket.
     */
    @Override
    public void close() {
        if (!gate.close(fd -> LibC.shutdown(fd, LibC.SHUT_RDWR))) {
            return;
        }
        try {
            Object current = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(current, fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException e) {
            // Already gone: removed by someone else, nothing to do.
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not remove socket file " + path, e);
        }
    }

    @Override
    public String toString() {
        return "UnixServerSocket[" + path + ", " + gate.fd() + "]";
    }
}
