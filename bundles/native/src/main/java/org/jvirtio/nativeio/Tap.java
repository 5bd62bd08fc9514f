package org.jvirtio.nativeio;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import org.jvirtio.nativeio.internal.DirectBuffers;
import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.FdGate;
import org.jvirtio.nativeio.internal.IoVector;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.Scratch;

/**
 * A Linux TAP interface ({@code /dev/net/tun} with {@code IFF_TAP | IFF_NO_PI}): Ethernet frames written
 * here enter the host's network stack as if received on the interface, and frames the stack sends out
 * of it are read here. The backend of a virtio-net device that gives a guest the host's network.
 *
 * <p>With a vnet header ({@code IFF_VNET_HDR}), every frame read or written is preceded by a
 * {@value #VNET_HEADER_SIZE}-byte {@code struct virtio_net_hdr_mrg_rxbuf} (virtio 1.x, little-endian:
 * flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers), so guest buffers can be
 * passed through unchanged and checksum and segmentation offloads ({@link #setOffload}) work. On reads
 * the kernel writes all 12 bytes with {@code num_buffers} 0: a device using mergeable receive buffers
 * sets it.
 *
 * <p>The descriptor is non-blocking: wait for it with {@link Epoll} on {@link #fd()}. {@link #read} and
 * {@link #write} take direct buffers (guest memory slices are) and allocate nothing. Each read returns
 * one whole frame, each write sends one; a frame longer than the buffer is cut short by the kernel,
 * silently, so read into room for the header plus 65 535 bytes when offloads are on (MTU plus header
 * otherwise).
 *
 * <p>The interface lives as long as this object unless made {@linkplain #persist persistent}:
 * {@link #close()} removes it. Thread safety: one thread may read while another writes; {@link #close()}
 * may be called from any thread, also during a read or write, and the descriptor is released when those
 * have returned.
 */
public final class Tap implements AutoCloseable {

    /** Size of the vnet header in front of every frame when one was asked for. */
    public static final int VNET_HEADER_SIZE = 12;

    /** {@code TUN_F_CSUM}: the other side accepts frames with a partial checksum. */
    public static final int OFFLOAD_CSUM = 0x01;
    /** {@code TUN_F_TSO4}: TCP segmentation offload for IPv4 (needs {@link #OFFLOAD_CSUM}). */
    public static final int OFFLOAD_TSO4 = 0x02;
    /** {@code TUN_F_TSO6}: TCP segmentation offload for IPv6 (needs {@link #OFFLOAD_CSUM}). */
    public static final int OFFLOAD_TSO6 = 0x04;
    /** {@code TUN_F_TSO_ECN}: TSO with the ECN bit set (needs a TSO flag). */
    public static final int OFFLOAD_TSO_ECN = 0x08;
    /** {@code TUN_F_UFO}: UDP fragmentation offload; the kernel accepts it but no longer produces it. */
    public static final int OFFLOAD_UFO = 0x10;
    /** {@code TUN_F_USO4}: UDP segmentation offload for IPv4 (with {@link #OFFLOAD_USO6} and CSUM). */
    public static final int OFFLOAD_USO4 = 0x20;
    /** {@code TUN_F_USO6}: UDP segmentation offload for IPv6 (with {@link #OFFLOAD_USO4} and CSUM). */
    public static final int OFFLOAD_USO6 = 0x40;

    private static final String TUN_DEVICE = "/dev/net/tun";
    private static final int MAX_NAME_BYTES = LibC.IFNAMSIZ - 1;

    private final FdGate gate;
    private final String name;
    private final int vnetHeaderSize;
    private final IoVector readVector = new IoVector();
    private final IoVector writeVector = new IoVector();

    private Tap(NativeFd fd, String name, int vnetHeaderSize) {
        this.name = name;
        this.vnetHeaderSize = vnetHeaderSize;
        this.gate = new FdGate(fd, () -> {
            fd.close();
            readVector.free();
            writeVector.free();
        });
    }

