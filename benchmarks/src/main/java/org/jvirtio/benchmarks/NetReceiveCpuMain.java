package org.jvirtio.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link NetReceiveBenchmark}'s loop measured in CPU time of the running thread rather than wall time:
 * on a machine shared with other work the thread's CPU nanoseconds per frame still mean something
 * when frames per wall-clock second do not (other processes take the core in between).
 *
 * <pre>
 * java -cp benchmarks.jar org.jvirtio.benchmarks.NetReceiveCpuMain [size] [inOrder] [rounds] [framesPerRound]
 * </pre>
 *
 * Prints each round's CPU ns per frame after a warm-up of three rounds, then the median.
 */
public final class NetReceiveCpuMain {
    private NetReceiveCpuMain() {
    }

    public static void main(String[] args) throws Exception {
        NetReceiveBenchmark b = new NetReceiveBenchmark();
        b.size = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        b.inOrder = args.length <= 1 || Boolean.parseBoolean(args[1]);
        b.mergeable = true;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        long frames = args.length > 3 ? Long.parseLong(args[3]) : 20_000_000L;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        b.setUp();
        double[] perFrame = new double[rounds];
        for (int r = -3; r < rounds; r++) {
            long start = threads.getCurrentThreadCpuTime();
            for (long n = 0; n < frames; n += NetReceiveBenchmark.BATCH) {
                b.receive();
            }
            double ns = (double) (threads.getCurrentThreadCpuTime() - start) / frames;
            if (r >= 0) {
                perFrame[r] = ns;
                System.out.printf(Locale.ROOT, "round %d: %.1f ns/frame%n", r, ns);
            }
        }
        b.tearDown();
        Arrays.sort(perFrame);
        System.out.printf(Locale.ROOT, "size=%d inOrder=%b median %.1f ns/frame (min %.1f, max %.1f)%n", b.size, b.inOrder,
                perFrame[rounds / 2], perFrame[0], perFrame[rounds - 1]);
    }
}
