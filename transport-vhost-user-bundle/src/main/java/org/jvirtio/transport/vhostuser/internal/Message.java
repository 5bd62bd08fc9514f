package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/**
 * One vhost-user message as it travels: a 12-byte header (request u32, flags u32, size u32), a
 * payload of {@code size} bytes in the machine's byte order (little-endian on x86-64), and the file
 * descriptors that came with its first byte.
 *
 * <pre>
 *  0         4         8         12
 *  +---------+---------+---------+----------------+
 *  | request |  flags  |  size   | payload ...    |
 *  +---------+---------+---------+----------------+
 *  flags: bits 0-1 version (1), bit 2 REPLY, bit 3 NEED_REPLY
 * </pre>
 *
 * <p>A received message owns its descriptors: whoever takes one sets its slot to null, and
 * {@link #closeFds()} closes the rest.
 */
public final class Message {
    public static final int HEADER_SIZE = 12;
    public static final int VERSION = 1;
    public static final int VERSION_MASK = 0x3;
    public static final int FLAG_REPLY = 0x4;
    public static final int FLAG_NEED_REPLY = 0x8;
    /** At most this many descriptors per message (VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_FDS = 8;
    /** Largest payload accepted: the biggest legal one is GET_CONFIG, 12 + 256 bytes. */
    public static final int MAX_PAYLOAD = 4096;

    private final int request;
    private final int flags;
    private final ByteBuffer payload;
    private final List<NativeFd> fds;

    public Message(int request, int flags, ByteBuffer payload, List<NativeFd> fds) {
        this.request = request;
        this.flags = flags;
        this.payload = payload.order(ByteOrder.LITTLE_ENDIAN);
        this.fds = fds;
    }

    public int request() {
        return request;
    }

    public int flags() {
        return flags;
    }

    public boolean needsReply() {
        return (flags & FLAG_NEED_REPLY) != 0;
    }

    /** The payload, position 0, limit its size. */
    public ByteBuffer payload() {
        return payload;
    }

    public int size() {
        return payload.limit();
    }

    public int fdCount() {
        return fds.size();
    }

    /** Takes ownership of descriptor {@code i}. */
    public NativeFd takeFd(int i) {
        NativeFd fd = fds.get(i);
        fds.set(i, null);
        return fd;
    }

    /** Closes every descriptor nobody took. */
    public void closeFds() {
        for (int i = 0; i < fds.size(); i++) {
            NativeFd fd = fds.get(i);
            if (fd != null) {
                fd.close();
                fds.set(i, null);
            }
        }
    }

    /** A little-endian payload buffer of {@code size} bytes. */
    public static ByteBuffer allocate(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads one message. Malformed framing (a size over {@link #MAX_PAYLOAD}, a wrong version, more
     * than {@link #MAX_FDS} descriptors) cannot be answered, since the stream can no longer be
     * trusted to be in step: it throws {@link ProtocolException} and the connection ends.
     *
     * @return null at a clean end of stream (before the first header byte)
     */
    public static Message read(UnixSocket socket) throws IOException {
        ByteBuffer header = allocate(HEADER_SIZE);
        List<NativeFd> fds = new ArrayList<>(2);
        boolean ok = false;
        try {
            if (socket.receive(header, fds, MAX_FDS) < 0) {
                return null;
            }
            socket.receiveFully(header, fds, MAX_FDS - fds.size());
            int request = header.getInt(0);
            int flags = header.getInt(4);
            int size = header.getInt(8);
            if ((flags & VERSION_MASK) != VERSION) {
                throw new ProtocolException("request " + request + ": version " + (flags & VERSION_MASK) + ", expected 1");
            }
            if (size < 0 || size > MAX_PAYLOAD) {
                throw new ProtocolException("request " + request + ": payload of " + Integer.toUnsignedString(size)
                        + " bytes, at most " + MAX_PAYLOAD);
            }
            ByteBuffer payload = allocate(size);
            // Descriptors travel with the first byte, i.e. the header; any with the payload are a violation.
            socket.receiveFully(payload, fds, 0);
            payload.flip();
            ok = true;
            return new Message(request, flags, payload, fds);
        } finally {
            if (!ok) {
                fds.forEach(NativeFd::close);
            }
        }
    }

    /** Writes one message with {@code fds} attached to its first byte. */
    public static void write(UnixSocket socket, int request, int flags, ByteBuffer payload, NativeFd... fds)
            throws IOException {
        ByteBuffer body = payload.duplicate();
        body.position(0);
        int size = payload.limit();
        ByteBuffer frame = allocate(HEADER_SIZE + size);
        frame.putInt(request).putInt(flags).putInt(size).put(body.limit(size));
        frame.flip();
        socket.send(frame, fds);
    }
}
