package org.jvirtio.vring.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * Turns arbitrary bytes into a ring written by a hostile driver (split or packed, any features), then
 * runs the device side over it as a worker would. Whatever the bytes, the device must not throw, must
 * stop within a bounded number of pops, must only hand out buffers inside guest memory, and must never
 * touch host memory next to the guest region. Any violation throws {@link AssertionError}.
 */
final class RingFuzzTarget {
    private static final int MEMORY = 64 * 1024;
    /** Bytes of guest memory the input fills verbatim: indirect tables and buffers point into it. */
    private static final int SCRATCH = 4096;

    private RingFuzzTarget() {
    }

    static void run(byte[] data) {
        Input in = new Input(data);
        int mode = in.u8();
        boolean packed = (mode & 1) != 0;
        long features = ((mode & 2) != 0 ? VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) : 0)
                | ((mode & 4) != 0 ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0)
                | ((mode & 8) != 0 ? VirtioFeature.bit(VirtioFeature.IN_ORDER) : 0)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        int size = packed ? 1 + in.u8() % 64 : 1 << (in.u8() % 7);

        TestMemory memory = new TestMemory(MEMORY);
        GuestMemory map = memory.map();
        QueueConfig config = RingPlacement.place(memory, size);
        long scratch = memory.allocate(SCRATCH, 16);
        for (int i = 0; i < SCRATCH; i++) {
            map.putByte(scratch + i, (byte) in.u8());
        }
        for (int i = 0; i < size; i++) {
            long at = config.descriptorTable() + 16L * i;
            map.putLong(at, address(in, memory, scratch));
            map.putInt(at + 8, in.bit() ? in.u32() : in.u8() * 16);
            int flags = in.u16();
            int nextOrId = packed ? in.u16() : in.u16() % (size + 2);
            // split: flags at +12, next at +14; packed: id at +12, flags at +14
            map.putShort(at + 12, (short) (packed ? nextOrId : flags));
            map.putShort(at + 14, (short) (packed ? flags : nextOrId));
        }
        if (packed) {
            map.putShort(config.driverArea(), (short) in.u16());
            map.putShort(config.driverArea() + 2, (short) in.u16());
        } else {
            for (int i = 0; i < size; i++) {
                map.putShort(config.driverArea() + 4 + 2L * i, (short) (in.u8() % (size + 2)));
            }
            map.putShort(config.driverArea(), (short) in.u8());
            map.putShort(config.driverArea() + 4 + 2L * size, (short) in.u16());
            map.putShortRelease(config.driverArea() + 2, (short) (in.bit() ? in.u16() : in.u8() % (size + 2)));
        }

        DeviceVring queue;
        try {
            queue = Vrings.device(config, features, map, position(in, packed, size), position(in, packed, size));
        } catch (VringSetupException e) {
            throw new AssertionError("rings were placed correctly: " + e.getMessage(), e);
        }
        DescriptorChain chain = queue.newChain();
        int pops = 0;
        for (int round = 0; round < 3; round++) {
            queue.disableNotifications();
            while (queue.pop(chain)) {
                if (++pops > 4 * size + 4) {
                    throw new AssertionError("device popped more chains than the driver could have made available");
                }
                checkInsideMemory(chain, map);
                scribble(chain, map);
                long written = Math.min(chain.writableBytes(), 0x7FFF_FFFF);
                queue.addUsed(chain, (int) written);
            }
            queue.publishUsed();
            queue.enableNotifications();
        }
        if (!memory.guardsIntact()) {
            throw new AssertionError("host memory next to the guest region was modified");
        }
    }

    /** A saved ring position: any 16-bit index for split rings; index below size plus wrap bit for packed. */
    private static int position(Input in, boolean packed, int size) {
        int p = in.bit() ? in.u16() : 0;
        return packed ? (p & 0x8000) | (p & 0x7FFF) % size : p;
    }

    private static long address(Input in, TestMemory memory, long scratch) {
        switch (in.u8() % 4) {
            case 0:
                return scratch + in.u16() % SCRATCH;
            case 1:
                return in.u64();
            case 2:
                return memory.end() - in.u8();
            default:
                return TestMemory.BASE - in.u8() + in.u16();
        }
    }

    private static void checkInsideMemory(DescriptorChain chain, GuestMemory map) {
        for (int i = 0; i < chain.count(); i++) {
            if (!map.contains(chain.address(i), Integer.toUnsignedLong(chain.length(i)))) {
                throw new AssertionError("chain hands out a buffer outside guest memory: " + chain);
            }
            if (chain.isWritable(i) != (i >= chain.readableCount())) {
                throw new AssertionError("readable and writable buffers interleave: " + chain);
            }
        }
    }

    /** Writes into every writable buffer, as a device would: must stay inside guest memory. */
    private static void scribble(DescriptorChain chain, GuestMemory map) {
        for (int i = chain.readableCount(); i < chain.count(); i++) {
            long length = Math.min(Integer.toUnsignedLong(chain.length(i)), 64);
            for (long b = 0; b < length; b++) {
                map.putByte(chain.address(i) + b, (byte) 0xEE);
            }
        }
    }

    /** Reads the input as little-endian numbers; zeros once it runs out. */
    private static final class Input {
        private final ByteBuffer bytes;

        Input(byte[] data) {
            bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean bit() {
            return (u8() & 1) != 0;
        }

        int u8() {
            return bytes.hasRemaining() ? bytes.get() & 0xFF : 0;
        }

        int u16() {
            return u8() | u8() << 8;
        }

        int u32() {
            return u16() | u16() << 16;
        }

        long u64() {
            return Integer.toUnsignedLong(u32()) | (long) u32() << 32;
        }
    }
}