    /**
     * Creates a TAP interface, or attaches to an existing one that nobody has open (a
     * {@linkplain #persist persistent} one), non-blocking and close-on-exec. The interface starts down;
     * bring it up and address it with the usual tools. Needs {@code CAP_NET_ADMIN} to create.
     *
     * @param ifname     the interface name, at most 15 bytes; a pattern with {@code %d} (e.g.
     *                   {@code "jv%d"}) lets the kernel pick the first free number; null or empty means
     *                   {@code "tap%d"}
     * @param vnetHeader frames carry a {@value #VNET_HEADER_SIZE}-byte virtio-net header
     *                   ({@code IFF_VNET_HDR}, {@code TUNSETVNETHDRSZ} 12)
     * @return the open interface; {@link #name()} is the name the kernel assigned
     * @throws IllegalArgumentException if the name is too long or contains a NUL
     * @throws NativeException          e.g. {@code ENOENT} without {@code /dev/net/tun}, {@code EPERM} without
     *                                  {@code CAP_NET_ADMIN}, {@code EBUSY} if the interface is open already,
     *                                  {@code EINVAL} if a device of that name is not a TAP
     */
    public static Tap open(String ifname, boolean vnetHeader) throws NativeException {
        byte[] requested = ifname == null ? new byte[0] : ifname.getBytes(StandardCharsets.UTF_8);
        if (requested.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("interface name longer than " + MAX_NAME_BYTES + " bytes: " + ifname);
        }
        for (byte b : requested) {
            if (b == 0) {
                throw new IllegalArgumentException("interface name contains NUL: " + ifname);
            }
        }
        int raw = LibC.open(TUN_DEVICE, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (raw < 0) {
            throw Errno.failure("open", TUN_DEVICE);
        }
        NativeFd fd = NativeFd.adopt(raw);
        try (Memory ifreq = new Memory(LibC.IFREQ_SIZE)) {
            ifreq.clear();
            ifreq.write(0, requested, 0, requested.length);
            short flags = (short) (LibC.IFF_TAP | LibC.IFF_NO_PI | (vnetHeader ? LibC.IFF_VNET_HDR : 0));
            ifreq.setShort(LibC.IFREQ_FLAGS, flags);
            if (LibC.ioctl(raw, LibC.TUNSETIFF, Pointer.nativeValue(ifreq)) < 0) {
                throw Errno.failure("ioctl", "TUNSETIFF, name=" + ifname
                        + (vnetHeader ? ", IFF_TAP|IFF_NO_PI|IFF_VNET_HDR" : ", IFF_TAP|IFF_NO_PI"));
            }
            // The kernel wrote the name it chose back into ifr_name.
            String assigned = ifreq.getString(0, StandardCharsets.UTF_8.name());
            if (vnetHeader) {
                Scratch size = Scratch.get();
                size.setInt(0, VNET_HEADER_SIZE);
                if (LibC.ioctl(raw, LibC.TUNSETVNETHDRSZ, size.address()) < 0) {
                    throw Errno.failure("ioctl", "TUNSETVNETHDRSZ " + VNET_HEADER_SIZE + ", name=" + assigned);
                }
            }
            return new Tap(fd, assigned, vnetHeader ? VNET_HEADER_SIZE : 0);
        } catch (NativeException | RuntimeException e) {
            fd.close(); // an interface created above goes with it (it is not persistent yet)
            throw e;
        }
    }

    /** The interface name the kernel assigned, e.g. {@code "jv0"} for {@code "jv%d"}. */
    public String name() {
        return name;
    }

    /** {@value #VNET_HEADER_SIZE} if frames carry a vnet header, else 0. */
    public int vnetHeaderSize() {
        return vnetHeaderSize;
    }

    /**
     * Tells the kernel which offloads the reader of this TAP handles ({@code TUNSETOFFLOAD}): with
     * {@link #OFFLOAD_CSUM} it may hand over frames with a partial checksum, with TSO/USO frames larger
     * than the MTU, described by the vnet header. 0 turns all off. Only useful with a vnet header.
     *
     * @param flags {@code OFFLOAD_*} constants, or'ed
     * @throws NativeException {@code EINVAL} for flags the kernel does not know or combinations it refuses
     *                         (TSO or USO without CSUM)
     */
    public void setOffload(int flags) throws NativeException {
        int fd = gate.enter();
        try {
            if (LibC.ioctl(fd, LibC.TUNSETOFFLOAD, Integer.toUnsignedLong(flags)) < 0) {
                throw Errno.failure("ioctl", "TUNSETOFFLOAD 0x" + Integer.toHexString(flags) + ", name=" + name);
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Whether the interface outlives its descriptor ({@code TUNSETPERSIST}). False for a newly created
     * one: closing removes it. A persistent interface stays until {@code ip link delete} or until an
     * owner sets this back to false and closes.
     */
    public void persist(boolean persistent) throws NativeException {
        int fd = gate.enter();
        try {
            if (LibC.ioctl(fd, LibC.TUNSETPERSIST, persistent ? 1 : 0) < 0) {
                throw Errno.failure("ioctl", "TUNSETPERSIST " + persistent + ", name=" + name);
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Reads one frame (with its vnet header, if any) into {@code dst} from its position; the position
     * advances by the bytes read.
     *
     * @param dst a direct, writable buffer
     * @return the bytes read, or 0 if no frame is waiting ({@code EAGAIN}); frames are never empty, so 0
     *         is unambiguous
     * @throws IllegalArgumentException if {@code dst} is not direct
     * @throws ReadOnlyBufferException  if {@code dst} is read-only
     * @throws NativeException          e.g. {@code EINVAL} if {@code dst} cannot hold a vnet header,
     *                                  {@code EBADFD} once the interface was deleted
     * @throws IllegalStateException    once closed
     */
    public int read(ByteBuffer dst) throws NativeException {
        DirectBuffers.check(dst, true);
        int fd = gate.enter();
        try {
            for (;;) {
                long n = LibC.read(fd, dst, dst.remaining());
                if (n >= 0) {
                    dst.position(dst.position() + (int) n);
                    return (int) n;
                }
                int errno = Errno.last();
                if (errno == Errno.EAGAIN) {
                    return 0;
                }
                if (errno != Errno.EINTR) {
                    throw new NativeException("read", "tap=" + name + ", len=" + dst.remaining(), errno);
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Writes one frame (with its vnet header, if any) from {@code src}'s remaining bytes; the position
     * advances by the bytes written.
     *
     * @param src a direct buffer holding exactly one frame
     * @return the bytes written (all of them), or 0 if the kernel would block ({@code EAGAIN}; a TAP
     *         normally drops instead)
     * @throws IllegalArgumentException if {@code src} is not direct
     * @throws NativeException          e.g. {@code EINVAL} for a frame shorter than its headers or with a
     *                                  malformed vnet header, {@code EIO} if the interface is down
     * @throws IllegalStateException    once closed
     */
    public int write(ByteBuffer src) throws NativeException {
        DirectBuffers.check(src, false);
        int fd = gate.enter();
        try {
            for (;;) {
                long n = LibC.write(fd, src, src.remaining());
                if (n >= 0) {
                    src.position(src.position() + (int) n);
                    return (int) n;
                }
                int errno = Errno.last();
                if (errno == Errno.EAGAIN) {
                    return 0;
                }
                if (errno != Errno.EINTR) {
                    throw new NativeException("write", "tap=" + name + ", len=" + src.remaining(), errno);
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Reads one frame scattered over {@code dsts[offset .. offset + length)} ({@code readv}), filling
     * each buffer's remaining bytes before the next: e.g. the vnet header into one buffer and the frame
     * into others. Positions advance by what each received.
     *
     * @return the bytes read, or 0 if no frame is waiting
     * @throws IllegalArgumentException if a buffer is not direct, or more than 1024 are given
     * @see #read(ByteBuffer)
     */
    public long read(ByteBuffer[] dsts, int offset, int length) throws NativeException {
        int fd = gate.enter();
        try {
            synchronized (readVector) {
                int count = readVector.fill(dsts, offset, length, true);
                for (;;) {
                    long n = LibC.readv(fd, readVector.address(), count);
                    if (n >= 0) {
                        IoVector.advance(dsts, offset, length, n);
                        return n;
                    }
                    int errno = Errno.last();
                    if (errno == Errno.EAGAIN) {
                        return 0;
                    }
                    if (errno != Errno.EINTR) {
                        throw new NativeException("readv", "tap=" + name + ", iovcnt=" + count, errno);
                    }
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Writes one frame gathered from the remaining bytes of {@code srcs[offset .. offset + length)}
     * ({@code writev}). Positions advance by what was taken from each.
     *
     * @return the bytes written, or 0 if the kernel would block
     * @throws IllegalArgumentException if a buffer is not direct, or more than 1024 are given
     * @see #write(ByteBuffer)
     */
    public long write(ByteBuffer[] srcs, int offset, int length) throws NativeException {
        int fd = gate.enter();
        try {
            synchronized (writeVector) {
                int count = writeVector.fill(srcs, offset, length, false);
                for (;;) {
                    long n = LibC.writev(fd, writeVector.address(), count);
                    if (n >= 0) {
                        IoVector.advance(srcs, offset, length, n);
                        return n;
                    }
                    int errno = Errno.last();
                    if (errno == Errno.EAGAIN) {
                        return 0;
                    }
                    if (errno != Errno.EINTR) {
                        throw new NativeException("writev", "tap=" + name + ", iovcnt=" + count, errno);
                    }
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * The descriptor, still owned by this object: for {@link Epoll} ({@link Epoll#IN} when a frame is
     * waiting). Remove it from any epoll before {@link #close()}.
     */
    public NativeFd fd() {
        return gate.fd();
    }

    /**
     * Closes the descriptor the first time, which removes the interface unless it is persistent;
     * afterwards does nothing. Reads and writes in progress on other threads finish first.
     */
    @Override
    public void close() {
        gate.close(fd -> { });
    }

    @Override
    public String toString() {
        return "Tap[" + name + ", " + gate.fd() + "]";
    }
}
