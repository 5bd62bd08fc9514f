package org.jvirtio.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.sink.SinkBackend;
import org.jvirtio.device.net.backend.source.SourceBackend;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * jvirtio's virtio-net back end for the DPDK comparison ({@code scripts/dpdk-vhost-baseline.py
 * --backend jvirtio}): one {@link NetDevice} served over vhost-user on a socket, with a
 * {@link SinkBackend} (the front end transmits: testpmd {@code txonly}) or a {@link SourceBackend} (the
 * front end receives: testpmd {@code rxonly}), until the process is stopped (SIGINT, SIGTERM).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.jvirtio.benchmarks.NetBackEndMain --socket PATH \
 *     --backend sink|source [--size 64] [--batch 32] [--queue-size 256] [--stats 1]
 * </pre>
 *
 * Every {@code --stats} seconds it prints the device's counters and rates in testpmd's words, one
 * line: {@code Rx-pps: N Tx-pps: N} from the driver's point of view is not what a back end sees, so the
 * line says {@code device-tx-pps} (frames the driver transmitted, taken by the device) and
 * {@code device-rx-pps} (frames the device delivered to the driver).
 */
public final class NetBackEndMain {
    private NetBackEndMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>(Map.of("socket", "", "backend", "sink", "size", "64",
                "batch", "32", "queue-size", "256", "stats", "1"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !opt.containsKey(args[i].substring(2))) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + opt.keySet());
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        if (opt.get("socket").isEmpty()) {
            throw new IllegalArgumentException("--socket PATH is required");
        }
        NetBackend backend = switch (opt.get("backend")) {
            case "sink" -> new SinkBackend();
            case "source" -> new SourceBackend(Integer.parseInt(opt.get("size")), Integer.parseInt(opt.get("batch")), 0);
            default -> throw new IllegalArgumentException("--backend sink|source: " + opt.get("backend"));
        };
        NetDevice device = new NetDevice(backend,
                NetDeviceOptions.builder().queueSize(Integer.parseInt(opt.get("queue-size"))).build());
        Path socket = Path.of(opt.get("socket"));
        Files.deleteIfExists(socket);
        VhostUserBackend server = VhostUserBackend.start(device, socket);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            done.countDown();
            server.close();
            System.out.println("final: " + counters(device));
            System.out.flush();
        }));
        System.out.println("serving " + device + " on " + socket);
        long period = (long) (Double.parseDouble(opt.get("stats")) * 1e9);
        long lastTx = 0;
        long lastRx = 0;
        long last = System.nanoTime();
        while (!done.await(period, java.util.concurrent.TimeUnit.NANOSECONDS)) {
            long now = System.nanoTime();
            long tx = device.count(NetCounter.TX_FRAMES);
            long rx = device.count(NetCounter.RX_FRAMES);
            double s = (now - last) / 1e9;
            System.out.printf(Locale.ROOT, "device-tx-pps: %d device-rx-pps: %d %s%n", Math.round((tx - lastTx) / s),
                    Math.round((rx - lastRx) / s), counters(device));
            lastTx = tx;
            lastRx = rx;
            last = now;
        }
    }

    private static String counters(NetDevice device) {
        StringBuilder b = new StringBuilder();
        for (NetCounter c : NetCounter.values()) {
            long n = device.count(c);
            if (n != 0) {
                b.append(b.length() == 0 ? "" : " ").append(c).append('=').append(n);
            }
        }
        return b.toString();
    }
}
