package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/**
 * The QEMU side of an mpqemu channel, written by hand: sends whatever bytes and descriptors a test
 * wants, well-formed or not, and reads RET replies. A reply that does not come within 10 s fails the
 * test instead of hanging it.
 */
final class RawPeer implements AutoCloseable {
    final UnixSocket socket;

    RawPeer(UnixSocket socket) throws IOException {
        this.socket = socket;
        socket.setReceiveTimeout(Duration.ofSeconds(10));
    }

    static ByteBuffer message(int command, long size, ByteBuffer payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(command).putInt(0).putLong(size).put(payload.duplicate());
        return b.flip();
    }

    void send(ByteBuffer bytes, NativeFd... fds) throws IOException {
        socket.send(bytes.duplicate(), fds);
    }

    void send(int command, ByteBuffer payload, NativeFd... fds) throws IOException {
        send(message(command, payload.remaining(), payload), fds);
    }

    static ByteBuffer config(int address, int value, int length) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(address).putInt(value).putInt(length).flip();
    }

    static ByteBuffer bar(long address, long value, int size, boolean memory) {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(address).putLong(value).putInt(size).put((byte) (memory ? 1 : 0));
        return b.clear();
    }

    static ByteBuffer sysmem(long[] gpas, long[] sizes, long[] offsets) {
        ByteBuffer b = ByteBuffer.allocate(192).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < gpas.length; i++) {
            b.putLong(8 * i, gpas[i]).putLong(64 + 8 * i, sizes[i]).putLong(128 + 8 * i, offsets[i]);
        }
        return b;
    }

    /** Reads one RET and returns its value. */
    long ret() throws IOException {
        ByteBuffer r = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        List<NativeFd> fds = new ArrayList<>();
        socket.receiveFully(r, fds, 0);
        if (r.getInt(0) != Command.RET.code() || r.getLong(8) != 8) {
            throw new IOException("not a RET: cmd " + r.getInt(0) + ", size " + r.getLong(8));
        }
        return r.getLong(16);
    }

    long configRead(int address, int length) throws IOException {
        send(Command.PCI_CFGREAD.code(), config(address, 0, length));
        return ret();
    }

    void configWrite(int address, int value, int length) throws IOException {
        send(Command.PCI_CFGWRITE.code(), config(address, value, length));
        if (ret() != 0) {
            throw new IOException("config write not acknowledged with 0");
        }
    }

    long barRead(long address, int size) throws IOException {
        send(Command.BAR_READ.code(), bar(address, 0, size, true));
        return ret();
    }

    void barWrite(long address, long value, int size) throws IOException {
        send(Command.BAR_WRITE.code(), bar(address, value, size, true));
        ret();
    }

    @Override
    public void close() {
        socket.close();
    }
}
