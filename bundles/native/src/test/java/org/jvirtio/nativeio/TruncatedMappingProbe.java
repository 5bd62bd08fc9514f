package org.jvirtio.nativeio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.nativeio.internal.LibC;

/**
 * Run in a child JVM by {@link TruncatedMappingTest}: maps a memfd, warms the access path up (or not),
 * truncates the file to 0 and touches the mapping the way guest memory is touched (direct ByteBuffer
 * views from {@link MappedMemory#slice}, through VarHandles, absolute gets and puts and bulk copies).
 * Prints one line per access: {@code <kind> -> <what happened>}; exits 0 when it got to the end.
 */
public final class TruncatedMappingProbe {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long PAGE = MappedMemory.pageSize();
    private static final int WARM = 30_000;
    static final java.util.Set<String> KINDS = java.util.Set.of("varhandle-read-widened", "varhandle-read",
            "buffer-read", "varhandle-write", "buffer-write", "bulk-read", "bulk-write");

    private TruncatedMappingProbe() {
    }

    public static void main(String[] args) throws Exception {
        boolean warm = args[0].equals("warm");
        java.util.Set<String> kinds = java.util.Set.of(args).size() > 1
                ? java.util.Set.of(java.util.Arrays.copyOfRange(args, 1, args.length)) : KINDS;
        try (NativeFd fd = Memfd.create("probe", 4 * PAGE);
             MappedMemory memory = MappedMemory.map(fd, 0, 4 * PAGE, true)) {
            ByteBuffer view = memory.slice(0, (int) (4 * PAGE));
            byte[] bulk = new byte[256];
            if (warm) {
                long sink = 0;
                for (int i = 0; i < WARM; i++) {
                    sink += varHandleReadWidened(view);
                    sink += varHandleRead(view);
                    sink += bufferRead(view);
                    varHandleWrite(view, i);
                    bufferWrite(view, i);
                    bulkRead(view, bulk);
                    bulkWrite(view, bulk);
                }
                System.out.println("warmed " + sink);
            }
            if (LibC.ftruncate(fd.value(), 0) < 0) {
                throw new IllegalStateException("ftruncate failed");
            }
            System.out.flush();
            probe(kinds, "varhandle-read-widened", () -> varHandleReadWidened(view));
            probe(kinds, "varhandle-read", () -> varHandleRead(view));
            probe(kinds, "buffer-read", () -> bufferRead(view));
            probe(kinds, "varhandle-write", () -> { varHandleWrite(view, 7); return 0; });
            probe(kinds, "buffer-write", () -> { bufferWrite(view, 7); return 0; });
            probe(kinds, "bulk-read", () -> { bulkRead(view, bulk); return 0; });
            probe(kinds, "bulk-write", () -> { bulkWrite(view, bulk); return 0; });
        }
        System.out.println("survived");
    }

    interface Access {
        long run();
    }

    /**
     * Runs one access; reports an InternalError thrown by it, or, if none, one that arrives later (the
     * compiled-code case is asynchronous): after a pure Java loop, after a JNA call, after a sleep.
     */
    private static void probe(java.util.Set<String> kinds, String kind, Access access) {
        if (!kinds.contains(kind)) {
            return;
        }
        System.out.println(kind + " starts");
        System.out.flush();
        String where = "inside the access";
        try {
            long value = access.run();
            where = "after a pure loop";
            long spin = value;
            for (int i = 0; i < 1_000_000; i++) {
                spin = spin * 31 + i;
            }
            where = "after a JNA call";
            MappedMemory.pageSize();
            LibC.sysconf(LibC.SC_PAGESIZE);
            where = "after Thread.sleep";
            Thread.sleep(20);
            where = "after System.gc";
            System.gc();
            Thread.sleep(20);
            System.out.println(kind + " -> no error (value " + value + ", " + spin + ")");
        } catch (InternalError e) {
            System.out.println(kind + " -> InternalError " + where + ": " + e.getMessage());
        } catch (Throwable t) {
            System.out.println(kind + " -> " + t + " " + where);
        }
    }

    /** {@code long += int}: C2 folds the widening into the load ({@code movslq reg, [mem]}). */
    private static long varHandleReadWidened(ByteBuffer view) {
        long sum = 0;
        for (long at = 0; at < 4 * PAGE; at += PAGE) {
            sum += (int) INT.get(view, (int) at + 8);
        }
        return sum;
    }

    /** {@code int += int}: a plain 32-bit load ({@code movl reg, [mem]} or {@code addl reg, [mem]}). */
    private static long varHandleRead(ByteBuffer view) {
        int sum = 0;
        for (long at = 0; at < 4 * PAGE; at += PAGE) {
            sum += (int) INT.get(view, (int) at + 8);
        }
        return sum;
    }

    private static long bufferRead(ByteBuffer view) {
        long sum = 0;
        for (long at = 0; at < 4 * PAGE; at += PAGE) {
            sum += view.getLong((int) at + 16); // movq reg, [mem]
        }
        return sum;
    }

    private static void varHandleWrite(ByteBuffer view, int value) {
        for (long at = 0; at < 4 * PAGE; at += PAGE) {
            INT.setRelease(view, (int) at + 24, value);
        }
    }

    private static void bufferWrite(ByteBuffer view, int value) {
        for (long at = 0; at < 4 * PAGE; at += PAGE) {
            view.putInt((int) at + 32, value);
        }
    }

    private static void bulkRead(ByteBuffer view, byte[] into) {
        view.get((int) PAGE, into);
    }

    private static void bulkWrite(ByteBuffer view, byte[] from) {
        view.put((int) (2 * PAGE), from);
    }
}
