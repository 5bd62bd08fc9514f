package org.jvirtio.nativeio.internal;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;

/**
 * One direction of a Unix stream socket: a native block holding a {@code struct msghdr}, one
 * {@code struct iovec}, room for an {@code SCM_RIGHTS} control message and a data staging area, so that
 * {@code sendmsg}/{@code recvmsg} allocate nothing per call. Data is copied through the staging area,
 * which serves heap and direct buffers alike; these are control-plane messages of a few hundred bytes.
 *
 * <p>Layout (x86-64, all offsets in bytes):
 * <pre>
 *   0  msghdr   msg_name 0 | msg_namelen 8 | msg_iov 16 | msg_iovlen 24 | msg_control 32
 *               | msg_controllen 40 | msg_flags 48          (56 bytes)
 *  56  iovec    iov_base 0 | iov_len 8                      (16 bytes)
 *  72  control  cmsghdr: cmsg_len 0 (size_t) | cmsg_level 8 | cmsg_type 12 | int fds[] 16
 *               sized CMSG_SPACE(4 * MAX_FDS)
 *   .. data     DATA_CAPACITY bytes
 * </pre>
 *
 * One thread at a time per direction: the methods are synchronized on the buffer.
 */
public final class MessageBuffer {

    /** SCM_MAX_FD: the kernel refuses more descriptors in one message. */
    public static final int MAX_FDS = 253;
    /** Bytes moved per system call; longer messages take several. */
    public static final int DATA_CAPACITY = 16 * 1024;

    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    private static final int IOV = 56;
    private static final int IOV_BASE = IOV;
    private static final int IOV_LEN = IOV + 8;
    private static final int CONTROL = 72;
    private static final int CMSG_HEADER = 16;
    private static final int CMSG_LEVEL = 8;
    private static final int CMSG_TYPE = 12;
    private static final int CONTROL_CAPACITY = cmsgSpace(4 * MAX_FDS);
    private static final int DATA = CONTROL + CONTROL_CAPACITY;

    private final Memory memory = new Memory(DATA + DATA_CAPACITY);
    private final long base = Pointer.nativeValue(memory);
    /** The staging area as a ByteBuffer, for bulk copies from and to heap or direct buffers. */
    private final ByteBuffer staging = memory.getByteBuffer(DATA, DATA_CAPACITY);

    /** CMSG_LEN: header plus payload, what cmsg_len holds. */
    private static int cmsgLen(int payload) {
        return CMSG_HEADER + payload;
    }

    /** CMSG_SPACE: header plus payload rounded up to 8, the room a message takes. */
    private static int cmsgSpace(int payload) {
        return CMSG_HEADER + ((payload + 7) & ~7);
    }

    /**
     * One {@code sendmsg}: up to {@link #DATA_CAPACITY} bytes from {@code src} (its position advances
     * by what the kernel took) plus, if {@code fds} is non-empty, one {@code SCM_RIGHTS} message.
     * {@code MSG_NOSIGNAL}: a vanished peer is an {@code EPIPE}, not a SIGPIPE for the whole JVM.
     *
     * @return bytes sent (at least 1)
     */
    public synchronized int send(int fd, ByteBuffer src, NativeFd[] fds) throws NativeException {
        int n = Math.min(src.remaining(), DATA_CAPACITY);
        staging.put(0, src, src.position(), n);
        memory.setLong(MSG_NAME, 0);
        memory.setInt(MSG_NAMELEN, 0);
        memory.setLong(MSG_IOV, base + IOV);
        memory.setLong(MSG_IOVLEN, 1);
        memory.setLong(IOV_BASE, base + DATA);
        memory.setLong(IOV_LEN, n);
        if (fds.length > 0) {
            memory.setLong(CONTROL, cmsgLen(4 * fds.length));
            memory.setInt(CONTROL + CMSG_LEVEL, LibC.SOL_SOCKET);
            memory.setInt(CONTROL + CMSG_TYPE, LibC.SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                memory.setInt(CONTROL + CMSG_HEADER + 4L * i, fds[i].value());
            }
            memory.setLong(MSG_CONTROL, base + CONTROL);
            memory.setLong(MSG_CONTROLLEN, cmsgSpace(4 * fds.length));
        } else {
            memory.setLong(MSG_CONTROL, 0);
            memory.setLong(MSG_CONTROLLEN, 0);
        }
        memory.setInt(MSG_FLAGS, 0);
        for (;;) {
            long sent = LibC.sendmsg(fd, base, LibC.MSG_NOSIGNAL);
            if (sent >= 0) {
                src.position(src.position() + (int) sent);
                return (int) sent;
            }
            if (Errno.last() != Errno.EINTR) {
                throw Errno.failure("sendmsg", "fd=" + fd + ", len=" + n + ", fds=" + fds.length);
            }
        }
    }

    /**
     * One {@code recvmsg} of up to {@code min(dst.remaining(), DATA_CAPACITY)} bytes, appending
     * received descriptors to {@code out} as owned {@link NativeFd}s (close-on-exec from the start).
     * The control area offered is exactly {@code CMSG_LEN(4 * maxFds)}, so the kernel installs at
     * most {@code maxFds} descriptors and drops the rest, flagging {@code MSG_CTRUNC}.
     *
     * @return bytes received, or -1 at end of stream
     * @throws IOException when the control message was truncated: the bytes that came with it are in
     *         {@code dst}, the descriptors that arrived are already closed, the stream is out of step
     * @throws SocketTimeoutException when a receive timeout expired first
     */
    public synchronized int receive(int fd, ByteBuffer dst, List<NativeFd> out, int maxFds) throws IOException {
        int capacity = Math.min(dst.remaining(), DATA_CAPACITY);
        int cap = Math.min(maxFds, MAX_FDS);
        memory.setLong(MSG_NAME, 0);
        memory.setInt(MSG_NAMELEN, 0);
        memory.setLong(MSG_IOV, base + IOV);
        memory.setLong(MSG_IOVLEN, 1);
        memory.setLong(IOV_BASE, base + DATA);
        memory.setLong(IOV_LEN, capacity);
        memory.setLong(MSG_CONTROL, cap > 0 ? base + CONTROL : 0);
        memory.setLong(MSG_CONTROLLEN, cap > 0 ? cmsgLen(4 * cap) : 0);
        memory.setInt(MSG_FLAGS, 0);
        long received;
        for (;;) {
            received = LibC.recvmsg(fd, base, LibC.MSG_CMSG_CLOEXEC);
            if (received >= 0) {
                break;
            }
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                throw new SocketTimeoutException("recvmsg(fd=" + fd + "): no data before the receive timeout");
            }
            if (errno != Errno.EINTR) {
                throw new NativeException("recvmsg", "fd=" + fd + ", len=" + capacity, errno);
            }
        }
        int first = out.size();
        int arrived = adoptDescriptors(out);
        boolean truncated = (memory.getInt(MSG_FLAGS) & LibC.MSG_CTRUNC) != 0 || arrived > cap;
        if (received > 0) {
            dst.put(dst.position(), staging, 0, (int) received);
            dst.position(dst.position() + (int) received);
        }
        if (truncated) {
            closeFrom(out, first);
            throw new IOException("recvmsg(fd=" + fd + "): control message truncated (MSG_CTRUNC): the peer sent more"
                    + " than maxFds=" + maxFds + " file descriptors; the " + arrived + " that arrived were closed");
        }
        return received == 0 ? -1 : (int) received;
    }

    /** Walks the returned control messages and adopts every SCM_RIGHTS descriptor; returns how many. */
    private int adoptDescriptors(List<NativeFd> out) {
        long length = memory.getLong(MSG_CONTROLLEN);
        if (memory.getLong(MSG_CONTROL) == 0) {
            return 0;
        }
        int count = 0;
        long offset = 0;
        while (offset + CMSG_HEADER <= length) {
            long cmsgLen = memory.getLong(CONTROL + offset);
            if (cmsgLen < CMSG_HEADER || offset + cmsgLen > length) {
                break;
            }
            if (memory.getInt(CONTROL + offset + CMSG_LEVEL) == LibC.SOL_SOCKET
                    && memory.getInt(CONTROL + offset + CMSG_TYPE) == LibC.SCM_RIGHTS) {
                int n = (int) ((cmsgLen - CMSG_HEADER) / 4);
                for (int i = 0; i < n; i++) {
                    out.add(NativeFd.adopt(memory.getInt(CONTROL + offset + CMSG_HEADER + 4L * i)));
                    count++;
                }
            }
            offset += (cmsgLen + 7) & ~7L;
        }
        return count;
    }

    /** Closes and removes the descriptors from index {@code first} on: undoing a failed receive. */
    public static void closeFrom(List<NativeFd> fds, int first) {
        while (fds.size() > first) {
            fds.remove(fds.size() - 1).close();
        }
    }

    /** Frees the native block; only once no call can still be using it. */
    public void free() {
        memory.close();
    }
}
